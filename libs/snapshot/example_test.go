package snapshot_test

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/ecs-realm/realm/libs/snapshot"
	realmv1 "github.com/ecs-realm/realm/proto/realm/v1"
)

func ExampleAppendNearby() {
	// Encode each entity once per tick...
	a := snapshot.Entity{EntityID: 1, SessionID: 100, X: 10, Y: 10, VX: 5}
	b := snapshot.Entity{EntityID: 2, SessionID: 200, X: 12, Y: 10}
	chunkA := snapshot.AppendNearby(nil, &a)
	chunkB := snapshot.AppendNearby(nil, &b)

	// ...then a snapshot is a header, self, and copies of nearby chunks.
	buf := snapshot.AppendHeader(nil, 7, 3)             // server tick 7, last input 3
	buf = snapshot.AppendSelf(buf, chunkA, a.SessionID) // self carries the session id

	buf = append(buf, chunkB...)

	var s realmv1.Snapshot
	if err := proto.Unmarshal(buf, &s); err != nil {
		fmt.Println(err)
		return
	}
	self, near := s.GetSelf(), s.GetNearby()[0]
	fmt.Println(s.GetServerTick(), self.GetEntityId(), self.GetSessionId(), len(s.GetNearby()), near.GetEntityId(), near.GetSessionId(), near.GetPosition().GetX())
	// Output: 7 1 100 1 2 0 12
}
