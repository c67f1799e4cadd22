package wire_test

import (
	"fmt"
	"time"

	"github.com/ecs-realm/realm/libs/wire"
)

// Example walks one session through the protocol: login seals a token,
// the client sends a handshake and an input, ingress verifies both.
func Example() {
	now := time.Now()

	// login: a session with fresh keys, sealed with the shared token key.
	tokenKey, _ := wire.NewKey()
	tokens, _ := wire.NewTokenCodec(tokenKey)
	c2sKey, _ := wire.NewKey()
	s2cKey, _ := wire.NewKey()
	token, _ := tokens.Seal(nil, wire.ConnectToken{
		SessionID: 7, AccountID: 1, Expires: now.Add(time.Minute),
		ClientKey: c2sKey, ServerKey: s2cKey,
	})

	// client: one counter for the handshake and its data packets.
	clientSeq := wire.NewSequence(now)
	clientC2S := wire.NewAEAD(c2sKey)
	hello, _ := wire.AppendHandshake(nil, clientC2S, clientSeq.Next(), 7, token)
	input, _ := wire.SealPacket(nil, clientC2S, wire.TypeInput, clientSeq.Next(), []byte("input"))

	// ingress: verify the handshake, then open data packets with its AEAD.
	hs, c2s, err := wire.OpenHandshake(tokens, hello, now)
	if err != nil {
		fmt.Println("handshake:", err)
		return
	}
	var window wire.ReplayWindow
	_ = window.Accept(hs.Seq) // a replayed handshake must not rebind the session
	fmt.Println("handshake:", len(hello), "bytes, session", hs.SessionID, "account", hs.Token.AccountID)

	h, _ := wire.ParseHeader(input)
	if err := window.Check(h.Seq); err != nil {
		fmt.Println("drop:", err)
		return
	}
	h, pt, err := wire.OpenPacket(nil, c2s, input)
	if err != nil {
		fmt.Println("drop:", err)
		return
	}
	if err := window.Accept(h.Seq); err != nil {
		fmt.Println("drop:", err)
		return
	}
	fmt.Printf("%s: %q\n", h.Type, pt)

	// The same packet again is a replay.
	_, _, _ = wire.OpenPacket(nil, c2s, input)
	fmt.Println("again:", window.Accept(h.Seq))
	// Output:
	// handshake: 512 bytes, session 7 account 1
	// input: "input"
	// again: wire: replayed packet
}

func ExampleParseKey() {
	k, err := wire.ParseKey("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n")
	fmt.Println(k.Hex()[:8], err)
	fmt.Println(k) // redacted
	_, err = wire.ParseKey("00")
	fmt.Println(err)
	// Output:
	// 00010203 <nil>
	// wire.Key(redacted)
	// parse key: 2 characters, want 64: wire: invalid key
}
