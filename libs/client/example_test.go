package client_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ecs-realm/realm/libs/client"
	realmv1 "github.com/ecs-realm/realm/proto/realm/v1"
)

// Example plays one session: log in, join the UDP plane, move for a few
// ticks while reading snapshots, and log out. It needs a running realm (the
// all-in-one writes its development CA to <data-dir>/tls/ca.pem), so it has
// no checked output.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	conn, err := client.Dial(ctx, client.Config{LoginAddr: "127.0.0.1:7777", CAFile: "data/tls/ca.pem"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer conn.Close()

	if _, err := conn.Register(ctx, "alice", "correct horse battery"); client.CodeOf(err) != realmv1.ErrorCode_ERROR_CODE_NAME_TAKEN && err != nil {
		fmt.Println(err)
		return
	}
	sess, err := conn.Login(ctx, "alice", "correct horse battery")
	var se *client.ServerError
	if errors.As(err, &se) {
		fmt.Println("refused:", se.Code) // INVALID_CREDENTIALS, RATE_LIMITED, ...
		return
	}
	if err != nil {
		fmt.Println(err)
		return
	}
	udp, err := sess.JoinUDP(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}

	tick := time.NewTicker(time.Second / time.Duration(max(sess.TickRateHz, 1)))
	defer tick.Stop()
	for seq := uint64(1); seq <= 100; {
		select {
		case <-tick.C:
			_ = udp.SendInput(&realmv1.PlayerInput{InputSequence: seq, Move: &realmv1.Vec2{X: 1}})
			seq++
		case s := <-udp.Snapshots():
			fmt.Println("at", s.Msg.GetSelf().GetPosition(), "acked input", s.Msg.GetLastInputSequence())
		case <-conn.Done():
			fmt.Println("session ended:", conn.Err()) // e.g. kicked: CLOSE_REASON_REPLACED
			return
		}
	}
	if err := conn.Logout(ctx); err != nil {
		fmt.Println(err)
	}
}
