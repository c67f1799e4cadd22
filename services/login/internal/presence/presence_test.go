package presence

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/ecs-realm/realm/libs/bus"
	"github.com/ecs-realm/realm/libs/testutil/natstest"
	"github.com/ecs-realm/realm/libs/testutil/wait"
)

func connectJS(t testing.TB, url string) (*bus.Conn, jetstream.JetStream) {
	t.Helper()
	return connectJSWith(t, url, bus.Options{})
}

func connectJSWith(t testing.TB, url string, opts bus.Options) (*bus.Conn, jetstream.JetStream) {
	t.Helper()
	nc, err := bus.Connect(url, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := nc.JetStream()
	if err != nil {
		t.Fatal(err)
	}
	return nc, js
}

func open(t testing.TB, js jetstream.JetStream, loginID string) *Table {
	t.Helper()
	tb, err := Open(context.Background(), js, Config{}, loginID)
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

func TestEntryEncoding(t *testing.T) {
	e := Entry{SessionID: 42, LoginID: "login-1"}
	b, err := e.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var got Entry
	if err := got.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if got.SessionID != 42 || got.LoginID != "login-1" {
		t.Fatalf("got %+v", got)
	}
	for n := range 9 {
		if err := got.UnmarshalBinary(b[:n]); !errors.Is(err, ErrBadEntry) {
			t.Fatalf("prefix %d: %v", n, err)
		}
	}
	if _, err := (Entry{}).MarshalBinary(); !errors.Is(err, ErrBadEntry) {
		t.Fatalf("session 0 encoded: %v", err)
	}
	b[0] = 2
	if err := got.UnmarshalBinary(b); !errors.Is(err, ErrBadEntry) {
		t.Fatalf("version 2 decoded: %v", err)
	}
}

func TestClaimReplaceRelease(t *testing.T) {
	ctx := context.Background()
	_, url := natstest.Start(t)
	_, js := connectJS(t, url)
	a, b := open(t, js, "a"), open(t, js, "b")

	first, _, had, err := a.Claim(ctx, 7, 100)
	if err != nil || had {
		t.Fatalf("first claim: had=%v err=%v", had, err)
	}
	second, replaced, had, err := b.Claim(ctx, 7, 200)
	if err != nil {
		t.Fatal(err)
	}
	if !had || replaced.SessionID != 100 || replaced.LoginID != "a" || replaced.Revision != first.Revision {
		t.Fatalf("replaced %+v (had %v), want session 100 of a at rev %d", replaced, had, first.Revision)
	}
	if second.Revision <= first.Revision {
		t.Fatalf("revisions %d then %d", first.Revision, second.Revision)
	}
	// The replaced session's release leaves the successor alone.
	if ok, err := a.Release(ctx, first); err != nil || ok {
		t.Fatalf("stale release: ok=%v err=%v", ok, err)
	}
	if e, ok, err := a.Get(ctx, 7); err != nil || !ok || e.SessionID != 200 {
		t.Fatalf("live entry %+v ok=%v err=%v, want session 200", e, ok, err)
	}
	if ok, err := b.Release(ctx, second); err != nil || !ok {
		t.Fatalf("own release: ok=%v err=%v", ok, err)
	}
	if _, ok, err := a.Get(ctx, 7); err != nil || ok {
		t.Fatalf("entry after release: ok=%v err=%v", ok, err)
	}
	// A released (deleted) key can be claimed again.
	if _, _, had, err := a.Claim(ctx, 7, 300); err != nil || had {
		t.Fatalf("claim after release: had=%v err=%v", had, err)
	}
}

// TestWatchOrder: concurrent claims of one account from two tables, then a
// release; the watchers of both see changes in increasing revision order,
// ending with the release.
func TestWatchOrder(t *testing.T) {
	ctx := context.Background()
	_, url := natstest.Start(t)
	_, js1 := connectJS(t, url)
	_, js2 := connectJS(t, url)
	a, b := open(t, js1, "a"), open(t, js2, "b")

	type seen struct {
		mu sync.Mutex
		es []Entry
	}
	var sa, sb seen
	watch := func(tb *Table, s *seen) {
		w, err := tb.Watch(ctx, func(e Entry) {
			s.mu.Lock()
			s.es = append(s.es, e)
			s.mu.Unlock()
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = w.Stop() })
	}
	watch(a, &sa)
	watch(b, &sb)

	const perSide = 20
	var wg sync.WaitGroup
	for i, tb := range []*Table{a, b} {
		wg.Go(func() {
			for j := range perSide {
				if _, _, _, err := tb.Claim(ctx, 9, uint64(1000*(i+1)+j+1)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	live, ok, err := a.Get(ctx, 9)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	if released, err := b.Release(ctx, live); err != nil || !released {
		t.Fatalf("release: %v %v", released, err)
	}
	for name, s := range map[string]*seen{"a": &sa, "b": &sb} {
		last := func() (Entry, bool) {
			s.mu.Lock()
			defer s.mu.Unlock()
			if len(s.es) == 0 {
				return Entry{}, false
			}
			return s.es[len(s.es)-1], true
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			if e, ok := last(); ok && e.Deleted || time.Now().After(deadline) {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		s.mu.Lock()
		es := s.es
		s.mu.Unlock()
		if len(es) < 2 {
			t.Fatalf("watcher %s saw %d changes", name, len(es))
		}
		for i := 1; i < len(es); i++ {
			if es[i].Revision <= es[i-1].Revision {
				t.Fatalf("watcher %s: revision %d after %d", name, es[i].Revision, es[i-1].Revision)
			}
		}
		if del := es[len(es)-1]; !del.Deleted || del.AccountID != 9 || del.Revision <= live.Revision {
			t.Fatalf("watcher %s: last change %+v, want the delete after %d", name, del, live.Revision)
		}
		if e := es[len(es)-2]; e.Deleted || e.SessionID == 0 || e.Revision > live.Revision {
			t.Fatalf("watcher %s: change before the delete %+v", name, e)
		}
	}
}

func TestWatchSkipsBadValues(t *testing.T) {
	ctx := context.Background()
	_, url := natstest.Start(t)
	_, js := connectJS(t, url)
	tb := open(t, js, "a")
	got := make(chan Entry, 4)
	w, err := tb.Watch(ctx, func(e Entry) { got <- e })
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	kv, err := js.KeyValue(ctx, BucketName)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(ctx, "5", []byte{1, 2}); err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(ctx, "not-a-number", []byte{1, 0, 0, 0, 0, 0, 0, 0, 1}); err != nil {
		t.Fatal(err)
	}
	// Both bad values are seen, whether the watch delivers them live or, if
	// it started late, as the keys' latest values; poll before the claim
	// overwrites "5" (the bucket keeps one revision per key).
	deadline := time.Now().Add(10 * time.Second)
	for tb.BadEntries() < 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := tb.BadEntries(); n != 2 { // "5" with a short value, a non-numeric key
		t.Fatalf("BadEntries = %d, want 2", n)
	}
	if _, _, _, err := tb.Claim(ctx, 5, 55); err != nil {
		t.Fatal(err)
	}
	select {
	case e := <-got:
		if e.SessionID != 55 || e.AccountID != 5 {
			t.Fatalf("watched %+v", e)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("claim not watched")
	}
	if n := tb.BadEntries(); n != 2 {
		t.Fatalf("BadEntries = %d after the claim, want still 2", n)
	}
}

func TestWatcherStopAfterConnClose(t *testing.T) {
	_, url := natstest.Start(t)
	nc, js := connectJS(t, url)
	tb := open(t, js, "a")
	w, err := tb.Watch(context.Background(), func(Entry) {})
	if err != nil {
		t.Fatal(err)
	}
	nc.Close()
	if err := w.Stop(); err != nil {
		t.Fatal(err)
	}
}

// TestWatchResume: after a NATS restart, Resume replaces the lost
// subscription without missing the claims made since the reconnect (before
// Resume) and without delivering anything twice.
func TestWatchResume(t *testing.T) {
	ctx := context.Background()
	s, url := natstest.Start(t)
	nc, js := connectJSWith(t, url, bus.Options{ReconnectWait: 20 * time.Millisecond, ReconnectJitter: 10 * time.Millisecond})
	tb := open(t, js, "a")
	w, rec := watch(t, tb)
	claim := func(account uint64) {
		t.Helper()
		wait.For(t, 10*time.Second, "a claim to go through", func() bool {
			_, _, _, err := tb.Claim(ctx, account, account*10)
			return err == nil
		})
	}
	claim(1)
	wait.For(t, 10*time.Second, "the first claim", func() bool { return rec.count(1) == 1 })

	natstest.Restart(t, s)
	wait.For(t, 10*time.Second, "the reconnect", func() bool { return nc.ReadyCheck() == nil })
	claim(2) // made before Resume: the new subscription must start before it
	w.Resume()
	wait.For(t, 10*time.Second, "the subscription replaced", func() bool { n, _ := w.Resumes(); return n == 1 })
	claim(3)
	wait.For(t, 10*time.Second, "the claims since the restart", func() bool { return rec.count(2) == 1 && rec.count(3) == 1 })
	if n, rewinds := w.Resumes(); n != 1 || rewinds != 0 {
		t.Errorf("Resumes = %d, %d rewinds; want 1, 0", n, rewinds)
	}
	if n := rec.count(1); n != 1 {
		t.Errorf("the first claim delivered %d times", n)
	}
	seen := rec.entries()
	for i := 1; i < len(seen); i++ {
		if seen[i].Revision <= seen[i-1].Revision {
			t.Fatalf("revision %d after %d: delivered twice or out of order", seen[i].Revision, seen[i-1].Revision)
		}
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestResumeWithoutLoss: Resume on a watch whose subscription is still
// alive (a reconnect to a server that kept the consumer) overlaps the two
// subscriptions without delivering anything twice; Resume after Stop does
// nothing.
func TestResumeWithoutLoss(t *testing.T) {
	ctx := context.Background()
	_, url := natstest.Start(t)
	_, js := connectJS(t, url)
	tb := open(t, js, "a")
	w, rec := watch(t, tb)
	for account := uint64(1); account <= 3; account++ {
		if _, _, _, err := tb.Claim(ctx, account, 100+account); err != nil {
			t.Fatal(err)
		}
	}
	w.Resume()
	wait.For(t, 10*time.Second, "the subscription replaced", func() bool { n, _ := w.Resumes(); return n == 1 })
	if _, _, _, err := tb.Claim(ctx, 4, 104); err != nil {
		t.Fatal(err)
	}
	wait.For(t, 10*time.Second, "the claim after Resume", func() bool { return rec.count(4) == 1 })
	for account := uint64(1); account <= 4; account++ {
		if n := rec.count(account); n != 1 {
			t.Errorf("account %d delivered %d times", account, n)
		}
	}
	if err := w.Stop(); err != nil {
		t.Fatal(err)
	}
	w.Resume() // after Stop: nothing, and no block
	if n, _ := w.Resumes(); n != 1 {
		t.Errorf("Resumes after Stop = %d, want 1", n)
	}
}

// TestWatchResumeRewinds: when the bucket is behind the last revision seen
// (recreated, or a server restarted without its data), Resume starts over
// from the bucket's first revision, so the claims it holds now are
// delivered rather than skipped as old.
func TestWatchResumeRewinds(t *testing.T) {
	ctx := context.Background()
	_, url := natstest.Start(t)
	_, js := connectJS(t, url)
	tb := open(t, js, "a")
	w, rec := watch(t, tb)
	for account := uint64(1); account <= 3; account++ {
		if _, _, _, err := tb.Claim(ctx, account, 100+account); err != nil {
			t.Fatal(err)
		}
	}
	wait.For(t, 10*time.Second, "the first claims", func() bool { return rec.count(3) == 1 })

	if err := js.DeleteKeyValue(ctx, BucketName); err != nil {
		t.Fatal(err)
	}
	open(t, js, "a") // recreated, empty: its revisions start at 1 again
	if _, _, _, err := tb.Claim(ctx, 9, 109); err != nil {
		t.Fatal(err)
	}
	w.Resume()
	wait.For(t, 10*time.Second, "the claim in the recreated bucket", func() bool { return rec.count(9) == 1 })
	if n, rewinds := w.Resumes(); n != 1 || rewinds != 1 {
		t.Errorf("Resumes = %d, %d rewinds; want 1, 1", n, rewinds)
	}
}

// recorder collects what a watch delivers.
type recorder struct {
	mu   sync.Mutex
	seen []Entry
}

func (r *recorder) add(e Entry) {
	r.mu.Lock()
	r.seen = append(r.seen, e)
	r.mu.Unlock()
}

// count returns how many entries of account were delivered.
func (r *recorder) count(account uint64) (n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.seen {
		n += b2i(e.AccountID == account)
	}
	return n
}

// entries returns a copy of the delivered entries.
func (r *recorder) entries() []Entry {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Entry(nil), r.seen...)
}

// watch starts a watch of tb into a new recorder, stopped at cleanup.
func watch(t *testing.T, tb *Table) (*Watcher, *recorder) {
	t.Helper()
	r := new(recorder)
	w, err := tb.Watch(context.Background(), r.add)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.Stop() })
	return w, r
}
