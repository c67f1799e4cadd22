package protofields_test

import (
	"errors"
	"fmt"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/ecs-realm/realm/libs/protofields"
)

type field struct {
	num protowire.Number
	typ protowire.Type
	x   uint64
	v   string
}

func walk(b []byte) ([]field, error) {
	var got []field
	err := protofields.Each(b, func(num protowire.Number, typ protowire.Type, x uint64, v []byte) error {
		got = append(got, field{num, typ, x, string(v)})
		return nil
	})
	return got, err
}

func TestEachReportsFieldsInOrder(t *testing.T) {
	var b []byte
	b = protowire.AppendTag(b, 3, protowire.VarintType)
	b = protowire.AppendVarint(b, 300)
	b = protowire.AppendTag(b, 1, protowire.BytesType)
	b = protowire.AppendBytes(b, []byte("sub"))
	b = protowire.AppendTag(b, 7, protowire.StartGroupType) // skipped, contents too
	b = protowire.AppendTag(b, 1, protowire.VarintType)
	b = protowire.AppendVarint(b, 9)
	b = protowire.AppendTag(b, 7, protowire.EndGroupType)
	b = protowire.AppendTag(b, 2, protowire.Fixed32Type)
	b = protowire.AppendFixed32(b, 0xdeadbeef)
	b = protowire.AppendTag(b, 3, protowire.Fixed64Type)
	b = protowire.AppendFixed64(b, 1<<40)
	got, err := walk(b)
	want := []field{
		{3, protowire.VarintType, 300, ""},
		{1, protowire.BytesType, 0, "sub"},
		{2, protowire.Fixed32Type, 0xdeadbeef, ""},
		{3, protowire.Fixed64Type, 1 << 40, ""},
	}
	if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("Each = %v, %v; want %v", got, err, want)
	}
}

func TestEachRefusesMalformed(t *testing.T) {
	tests := map[string][]byte{
		"truncated varint":   {0x08, 0x80},
		"truncated bytes":    {0x0a, 0x05, 'a'},
		"field zero":         {0x00, 0x01},
		"end group alone":    protowire.AppendTag(nil, 7, protowire.EndGroupType),
		"unterminated group": protowire.AppendTag(nil, 7, protowire.StartGroupType),
		"truncated fixed32":  {0x15, 1, 2},
	}
	for name, b := range tests {
		if _, err := walk(b); !errors.Is(err, protofields.ErrMalformed) {
			t.Errorf("%s: Each = %v, want ErrMalformed", name, err)
		}
	}
}

func TestEachStopsAtCallbackError(t *testing.T) {
	b := protowire.AppendTag(nil, 1, protowire.VarintType)
	b = protowire.AppendVarint(b, 1)
	b = append(b, b...)
	stop := errors.New("stop")
	calls := 0
	err := protofields.Each(b, func(protowire.Number, protowire.Type, uint64, []byte) error {
		calls++
		return stop
	})
	if !errors.Is(err, stop) || calls != 1 {
		t.Fatalf("Each = %v after %d calls, want the callback's error after 1", err, calls)
	}
}
