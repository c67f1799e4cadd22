package ingress

import (
	"bytes"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/ecs-realm/realm/libs/bus"
	"github.com/ecs-realm/realm/libs/wire"
	realmv1 "github.com/ecs-realm/realm/proto/realm/v1"
)

// publishSnapshot publishes, as the world would, one snapshot with tick for
// session on the service's subject.
func publishSnapshot(t *testing.T, e *env, session, tick uint64) {
	t.Helper()
	enc, err := proto.Marshal(&realmv1.Snapshot{ServerTick: tick})
	if err != nil {
		t.Fatal(err)
	}
	batch := &realmv1.SnapshotBatch{ServerTick: tick, Snapshots: []*realmv1.SessionSnapshot{{SessionId: session, Snapshot: enc}}}
	if err := e.obs.Publish(bus.IngressOutSubject(e.svc.cfg.ID), batch); err != nil {
		t.Fatal(err)
	}
}

// skippedUnconfirmed waits until the service has skipped want snapshots for
// an unconfirmed endpoint.
func skippedUnconfirmed(t *testing.T, e *env, want float64) {
	t.Helper()
	waitFor(t, "snapshots skipped as unconfirmed", func() bool {
		return counter(t, e.svc.m.skipped[skipUnconfirmed]) == want
	})
}

// TestSnapshotsWaitForConfirmation is the return-routability check: a
// handshake binds its source endpoint, but snapshots go there only once a
// KeepAlive from it echoes the ack's challenge. A logged-in client that
// handshakes with a spoofed source (here: from the victim's socket, which
// the attacker cannot read) gets the victim one ack, no larger than the
// request, and no snapshot stream, however many authenticated keep-alives it
// spoofs.
func TestSnapshotsWaitForConfirmation(t *testing.T) {
	e := newEnv(t, Config{ID: "ingress-rr"})
	attacker := e.newClient(61)
	victim := e.socket()
	spoofed := *attacker // the attacker's keys, the victim's address
	spoofed.conn = victim

	ack := spoofed.handshakeOnly() // the victim's socket receives the ack
	if st, ep, ok := e.svc.reg.Bound(61); !ok || ep != spoofed.addr() || st.confirmed.Load() {
		t.Fatalf("after the handshake: bound %v to %v, confirmed %v; want bound to the victim, unconfirmed", ok, ep, ok && st.confirmed.Load())
	}
	publishSnapshot(t, e, 61, 1)
	skippedUnconfirmed(t, e, 1)

	// Keep-alives keep the binding, but confirm nothing: without the
	// challenge, or with a guessed one.
	spoofed.send(spoofed.dataPacket(wire.TypeKeepAlive, nil))
	guess := bytes.Repeat([]byte{7}, challengeSize)
	spoofed.echo(guess)
	waitFor(t, "a wrong challenge counted", func() bool { return counter(t, e.svc.m.confirmations[confirmWrong]) == 1 })
	waitFor(t, "the plain keep-alive counted", func() bool { return counter(t, e.svc.m.keepAlives) == 1 })
	publishSnapshot(t, e, 61, 2)
	skippedUnconfirmed(t, e, 2)
	spoofed.expectSilence("unconfirmed endpoint")

	// The genuine client at that address echoes the challenge it received:
	// now the snapshots come.
	spoofed.echo(ack.GetChallenge())
	waitFor(t, "the confirmation counted", func() bool { return counter(t, e.svc.m.confirmations[confirmOK]) == 1 })
	publishSnapshot(t, e, 61, 3)
	got := new(realmv1.Snapshot)
	spoofed.open(wire.TypeSnapshot, got)
	if got.GetServerTick() != 3 {
		t.Errorf("snapshot tick %d, want 3", got.GetServerTick())
	}

	// A handshake re-sent from the confirmed endpoint changes nothing: the
	// same challenge, still confirmed.
	again := spoofed.handshakeOnly()
	if !bytes.Equal(again.GetChallenge(), ack.GetChallenge()) {
		t.Error("a repeated handshake from the bound endpoint got a new challenge")
	}
	publishSnapshot(t, e, 61, 4)
	spoofed.open(wire.TypeSnapshot, got)
	if got.GetServerTick() != 4 {
		t.Errorf("snapshot tick %d, want 4", got.GetServerTick())
	}
	if n := counter(t, e.svc.m.skipped[skipUnconfirmed]); n != 2 {
		t.Errorf("%v snapshots skipped as unconfirmed, want 2", n)
	}
}

// TestRebindNeedsNewConfirmation: a session that moves to a new endpoint gets
// a new challenge there, and no snapshot until the new endpoint echoes it;
// the old challenge does not confirm it.
func TestRebindNeedsNewConfirmation(t *testing.T) {
	e := newEnv(t, Config{ID: "ingress-rr2"})
	c := e.newClient(62)
	first := c.handshake() // confirmed at the first socket
	moved := c.sibling()
	second := moved.handshakeOnly()
	if bytes.Equal(first.GetChallenge(), second.GetChallenge()) {
		t.Fatal("the new binding kept the old challenge")
	}
	publishSnapshot(t, e, 62, 1)
	skippedUnconfirmed(t, e, 1)

	moved.echo(first.GetChallenge()) // an echo that crossed the new handshake
	waitFor(t, "the old challenge refused", func() bool { return counter(t, e.svc.m.confirmations[confirmWrong]) == 1 })
	publishSnapshot(t, e, 62, 2)
	skippedUnconfirmed(t, e, 2)

	moved.echo(second.GetChallenge())
	waitFor(t, "the new endpoint confirmed", func() bool {
		st, ep, ok := e.svc.reg.Bound(62)
		return ok && ep == moved.addr() && st.confirmed.Load()
	})
	publishSnapshot(t, e, 62, 3)
	got := new(realmv1.Snapshot)
	moved.open(wire.TypeSnapshot, got)
	if got.GetServerTick() != 3 {
		t.Errorf("snapshot tick %d, want 3", got.GetServerTick())
	}
	c.expectSilence("the old endpoint")
}

// TestMalformedKeepAlive: a KeepAlive whose plaintext is not a KeepAlive
// message is dropped as malformed and confirms nothing.
func TestMalformedKeepAlive(t *testing.T) {
	e := newEnv(t, Config{})
	c := e.newClient(63)
	c.handshakeOnly()
	p, err := wire.SealPacket(nil, c.c2s, wire.TypeKeepAlive, c.seq.Next(), []byte{0x0a, 0x20, 1}) // challenge of 32 bytes, 1 there
	if err != nil {
		t.Fatal(err)
	}
	c.send(p)
	waitFor(t, "the malformed keep-alive dropped", func() bool { return counter(t, e.svc.m.dropped[dropMalformed]) == 1 })
	if st, _ := e.svc.reg.Get(63); st.confirmed.Load() {
		t.Error("confirmed by a malformed keep-alive")
	}
}

func TestDecodeKeepAlive(t *testing.T) {
	challenge := []byte("0123456789abcdef")
	enc := func(m *realmv1.KeepAlive) []byte {
		b, err := proto.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	withUnknown := append([]byte{0x10, 0x05}, enc(&realmv1.KeepAlive{Challenge: challenge})...) // field 2 varint, then the challenge
	for _, tc := range []struct {
		name string
		in   []byte
		want []byte // nil: none
		ok   bool
	}{
		{"empty", nil, nil, true},
		{"challenge", enc(&realmv1.KeepAlive{Challenge: challenge}), challenge, true},
		{"unknown field skipped", withUnknown, challenge, true},
		{"last one wins", append(enc(&realmv1.KeepAlive{Challenge: []byte("old")}), enc(&realmv1.KeepAlive{Challenge: challenge})...), challenge, true},
		{"present but empty", []byte{0x0a, 0x00}, []byte{}, true},
		{"truncated", []byte{0x0a, 0x10, 1, 2}, nil, false},
		{"bad tag", []byte{0x80}, nil, false},
		{"field zero", []byte{0x02, 0x00}, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := decodeKeepAlive(tc.in)
			if ok != tc.ok || !bytes.Equal(got, tc.want) || (got == nil) != (tc.want == nil) {
				t.Errorf("decodeKeepAlive(%x) = %x (nil %v), %v; want %x (nil %v), %v", tc.in, got, got == nil, ok, tc.want, tc.want == nil, tc.ok)
			}
			// Whatever proto.Unmarshal accepts, decodeKeepAlive accepts alike.
			var m realmv1.KeepAlive
			if perr := proto.Unmarshal(tc.in, &m); (perr == nil) != ok {
				t.Errorf("proto.Unmarshal error %v, decodeKeepAlive ok %v", perr, ok)
			} else if ok && !bytes.Equal(m.GetChallenge(), got) {
				t.Errorf("proto.Unmarshal challenge %x, decodeKeepAlive %x", m.GetChallenge(), got)
			}
		})
	}
}
