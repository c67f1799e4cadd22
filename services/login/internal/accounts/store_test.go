package accounts

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/ecs-realm/realm/libs/bus"
	"github.com/ecs-realm/realm/libs/testutil/natstest"
)

// jetStream connects to a fresh embedded NATS server with JetStream.
func jetStream(t testing.TB) jetstream.JetStream {
	t.Helper()
	_, url := natstest.Start(t)
	return connectJS(t, url)
}

func connectJS(t testing.TB, url string) jetstream.JetStream {
	t.Helper()
	nc, err := bus.Connect(url, bus.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := nc.JetStream()
	if err != nil {
		t.Fatal(err)
	}
	return js
}

func openStore(t testing.TB, js jetstream.JetStream, cfg Config) *Store {
	t.Helper()
	if cfg.Params == (Params{}) {
		cfg.Params = TestParams
	}
	s, err := Open(context.Background(), js, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRegisterVerify(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, jetStream(t), Config{})
	rec, err := s.Register(ctx, "Alice", "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if rec.ID == 0 || rec.Name != "Alice" {
		t.Fatalf("registered %+v", rec)
	}

	got, err := s.Verify(ctx, "alice", "correct horse") // names ignore case
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != rec.ID || got.Name != "Alice" {
		t.Fatalf("verified %+v, want id %d name Alice", got, rec.ID)
	}

	tests := []struct {
		name, user, pass string
	}{
		{"wrong password", "Alice", "wrong horse"},
		{"unknown name", "Bob", "correct horse"},
		{"invalid name", "a b", "correct horse"},
		{"short password", "Alice", "short"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Verify(ctx, tc.user, tc.pass)
			if !errors.Is(err, ErrInvalidCredentials) {
				t.Fatalf("Verify = %v, want ErrInvalidCredentials", err)
			}
		})
	}
}

func TestRegisterErrors(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, jetStream(t), Config{})
	if _, err := s.Register(ctx, "Alice", "correct horse"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, user, pass string
		want             error
	}{
		{"taken", "Alice", "another one", ErrNameTaken},
		{"taken ignoring case", "ALICE", "another one", ErrNameTaken},
		{"invalid name", "a", "another one", ErrInvalidName},
		{"invalid password", "Carol", "short", ErrInvalidPassword},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := s.Register(ctx, tc.user, tc.pass); !errors.Is(err, tc.want) {
				t.Fatalf("Register = %v, want %v", err, tc.want)
			}
		})
	}
}

// TestConcurrentRegister: of many registrations of one name racing (past
// the early Get), exactly one succeeds and the others see ErrNameTaken.
func TestConcurrentRegister(t *testing.T) {
	ctx := context.Background()
	js := jetStream(t)
	s := openStore(t, js, Config{})
	const n = 8
	var ok, taken atomic.Int32
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			_, err := s.Register(ctx, "Racer", "password1")
			switch {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, ErrNameTaken):
				taken.Add(1)
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 1 || taken.Load() != n-1 {
		t.Fatalf("%d succeeded, %d taken; want 1 and %d", ok.Load(), taken.Load(), n-1)
	}
	// The losers gave their account ids back: one id key remains.
	kv, err := js.KeyValue(ctx, BucketName)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := kv.Keys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 {
		t.Fatalf("bucket keys %v, want the name and one id", keys)
	}
}

// TestParamsTravelWithRecord: raising the cost does not break old accounts.
func TestParamsTravelWithRecord(t *testing.T) {
	ctx := context.Background()
	js := jetStream(t)
	old := openStore(t, js, Config{Params: TestParams})
	if _, err := old.Register(ctx, "Oldtimer", "password1"); err != nil {
		t.Fatal(err)
	}
	stronger := openStore(t, js, Config{Params: Params{Time: 2, MemoryKiB: 128, Threads: 1}})
	if _, err := stronger.Verify(ctx, "Oldtimer", "password1"); err != nil {
		t.Fatalf("old record with new params: %v", err)
	}
}

func TestCorruptRecord(t *testing.T) {
	ctx := context.Background()
	js := jetStream(t)
	s := openStore(t, js, Config{})
	kv, err := js.KeyValue(ctx, BucketName)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(ctx, "broken", []byte{9, 9}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Verify(ctx, "broken", "password1"); !errors.Is(err, ErrBadRecord) {
		t.Fatalf("Verify = %v, want ErrBadRecord", err)
	}
}

// TestHashSlots: with every slot taken, a hash waits and gives up with its
// context.
func TestHashSlots(t *testing.T) {
	h := newHasher(1)
	h.slots <- struct{}{} // occupy the only slot
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := h.hash(ctx, []byte("pw"), []byte("salt0123"), TestParams, HashSize); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("hash with no slot = %v, want DeadlineExceeded", err)
	}
	<-h.slots
	if _, err := h.hash(context.Background(), []byte("pw"), []byte("salt0123"), TestParams, HashSize); err != nil {
		t.Fatal(err)
	}
	if len(h.slots) != 0 {
		t.Fatal("slot not returned")
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
	}{
		{"replicas", Config{Replicas: 6}},
		{"params", Config{Params: Params{Time: 1, MemoryKiB: 4, Threads: 1}}},
		{"hashes", Config{MaxConcurrentHashes: -1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.cfg.fill(); err == nil {
				t.Fatal("fill accepted a bad config")
			}
		})
	}
	var c Config
	if err := c.fill(); err != nil {
		t.Fatal(err)
	}
	if c.Params != DefaultParams || c.Replicas != 1 || c.MaxConcurrentHashes < 1 {
		t.Fatalf("defaults: %+v", c)
	}
}

// BenchmarkVerify compares the test cost with the production default; the
// gap is what MaxConcurrentHashes protects memory from.
func BenchmarkVerify(b *testing.B) {
	js := jetStream(b)
	for _, bc := range []struct {
		name string
		p    Params
	}{{"test-64KiB", TestParams}, {"default-64MiB", DefaultParams}} {
		b.Run(bc.name, func(b *testing.B) {
			ctx := context.Background()
			s := openStore(b, js, Config{Params: bc.p})
			name := "bench" + bc.name[:4]
			if _, err := s.Register(ctx, name, "password1"); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Verify(ctx, name, "password1"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
