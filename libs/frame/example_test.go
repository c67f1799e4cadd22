package frame_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/ecs-realm/realm/libs/frame"
	realmv1 "github.com/ecs-realm/realm/proto/realm/v1"
)

func Example() {
	var conn bytes.Buffer // stands in for a *tls.Conn

	var buf []byte
	for id := uint64(1); id <= 2; id++ {
		var err error
		buf, err = frame.Write(&conn, &realmv1.ClientMessage{RequestId: id, Body: &realmv1.ClientMessage_Ping{Ping: &realmv1.Ping{}}}, buf)
		if err != nil {
			fmt.Println(err)
			return
		}
	}

	r := frame.NewReader(&conn)
	for {
		var m realmv1.ClientMessage
		err := r.Read(&m)
		if errors.Is(err, io.EOF) {
			fmt.Println("clean end")
			return
		}
		if err != nil {
			fmt.Println(err) // ErrTooLarge / ErrMalformed: close the connection
			return
		}
		fmt.Println("request", m.GetRequestId(), "ping:", m.GetPing() != nil)
	}
	// Output:
	// request 1 ping: true
	// request 2 ping: true
	// clean end
}
