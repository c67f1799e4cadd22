package bus_test

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/ecs-realm/realm/libs/bus"
	"github.com/ecs-realm/realm/libs/testutil/natstest"
	realmv1 "github.com/ecs-realm/realm/proto/realm/v1"
)

func benchBatch() *realmv1.InputBatch {
	m := &realmv1.InputBatch{IngressId: "ingress-1"}
	for i := range 32 {
		m.Inputs = append(m.Inputs, &realmv1.SessionInput{SessionId: uint64(i), Input: &realmv1.PlayerInput{}})
	}
	return m
}

// BenchmarkPublish publishes with the pooled marshal buffer;
// BenchmarkPublishMarshal is the baseline: proto.Marshal (a new slice per
// message) and nats.Conn.Publish.
func BenchmarkPublish(b *testing.B) {
	_, url := natstest.Start(b)
	c, err := bus.Connect(url, bus.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	m := benchBatch()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := c.Publish(bus.SubjectWorldInput, m); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkPublishMarshal(b *testing.B) {
	_, url := natstest.Start(b)
	c, err := bus.Connect(url, bus.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	m := benchBatch()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			data, err := proto.Marshal(m)
			if err == nil {
				err = c.NATS().Publish(bus.SubjectWorldInput, data)
			}
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
}
