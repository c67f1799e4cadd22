package sim_test

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/ecs-realm/realm/libs/snapshot"
	realmv1 "github.com/ecs-realm/realm/proto/realm/v1"
	"github.com/ecs-realm/realm/services/world/internal/sim"
)

// A World is stepped by hand: apply events, step one tick, read the batches.
func ExampleWorld() {
	w, err := sim.New(sim.Config{TickRate: 10, MaxSpeed: 5}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	w.Apply(&realmv1.EndpointBound{SessionId: 7, Endpoint: "198.51.100.1:5000", IngressId: "ingress-1"})
	w.Apply(&realmv1.InputBatch{Inputs: []*realmv1.SessionInput{
		{SessionId: 7, Input: &realmv1.PlayerInput{InputSequence: 1, Move: &realmv1.Vec2{X: 3}}}, // clamped to 1
	}})
	x0, _ := sim.SpawnPoint(7, 1000)

	for _, b := range w.Step() { // one tick: 0.1 s at 5 units/s
		// Each snapshot is a view of the batch's entities, which ingress
		// assembles before sealing it, as snapshot.Reader does.
		var r snapshot.Reader
		err := r.Read(b.Payload, func(session uint64, snap []byte, err error) {
			var s realmv1.Snapshot
			if err == nil {
				err = proto.Unmarshal(snap, &s)
			}
			if err != nil {
				fmt.Println(err)
				return
			}
			fmt.Printf("to %s: session %d, tick %d, input %d, moved %.2f\n", b.IngressID, session, s.GetServerTick(),
				s.GetLastInputSequence(), s.GetSelf().GetPosition().GetX()-x0)
		})
		if err != nil {
			fmt.Println(err)
		}
	}
	// Output: to ingress-1: session 7, tick 1, input 1, moved 0.50
}
