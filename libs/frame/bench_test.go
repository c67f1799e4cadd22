package frame

import (
	"bytes"
	"io"
	"testing"

	"google.golang.org/protobuf/proto"

	realmv1 "github.com/ecs-realm/realm/proto/realm/v1"
)

var benchMsg = &realmv1.ClientMessage{RequestId: 7, Body: &realmv1.ClientMessage_Login{
	Login: &realmv1.LoginRequest{Name: "alice", Password: "correct horse battery"},
}}

// BenchmarkWrite is the framed write with a reused buffer; BenchmarkMarshal is
// the baseline: proto.Marshal alone, which allocates a fresh slice.
func BenchmarkWrite(b *testing.B) {
	b.ReportAllocs()
	var buf []byte
	for b.Loop() {
		buf, _ = Write(io.Discard, benchMsg, buf)
	}
}

func BenchmarkMarshal(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		out, _ := proto.Marshal(benchMsg)
		_, _ = io.Discard.Write(out)
	}
}

// BenchmarkRead decodes one frame per iteration into a fresh message;
// BenchmarkUnmarshal is the baseline: proto.Unmarshal of the same body.
func BenchmarkRead(b *testing.B) {
	b.ReportAllocs()
	frame, _ := Write(io.Discard, benchMsg, nil)
	src := bytes.NewReader(frame)
	r := NewReader(src)
	for b.Loop() {
		src.Reset(frame)
		if err := r.Read(&realmv1.ClientMessage{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUnmarshal(b *testing.B) {
	b.ReportAllocs()
	body, _ := proto.Marshal(benchMsg)
	for b.Loop() {
		if err := proto.Unmarshal(body, &realmv1.ClientMessage{}); err != nil {
			b.Fatal(err)
		}
	}
}
