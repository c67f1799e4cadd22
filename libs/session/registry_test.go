package session

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"
	"unsafe"
)

// checkInvariants fails t unless the registry's two maps agree with each
// other and with Len.
func checkInvariants[S any](t testing.TB, r *Registry[S]) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	ids, bound, eps := 0, 0, 0
	for i := range r.shards {
		for id, e := range r.shards[i].byID {
			ids++
			if e.id != id || idShardIndex(id) != i {
				t.Fatalf("session %d in shard %d under id %d", e.id, i, id)
			}
			if e.ep.IsValid() {
				bound++
				if got := r.shards[epShardIndex(e.ep)].byEP[e.ep]; got.id != id {
					t.Fatalf("session %d bound to %v, but the endpoint maps to %d", id, e.ep, got.id)
				}
			}
		}
		for ep, b := range r.shards[i].byEP {
			eps++
			e := r.shards[idShardIndex(b.id)].byID[b.id]
			if e == nil {
				t.Fatalf("endpoint %v maps to removed session %d", ep, b.id)
			}
			if epShardIndex(ep) != i || e.ep != ep {
				t.Fatalf("endpoint %v in shard %d maps to session %d bound to %v", ep, i, e.id, e.ep)
			}
			if normalize(ep) != ep {
				t.Fatalf("endpoint %v stored unnormalised", ep)
			}
		}
	}
	if bound != eps {
		t.Fatalf("%d sessions bound, %d endpoints mapped", bound, eps)
	}
	if ids != int(r.n.Load()) {
		t.Fatalf("Len = %d, %d sessions", r.n.Load(), ids)
	}
}

func ep(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

func TestRegistryScenario(t *testing.T) {
	r := New[string]()
	a, b := ep("192.0.2.1:1000"), ep("192.0.2.2:2000")
	step := func(name string, f func() error) {
		t.Helper()
		if err := f(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		checkInvariants(t, r)
	}
	expect := func(cond bool, format string, args ...any) error {
		if !cond {
			return fmt.Errorf(format, args...)
		}
		return nil
	}
	step("add", func() error { return errors.Join(r.Add(1, "one"), r.Add(2, "two")) })
	step("add twice", func() error {
		err := r.Add(1, "again")
		return expect(errors.Is(err, ErrExists), "err = %v", err)
	})
	step("add 0", func() error {
		err := r.Add(0, "zero")
		return expect(errors.Is(err, ErrZeroID), "err = %v", err)
	})
	step("bind unknown", func() error {
		_, err := r.Bind(3, a)
		return expect(errors.Is(err, ErrUnknownSession), "err = %v", err)
	})
	step("bind invalid", func() error {
		_, err := r.Bind(1, netip.AddrPort{})
		return expect(errors.Is(err, ErrInvalidEndpoint), "err = %v", err)
	})
	step("bind", func() error {
		res, err := r.Bind(1, a)
		return errors.Join(err, expect(res == BindResult{Changed: true}, "res = %+v", res))
	})
	step("lookup", func() error {
		id, s, ok := r.Lookup(a)
		return expect(id == 1 && s == "one" && ok, "Lookup = %d %q %v", id, s, ok)
	})
	step("bind again", func() error {
		res, err := r.Bind(1, a)
		return errors.Join(err, expect(res == BindResult{}, "res = %+v", res))
	})
	step("rebind moves", func() error {
		res, err := r.Bind(1, b)
		_, _, oldOK := r.Lookup(a)
		got, _ := r.Endpoint(1)
		return errors.Join(err,
			expect(res == BindResult{Previous: a, Changed: true}, "res = %+v", res),
			expect(!oldOK, "old endpoint still bound"),
			expect(got == b, "Endpoint = %v", got))
	})
	step("take another session's endpoint", func() error {
		res, err := r.Bind(2, b)
		_, ok1 := r.Endpoint(1)
		id, _, _ := r.Lookup(b)
		return errors.Join(err,
			expect(res == BindResult{Displaced: 1, Changed: true}, "res = %+v", res),
			expect(!ok1, "displaced session still bound"),
			expect(id == 2, "Lookup = %d", id))
	})
	step("unbind", func() error {
		got, ok := r.Unbind(2)
		_, _, still := r.Lookup(b)
		_, again := r.Unbind(2)
		return expect(got == b && ok && !still && !again, "Unbind = %v %v, then %v %v", got, ok, still, again)
	})
	step("remove forgets the endpoint", func() error {
		_, err := r.Bind(1, a)
		s, got, ok := r.Remove(1)
		_, _, still := r.Lookup(a)
		_, found := r.Get(1)
		return errors.Join(err, expect(s == "one" && got == a && ok && !still && !found,
			"Remove = %q %v %v; lookup %v get %v", s, got, ok, still, found))
	})
	step("remove unbound and unknown", func() error {
		s, got, ok := r.Remove(2)
		_, _, again := r.Remove(2)
		return expect(s == "two" && !got.IsValid() && ok && !again, "Remove = %q %v %v, then %v", s, got, ok, again)
	})
	if r.Len() != 0 {
		t.Fatalf("Len = %d", r.Len())
	}
}

func TestNormalize(t *testing.T) {
	r := New[int]()
	if err := r.Add(1, 1); err != nil {
		t.Fatal(err)
	}
	mapped, plain := ep("[::ffff:198.51.100.7]:4000"), ep("198.51.100.7:4000")
	if _, err := r.Bind(1, mapped); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		ep   netip.AddrPort
		want bool
	}{
		{"mapped", mapped, true},
		{"plain", plain, true},
		{"other port", ep("198.51.100.7:4001"), false},
		{"ipv6 with same low bits", ep("[::c633:6407]:4000"), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, ok := r.Lookup(tc.ep); ok != tc.want {
				t.Fatalf("Lookup(%v) = %v, want %v", tc.ep, ok, tc.want)
			}
		})
	}
	if got, _ := r.Endpoint(1); got != plain {
		t.Fatalf("Endpoint = %v, want %v", got, plain)
	}
	res, err := r.Bind(1, plain)
	if err != nil || res.Changed {
		t.Fatalf("binding the plain form of the same endpoint: %+v, %v", res, err)
	}
	checkInvariants(t, r)
}

func TestRangeSnapshot(t *testing.T) {
	r := New[int]()
	for id := uint64(1); id <= 100; id++ {
		if err := r.Add(id, int(id)*10); err != nil {
			t.Fatal(err)
		}
		if id%2 == 0 {
			if _, err := r.Bind(id, netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 0, byte(id)}), 9)); err != nil {
				t.Fatal(err)
			}
		}
	}
	seen := map[uint64]bool{}
	r.Range(func(id uint64, ep netip.AddrPort, s int) bool {
		if s != int(id)*10 || ep.IsValid() != (id%2 == 0) {
			t.Errorf("Range: %d %v %d", id, ep, s)
		}
		seen[id] = true
		// fn may change the registry; the snapshot does not see it.
		r.Remove(id%100 + 1)
		return true
	})
	if len(seen) != 100 {
		t.Fatalf("Range visited %d sessions, want 100", len(seen))
	}
	if r.Len() != 0 {
		t.Fatalf("Len = %d after removing all", r.Len())
	}
	n := 0
	r.Range(func(uint64, netip.AddrPort, int) bool { n++; return false })
	if n != 0 {
		t.Fatalf("Range on empty registry called fn %d times", n)
	}
	checkInvariants(t, r)
}

func TestRangeStops(t *testing.T) {
	r := New[int]()
	for id := uint64(1); id <= 10; id++ {
		_ = r.Add(id, 0)
	}
	n := 0
	r.Range(func(uint64, netip.AddrPort, int) bool { n++; return n < 3 })
	if n != 3 {
		t.Fatalf("fn called %d times after returning false on the 3rd", n)
	}
}

// model is the obvious registry: three plain maps.
type model struct {
	vals map[uint64]int
	eps  map[uint64]netip.AddrPort
	ids  map[netip.AddrPort]uint64
}

func newModel() *model {
	return &model{map[uint64]int{}, map[uint64]netip.AddrPort{}, map[netip.AddrPort]uint64{}}
}

// opRunner applies operations drawn from a byte source to a registry and the
// model and fails on any difference.
type opRunner struct {
	t testing.TB
	r *Registry[int]
	m *model
}

// Small spaces of ids and endpoints make collisions (rebinding, displacing)
// frequent.
func opID(b byte) uint64 { return uint64(b % 12) } // includes 0

func opEP(b byte) netip.AddrPort {
	switch b % 4 {
	case 0:
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 0, b >> 2 % 4}), uint16(b>>4%3)+1)
	case 1: // the same, IPv4-mapped
		return netip.AddrPortFrom(netip.AddrFrom16(netip.AddrFrom4([4]byte{10, 0, 0, b >> 2 % 4}).As16()), uint16(b>>4%3)+1)
	case 2:
		return netip.AddrPortFrom(netip.MustParseAddr("2001:db8::1").Next(), uint16(b>>2%3)+1)
	}
	return netip.AddrPort{} // invalid
}

func (o *opRunner) step(op, x, y byte) {
	t, r, m := o.t, o.r, o.m
	t.Helper()
	id := opID(x)
	switch op % 7 {
	case 0: // Add
		err := r.Add(id, int(y))
		_, exists := m.vals[id]
		switch {
		case id == 0:
			if !errors.Is(err, ErrZeroID) {
				t.Fatalf("Add(0) = %v", err)
			}
		case exists:
			if !errors.Is(err, ErrExists) {
				t.Fatalf("Add(%d) existing = %v", id, err)
			}
		default:
			if err != nil {
				t.Fatalf("Add(%d) = %v", id, err)
			}
			m.vals[id] = int(y)
		}
	case 1: // Remove
		s, ep, ok := r.Remove(id)
		_, exists := m.vals[id]
		if ok != exists || s != m.vals[id] || ep != m.eps[id] {
			t.Fatalf("Remove(%d) = %d %v %v; model %d %v %v", id, s, ep, ok, m.vals[id], m.eps[id], exists)
		}
		delete(m.ids, m.eps[id])
		delete(m.eps, id)
		delete(m.vals, id)
	case 2, 3: // Bind, twice as often
		raw := opEP(y)
		res, err := r.Bind(id, raw)
		_, exists := m.vals[id]
		switch {
		case !raw.IsValid():
			if !errors.Is(err, ErrInvalidEndpoint) {
				t.Fatalf("Bind(%d, invalid) = %v", id, err)
			}
			return
		case !exists:
			if !errors.Is(err, ErrUnknownSession) {
				t.Fatalf("Bind(%d) unknown = %v", id, err)
			}
			return
		case err != nil:
			t.Fatalf("Bind(%d, %v) = %v", id, raw, err)
		}
		e := normalize(raw)
		var want BindResult
		if m.eps[id] != e {
			want.Changed = true
			want.Previous = m.eps[id]
			if other, ok := m.ids[e]; ok {
				want.Displaced = other
				delete(m.eps, other)
			}
			delete(m.ids, m.eps[id])
			m.eps[id], m.ids[e] = e, id
		}
		if res != want {
			t.Fatalf("Bind(%d, %v) = %+v, want %+v", id, raw, res, want)
		}
	case 4: // Unbind
		ep, ok := r.Unbind(id)
		want, bound := m.eps[id]
		if ep != want || ok != bound {
			t.Fatalf("Unbind(%d) = %v %v, want %v %v", id, ep, ok, want, bound)
		}
		delete(m.ids, want)
		delete(m.eps, id)
	case 5: // Lookup
		e := opEP(y)
		gotID, s, ok := r.Lookup(e)
		wantID, bound := m.ids[normalize(e)]
		if gotID != wantID || ok != bound || s != m.vals[wantID] {
			t.Fatalf("Lookup(%v) = %d %d %v, want %d %d %v", e, gotID, s, ok, wantID, m.vals[wantID], bound)
		}
	case 6: // Get and Endpoint
		s, ok := r.Get(id)
		want, exists := m.vals[id]
		ep, bound := r.Endpoint(id)
		wantEP, wantBound := m.eps[id]
		if s != want || ok != exists || ep != wantEP || bound != wantBound {
			t.Fatalf("Get/Endpoint(%d) = %d %v %v %v, want %d %v %v %v", id, s, ok, ep, bound, want, exists, wantEP, wantBound)
		}
		if bs, bep, bok := r.Bound(id); bok != (exists && wantBound) || (bok && (bs != want || bep != wantEP)) {
			t.Fatalf("Bound(%d) = %d %v %v, want %d %v %v", id, bs, bep, bok, want, wantEP, exists && wantBound)
		}
	}
	if r.Len() != len(m.vals) {
		t.Fatalf("Len = %d, want %d", r.Len(), len(m.vals))
	}
}

// compare checks every session and endpoint of the model against the
// registry, and the registry's internal invariants.
func (o *opRunner) compare() {
	o.t.Helper()
	checkInvariants(o.t, o.r)
	n := 0
	o.r.Range(func(id uint64, ep netip.AddrPort, s int) bool {
		n++
		if want, ok := o.m.vals[id]; !ok || s != want || ep != o.m.eps[id] {
			o.t.Fatalf("Range: %d %v %d; model %d %v %v", id, ep, s, want, o.m.eps[id], ok)
		}
		return true
	})
	if n != len(o.m.vals) {
		o.t.Fatalf("Range saw %d sessions, model has %d", n, len(o.m.vals))
	}
}

func TestRegistryModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(2024, 1))
	for range 20 {
		o := &opRunner{t, New[int](), newModel()}
		for i := range 2000 {
			o.step(byte(rng.UintN(256)), byte(rng.UintN(256)), byte(rng.UintN(256)))
			if i%100 == 0 {
				o.compare()
			}
		}
		o.compare()
	}
}

func FuzzRegistry(f *testing.F) {
	f.Add([]byte{0, 1, 7, 2, 1, 0, 2, 2, 0, 5, 0, 0, 1, 1, 0})
	f.Add([]byte{0, 1, 1, 0, 2, 2, 2, 1, 4, 3, 2, 4, 4, 2, 0, 5, 0, 4})
	f.Fuzz(func(t *testing.T, ops []byte) {
		o := &opRunner{t, New[int](), newModel()}
		for ; len(ops) >= 3; ops = ops[3:] {
			o.step(ops[0], ops[1], ops[2])
		}
		o.compare()
	})
}

func TestShardSize(t *testing.T) {
	if n := unsafe.Sizeof(shard[int]{}); n != shardSize {
		t.Fatalf("shard is %d bytes, want %d", n, shardSize)
	}
	if off := unsafe.Offsetof(Registry[int]{}.shards); off != shardSize {
		t.Fatalf("shards start at offset %d, want %d", off, shardSize)
	}
}

func TestShardSpread(t *testing.T) {
	// Endpoints that differ only in the port, or in the last address byte,
	// still use every shard.
	var byPort, byAddr [numShards]int
	for i := range 64 * numShards {
		byPort[epShardIndex(netip.AddrPortFrom(netip.AddrFrom4([4]byte{203, 0, 113, 5}), uint16(30000+i)))]++
		byAddr[epShardIndex(netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), 7777))]++
	}
	for i := range numShards {
		if byPort[i] < 16 || byAddr[i] < 16 {
			t.Fatalf("shard %d gets %d of %d endpoints by port, %d by address", i, byPort[i], 64*numShards, byAddr[i])
		}
	}
}

func TestLookupAllocs(t *testing.T) {
	r := New[*int]()
	v := 5
	_ = r.Add(1, &v)
	e := ep("[2001:db8::7]:9000")
	if _, err := r.Bind(1, e); err != nil {
		t.Fatal(err)
	}
	miss := ep("[::ffff:10.1.2.3]:9000")
	if n := testing.AllocsPerRun(1000, func() {
		r.Lookup(e)
		r.Lookup(miss)
		r.Get(1)
		r.Endpoint(1)
	}); n != 0 {
		t.Fatalf("%v allocations per lookup", n)
	}
}

// TestConcurrentBindAndReads moves a session between two endpoints while
// readers look it up the three ways: every read must see one of the two
// endpoints, with the session's value. Under the race detector it also
// checks that the reads hold the lock the writes take.
func TestConcurrentBindAndReads(t *testing.T) {
	r := New[int]()
	if err := r.Add(7, 70); err != nil {
		t.Fatal(err)
	}
	a, b := ep("10.0.0.1:1000"), ep("10.0.0.2:2000")
	if _, err := r.Bind(7, a); err != nil {
		t.Fatal(err)
	}
	const moves = 2000
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range moves {
			to := a
			if i%2 == 0 {
				to = b
			}
			if _, err := r.Bind(7, to); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	reads := 0
	for running := true; running || reads < moves; reads++ {
		select {
		case <-done:
			running = false
		default:
		}
		if v, at, ok := r.Bound(7); !ok || v != 70 || (at != a && at != b) {
			t.Fatalf("Bound = %d %v %v", v, at, ok)
		}
		if at, ok := r.Endpoint(7); !ok || (at != a && at != b) {
			t.Fatalf("Endpoint = %v %v", at, ok)
		}
		if id, v, ok := r.Lookup(a); ok && (id != 7 || v != 70) {
			t.Fatalf("Lookup = %d %d", id, v)
		}
	}
	checkInvariants(t, r)
}
