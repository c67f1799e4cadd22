package presence

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// BucketName is the JetStream KV bucket holding the live sessions.
const BucketName = "realm_presence"

// MaxClaimAttempts bounds the compare-and-set rounds of one Claim.
const MaxClaimAttempts = 16

// entryVersion is the only value version this package writes and reads.
const entryVersion = 1

var (
	// ErrBadEntry means a stored value is not a valid version-1 entry.
	ErrBadEntry = errors.New("presence: bad entry")
	// ErrContended means Claim lost the compare-and-set MaxClaimAttempts
	// times in a row.
	ErrContended = errors.New("presence: claim contended")
)

// Entry is one account's live session, or (Deleted, from Watch only) the
// release of one.
type Entry struct {
	AccountID uint64
	SessionID uint64 // never 0, except in a Deleted entry
	LoginID   string // the login instance holding the session's connection
	Revision  uint64 // the KV revision of the claim or delete (set by Claim and Watch)
	Deleted   bool   // a session released the account (Watch only)
}

// MarshalBinary encodes the value of e (account id and revision are the key
// and the KV metadata, not part of the value).
func (e Entry) MarshalBinary() ([]byte, error) {
	if e.SessionID == 0 {
		return nil, fmt.Errorf("%w: session id 0", ErrBadEntry)
	}
	b := make([]byte, 0, 9+len(e.LoginID))
	b = append(b, entryVersion)
	b = binary.BigEndian.AppendUint64(b, e.SessionID)
	return append(b, e.LoginID...), nil
}

// UnmarshalBinary decodes a value written by MarshalBinary into e's session
// and login id.
func (e *Entry) UnmarshalBinary(b []byte) error {
	if len(b) < 9 || b[0] != entryVersion {
		return fmt.Errorf("%w: %d bytes", ErrBadEntry, len(b))
	}
	sid := binary.BigEndian.Uint64(b[1:9])
	if sid == 0 {
		return fmt.Errorf("%w: session id 0", ErrBadEntry)
	}
	e.SessionID = sid
	e.LoginID = string(b[9:])
	return nil
}

// Config configures Open. The zero value means the defaults.
type Config struct {
	// Replicas is the number of copies JetStream keeps of the bucket in a
	// cluster (1 to 5). Zero means 1.
	Replicas int
}

// Table is the presence bucket seen by one login instance. It is safe for
// concurrent use.
type Table struct {
	kv      jetstream.KeyValue
	loginID string
	bad     atomic.Uint64 // watched values that did not decode
}

// Open creates the bucket if needed (memory is not enough: presence must
// survive a NATS restart as long as the sessions do, so file storage) and
// returns the table of the login instance loginID.
func Open(ctx context.Context, js jetstream.JetStream, cfg Config, loginID string) (*Table, error) {
	if cfg.Replicas == 0 {
		cfg.Replicas = 1
	}
	if cfg.Replicas < 1 || cfg.Replicas > 5 {
		return nil, fmt.Errorf("presence: replicas %d not in 1..5", cfg.Replicas)
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:       BucketName,
		Description:  "Realm presence: account id -> live session (services/login/internal/presence)",
		History:      1,
		Storage:      jetstream.FileStorage,
		Replicas:     cfg.Replicas,
		MaxValueSize: 256,
	})
	if err != nil {
		return nil, fmt.Errorf("open bucket %s: %w", BucketName, err)
	}
	return &Table{kv: kv, loginID: loginID}, nil
}

// Status checks that the bucket is reachable (one JetStream request).
func (t *Table) Status(ctx context.Context) error {
	if _, err := t.kv.Status(ctx); err != nil {
		return fmt.Errorf("bucket %s: %w", BucketName, err)
	}
	return nil
}

// BadEntries returns how many watched values were skipped because they did
// not decode.
func (t *Table) BadEntries() uint64 { return t.bad.Load() }

func key(accountID uint64) string { return strconv.FormatUint(accountID, 10) }

// Claim makes sessionID the live session of accountID, replacing whatever
// session held it, and returns the new entry (with its revision) and the
// replaced one (ok false when there was none).
func (t *Table) Claim(ctx context.Context, accountID, sessionID uint64) (claimed, replaced Entry, ok bool, err error) {
	claimed = Entry{AccountID: accountID, SessionID: sessionID, LoginID: t.loginID}
	val, err := claimed.MarshalBinary()
	if err != nil {
		return Entry{}, Entry{}, false, err
	}
	k := key(accountID)
	for attempt := range MaxClaimAttempts {
		if attempt > 0 {
			// Lost a compare-and-set: back off a random, growing while, so
			// that contenders stop taking turns in lockstep.
			if err := backoff(ctx, attempt); err != nil {
				return Entry{}, Entry{}, false, err
			}
		}
		cur, err := t.kv.Get(ctx, k)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			rev, err := t.kv.Create(ctx, k, val)
			if errors.Is(err, jetstream.ErrKeyExists) {
				continue
			}
			if err != nil {
				return Entry{}, Entry{}, false, fmt.Errorf("create presence %s: %w", k, err)
			}
			claimed.Revision = rev
			return claimed, Entry{}, false, nil
		}
		if err != nil {
			return Entry{}, Entry{}, false, fmt.Errorf("get presence %s: %w", k, err)
		}
		rev, err := t.kv.Update(ctx, k, val, cur.Revision())
		if errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			continue
		}
		if err != nil {
			return Entry{}, Entry{}, false, fmt.Errorf("update presence %s: %w", k, err)
		}
		claimed.Revision = rev
		replaced = Entry{AccountID: accountID, Revision: cur.Revision()}
		ok = replaced.UnmarshalBinary(cur.Value()) == nil
		return claimed, replaced, ok, nil
	}
	return Entry{}, Entry{}, false, fmt.Errorf("%w: account %d", ErrContended, accountID)
}

// backoff sleeps up to attempt × 500µs, at random, or until ctx is done.
func backoff(ctx context.Context, attempt int) error {
	d := time.Duration(rand.Int64N(int64(attempt) * int64(500*time.Microsecond)))
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("claim presence: %w", ctx.Err())
	}
}

// Release deletes e's entry if it is still e's claim (same revision). It
// reports whether it deleted it; a replaced entry is left alone (false, nil).
func (t *Table) Release(ctx context.Context, e Entry) (bool, error) {
	err := t.kv.Delete(ctx, key(e.AccountID), jetstream.LastRevision(e.Revision))
	if errors.Is(err, jetstream.ErrKeyRevisionMismatch) || errors.Is(err, jetstream.ErrKeyExists) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("release presence %d: %w", e.AccountID, err)
	}
	return true, nil
}

// Get returns the live entry of accountID, and false if there is none.
func (t *Table) Get(ctx context.Context, accountID uint64) (Entry, bool, error) {
	cur, err := t.kv.Get(ctx, key(accountID))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return Entry{}, false, nil
	}
	if err != nil {
		return Entry{}, false, fmt.Errorf("get presence %d: %w", accountID, err)
	}
	e := Entry{AccountID: accountID, Revision: cur.Revision()}
	if err := e.UnmarshalBinary(cur.Value()); err != nil {
		return Entry{}, false, err
	}
	return e, true, nil
}

// Watcher delivers claims made after Watch returned. Stop it with Stop.
type Watcher struct {
	t      *Table
	ctx    context.Context
	fn     func(Entry)
	resume chan struct{} // cap 1: a pending Resume
	quit   chan struct{} // closed by Stop
	done   chan struct{} // closed when the delivery goroutine returns
	once   sync.Once
	err    error // of stopping the subscription; read after done

	resumes atomic.Uint64 // subscriptions replaced after Resume
	rewinds atomic.Uint64 // of those, the ones that found the bucket behind
}

// resumeRetry is the wait between two attempts to replace the subscription
// after Resume (JetStream may still be recovering its streams after a
// restart).
const resumeRetry = 250 * time.Millisecond

// Watch calls fn, on one goroutine and in increasing revision order, with the
// changes made after Watch returns, until Stop or until the NATS connection
// closes: claims, and releases as Deleted entries. A change overwritten
// before the watch delivered it is skipped (the bucket keeps one revision
// per key), so fn sees a subsequence that always ends with the latest
// change of each key. Values that do not decode are skipped and counted
// (BadEntries). ctx bounds the creation of the watch and also its life:
// nats.go ends the subscription when ctx ends. After a NATS reconnect, call
// Resume.
func (t *Table) Watch(ctx context.Context, fn func(Entry)) (*Watcher, error) {
	state, err := t.state(ctx)
	if err != nil {
		return nil, err
	}
	w := &Watcher{t: t, ctx: ctx, fn: fn,
		resume: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{})}
	kw, err := w.subscribe(state.LastSeq + 1)
	if err != nil {
		return nil, err
	}
	go w.run(kw, state.LastSeq+1)
	return w, nil
}

// state returns the state of the bucket's stream.
func (t *Table) state(ctx context.Context) (jetstream.StreamState, error) {
	st, err := t.kv.Status(ctx)
	if err != nil {
		return jetstream.StreamState{}, fmt.Errorf("watch %s: %w", BucketName, err)
	}
	bs, ok := st.(*jetstream.KeyValueBucketStatus)
	if !ok {
		return jetstream.StreamState{}, fmt.Errorf("watch %s: status of type %T", BucketName, st)
	}
	return bs.StreamInfo().State, nil
}

// subscribe starts a subscription from revision from, living as long as
// Watch's ctx.
func (w *Watcher) subscribe(from uint64) (jetstream.KeyWatcher, error) {
	kw, err := w.t.kv.WatchAll(w.ctx, jetstream.ResumeFromRevision(max(from, 1)))
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", BucketName, err)
	}
	return kw, nil
}

// run delivers the changes of subscription kw, the next unseen revision
// being next, and replaces the subscription when Resume asks, until Stop or
// the end of the subscription (the connection closed, or ctx ended).
func (w *Watcher) run(kw jetstream.KeyWatcher, next uint64) {
	defer close(w.done)
	for {
		select {
		case kve, ok := <-kw.Updates():
			if !ok {
				return
			}
			if kve == nil || kve.Revision() < next {
				continue // the end of the initial values, or seen before a Resume
			}
			next = kve.Revision() + 1
			id, err := strconv.ParseUint(kve.Key(), 10, 64)
			e := Entry{AccountID: id, Revision: kve.Revision(), Deleted: kve.Operation() != jetstream.KeyValuePut}
			if err != nil || !e.Deleted && e.UnmarshalBinary(kve.Value()) != nil {
				w.t.bad.Add(1)
				continue
			}
			w.fn(e)
		case <-w.resume:
			var ok bool
			if kw, next, ok = w.replace(kw, next); !ok {
				return
			}
		case <-w.quit:
			w.err = unsubscribe(kw)
			return
		}
	}
}

// replace makes the subscription that follows kw: from next, or from the
// bucket's first revision when the bucket is behind next (see Resume),
// retrying while JetStream cannot answer. It returns false, having stopped
// kw, on Stop or when the connection is closed.
func (w *Watcher) replace(kw jetstream.KeyWatcher, next uint64) (jetstream.KeyWatcher, uint64, bool) {
	for {
		state, err := w.t.state(w.ctx)
		from := next
		if err == nil && state.LastSeq+1 < next {
			from = state.FirstSeq
		}
		var kw2 jetstream.KeyWatcher
		if err == nil {
			kw2, err = w.subscribe(from)
		}
		if err == nil {
			w.resumes.Add(1)
			if from != next {
				w.rewinds.Add(1)
			}
			_ = unsubscribe(kw) // its consumer is usually gone with the old server
			return kw2, max(from, 1), true
		}
		if errors.Is(err, nats.ErrConnectionClosed) {
			return kw, next, false
		}
		select {
		case <-w.quit:
			w.err = unsubscribe(kw)
			return kw, next, false
		case <-w.ctx.Done():
			return kw, next, false
		case <-time.After(resumeRetry):
		}
	}
}

// unsubscribe stops kw and waits for its updates channel to close: nats.go
// blocks its callback on that channel until then. A subscription already
// gone with the connection or the server is not an error.
func unsubscribe(kw jetstream.KeyWatcher) error {
	err := kw.Stop()
	if err != nil && !errors.Is(err, nats.ErrConnectionClosed) && !errors.Is(err, nats.ErrBadSubscription) &&
		!errors.Is(err, nats.ErrConsumerNotFound) && !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return fmt.Errorf("stop watch: %w", err)
	}
	for range kw.Updates() {
	}
	return nil
}

// Resume asks the watch to replace its subscription with a new one that
// starts right after the last revision seen, so that nothing is missed and
// nothing is delivered twice. Call it after a NATS reconnect (it returns at
// once: a reconnect callback may call it): a restarted server has lost the
// watch's consumer (an ephemeral one), and nats.go only finds out after
// missed heartbeats, about ten seconds during which claims would go
// undelivered. The watch retries every 250 ms while JetStream cannot answer
// yet. Requests made while one is pending are one request; after Stop,
// Resume does nothing.
//
// A bucket whose last revision is below the last one seen was recreated or
// lost data (a server restarted without its store): then the watch starts
// over from the bucket's first revision, so that the claims it holds now
// are all delivered. Their revisions are not comparable with older ones;
// the caller must not rely on their order across such a loss.
func (w *Watcher) Resume() {
	select {
	case w.resume <- struct{}{}:
	default:
	}
}

// Resumes returns how many times the subscription was replaced after
// Resume, and how many of those started over because the bucket was behind.
func (w *Watcher) Resumes() (resumes, rewinds uint64) { return w.resumes.Load(), w.rewinds.Load() }

// Stop ends the watch and waits until fn is no longer running. Safe to call
// more than once and after the NATS connection closed.
func (w *Watcher) Stop() error {
	w.once.Do(func() {
		close(w.quit)
		<-w.done
	})
	return w.err
}
