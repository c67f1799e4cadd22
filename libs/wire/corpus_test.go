package wire

import (
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The committed seed corpus in testdata/fuzz/<FuzzName>/ is made by the
// generators below. Regenerate it with
//
//	go test ./libs/wire -run TestFuzzCorpus -update-corpus
//
// (tokens have random nonces, so the files change on every run). Without the
// flag, TestFuzzCorpus checks that every generated seed is committed and still
// does what its name says; `go test` also runs every committed file through
// its fuzz target.
var updateCorpus = flag.Bool("update-corpus", false, "rewrite testdata/fuzz from the seed generators")

// seed is one corpus entry: a file name, the fuzz arguments and whether the
// target accepts it (nil) or the error it must fail with.
type seed struct {
	name string
	args []any
	err  error
}

func packetSeeds(t testing.TB) []seed {
	c2s := NewAEAD(testClientKey)
	input := mustSealPacket(t, c2s, TypeInput, 1_893_553_445_000_000_000, bytes.Repeat([]byte{0x08, 0x01}, 32))
	keep := mustSealPacket(t, c2s, TypeKeepAlive, 7, nil)
	ack := mustSealPacket(t, c2s, TypeHandshakeAck, math.MaxUint64, []byte{0x08, 0x01, 0x12, 0x03, 'a', ':', '1'})
	wrongDir := mustSealPacket(t, NewAEAD(testServerKey), TypeSnapshot, 9, []byte("snapshot"))
	flipped := bytes.Clone(input)
	flipped[HeaderSize] ^= 1
	return []seed{
		{"valid_input", []any{input}, nil},
		{"valid_keepalive", []any{keep}, nil},
		{"valid_ack_max_seq", []any{ack}, nil},
		{"wrong_direction", []any{wrongDir}, ErrAuth},
		{"flipped", []any{flipped}, ErrAuth},
		{"truncated", []any{input[:HeaderSize+TagSize-1]}, ErrTruncated},
		{"unknown_type", []any{append([]byte{0x42}, input[1:]...)}, ErrUnknownType},
		{"handshake", []any{mustHandshake(t, 3)}, ErrWrongType},
		{"empty", []any{[]byte{}}, ErrTruncated},
	}
}

func tokenSeeds(t testing.TB) []seed {
	codec := mustTokenCodec(t, testTokenKey)
	tok := mustSealToken(t, codec, testToken())
	now := testNow.UnixMilli()
	v2 := bytes.Clone(tok)
	v2[0] = 2
	return []seed{
		{"valid", []any{tok, now}, nil},
		{"valid_last_ms", []any{tok, testExpires.UnixMilli() - 1}, nil},
		{"expired", []any{tok, testExpires.UnixMilli()}, ErrTokenExpired},
		{"before_epoch", []any{tok, int64(-1)}, ErrTokenExpired},
		{"other_key", []any{mustSealToken(t, mustTokenCodec(t, seqKey(0x11)), testToken()), now}, ErrTokenInvalid},
		{"version_2", []any{v2, now}, ErrTokenVersion},
		{"short", []any{tok[:TokenSize-1], now}, ErrTokenSize},
	}
}

func replaySeeds() []seed {
	op := func(accept bool, mode byte, operand ...byte) []byte {
		ctl := mode << 1
		if accept {
			ctl |= 1
		}
		return append([]byte{ctl}, operand...)
	}
	abs := func(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	return []seed{
		{"in_order", []any{cat(op(true, 0, abs(1000)...), op(true, 3, 1), op(true, 3, 1), op(true, 3, 1))}, nil},
		{"replay", []any{cat(op(true, 0, abs(50)...), op(false, 3, 0), op(true, 3, 0))}, nil},
		{"window_edge", []any{cat(op(true, 0, abs(5000)...), op(true, 2, 0, 255), op(true, 2, 1, 0), op(true, 2, 0, 255))}, nil},
		{"near_max", []any{cat(op(true, 0, abs(math.MaxUint64-3)...), op(true, 3, 3), op(true, 3, 0x80), op(true, 1, 0, 1))}, nil},
		{"huge_jump", []any{cat(op(true, 0, abs(1)...), op(true, 0, abs(1<<63)...), op(false, 0, abs(1)...), op(true, 2, 0, 200))}, nil},
		{"word_slides", []any{cat(op(true, 0, abs(63)...), op(true, 1, 0, 1), op(true, 1, 0, 64), op(true, 1, 1, 64), op(true, 2, 1, 0))}, nil},
	}
}

func handshakeSeeds(t testing.TB) []seed {
	codec := mustTokenCodec(t, testTokenKey)
	c2s := NewAEAD(testClientKey)
	token := mustSealToken(t, codec, testToken())
	build := func(sessionID uint64, tok []byte) []byte {
		p, err := AppendHandshake(nil, c2s, 1_893_553_445_000_000_000, sessionID, tok)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	other := testToken()
	other.SessionID = 99
	expired := testToken()
	expired.Expires = testNow.Add(-time.Minute)
	valid := build(testSessionID, token)
	padded := bytes.Clone(valid)
	padded[MinHandshakeSize-TagSize-1] = 1
	return []seed{
		{"valid", []any{valid}, nil},
		{"nonzero_padding", []any{padded}, ErrMalformed},
		{"other_session", []any{build(testSessionID, mustSealToken(t, codec, other))}, ErrSessionMismatch},
		{"expired_token", []any{build(testSessionID, mustSealToken(t, codec, expired))}, ErrTokenExpired},
		{"no_token", []any{build(testSessionID, nil)}, ErrTokenSize},
		{"wrong_key", []any{func() []byte {
			p, _ := AppendHandshake(nil, NewAEAD(testServerKey), 1, testSessionID, token)
			return p
		}()}, ErrAuth},
		{"too_small", []any{valid[:MinHandshakeSize-1]}, ErrHandshakeTooSmall},
	}
}

// corpora maps each fuzz target to its seeds and a function that runs one
// seed the way the target does and returns its error.
func corpora(t testing.TB) map[string]struct {
	seeds []seed
	run   func(args []any) error
} {
	codec := mustTokenCodec(t, testTokenKey)
	c2s := NewAEAD(testClientKey)
	type corpus = struct {
		seeds []seed
		run   func(args []any) error
	}
	return map[string]corpus{
		"FuzzOpenPacket": {packetSeeds(t), func(a []any) error {
			_, _, err := OpenPacket(nil, c2s, a[0].([]byte))
			return err
		}},
		"FuzzOpenToken": {tokenSeeds(t), func(a []any) error {
			_, err := codec.Open(a[0].([]byte), time.UnixMilli(a[1].(int64)))
			return err
		}},
		"FuzzReplayWindow": {replaySeeds(), func(a []any) error { return nil }},
		"FuzzOpenHandshake": {handshakeSeeds(t), func(a []any) error {
			_, _, err := OpenHandshake(codec, a[0].([]byte), testNow)
			return err
		}},
	}
}

func TestFuzzCorpus(t *testing.T) {
	for name, c := range corpora(t) {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join("testdata", "fuzz", name)
			if *updateCorpus {
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			for _, s := range c.seeds {
				path := filepath.Join(dir, s.name)
				if *updateCorpus {
					if err := os.WriteFile(path, marshalCorpus(s.args), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				data, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("seed missing (run with -update-corpus): %v", err)
				}
				args, err := unmarshalCorpus(data)
				if err != nil {
					t.Fatalf("%s: %v", path, err)
				}
				if err := c.run(args); err != s.err {
					t.Errorf("%s: err = %v, want %v", path, err, s.err)
				}
			}
		})
	}
}

// marshalCorpus writes fuzz arguments in the `go test fuzz v1` format.
func marshalCorpus(args []any) []byte {
	var b strings.Builder
	b.WriteString("go test fuzz v1\n")
	for _, a := range args {
		switch v := a.(type) {
		case []byte:
			fmt.Fprintf(&b, "[]byte(%q)\n", v)
		case int64:
			fmt.Fprintf(&b, "int64(%d)\n", v)
		default:
			panic(fmt.Sprintf("corpus type %T", a))
		}
	}
	return []byte(b.String())
}

// unmarshalCorpus reads the subset of the format marshalCorpus writes.
func unmarshalCorpus(data []byte) ([]any, error) {
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if lines[0] != "go test fuzz v1" {
		return nil, fmt.Errorf("bad header %q", lines[0])
	}
	var args []any
	for _, l := range lines[1:] {
		switch {
		case strings.HasPrefix(l, "[]byte(") && strings.HasSuffix(l, ")"):
			s, err := strconv.Unquote(l[len("[]byte(") : len(l)-1])
			if err != nil {
				return nil, err
			}
			args = append(args, []byte(s))
		case strings.HasPrefix(l, "int64(") && strings.HasSuffix(l, ")"):
			n, err := strconv.ParseInt(l[len("int64("):len(l)-1], 10, 64)
			if err != nil {
				return nil, err
			}
			args = append(args, n)
		default:
			return nil, fmt.Errorf("unsupported line %q", l)
		}
	}
	return args, nil
}
