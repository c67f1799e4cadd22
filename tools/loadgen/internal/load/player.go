package load

import (
	"cmp"
	"context"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/ecs-realm/realm/libs/client"
	realmv1 "github.com/ecs-realm/realm/proto/realm/v1"
)

// logoutTimeout bounds a player's graceful logout at the end of the run.
const logoutTimeout = 5 * time.Second

// player is one simulated player's state. Its own goroutine sends the
// inputs; its snapshots arrive on the client's socket reader goroutine
// (client.Config.OnSnapshot), so what both touch is under mu.
type player struct {
	r      *runner
	name   string
	wander *Wander // of the sending goroutine

	okSends uint64 // inputs the socket took; the sending goroutine's own

	mu     sync.Mutex
	sent   sendLog
	seq    uint64 // input sequence of the newest input sent
	acked  uint64 // newest last_input_sequence seen
	x, y   float32
	hasPos bool
	// caughtUp, once drain sets it, gets a token when the newest input is
	// acknowledged.
	caughtUp chan struct{}
}

// player runs player i from login to logout; ctx ends its inputs.
func (r *runner) player(ctx context.Context, i int) {
	p := &player{
		r:      r,
		name:   r.cfg.NamePrefix + strconv.Itoa(i),
		wander: NewWander(uint64(i)^uint64(time.Now().UnixNano()), 0),
	}
	cfg := r.clientCfg
	cfg.OnSnapshot = p.onSnapshot
	start := time.Now()
	c, err := client.Dial(ctx, cfg)
	if err != nil {
		r.fail(ctx, "dial", err)
		return
	}
	defer c.Close()
	r.connect.Record(time.Since(start))

	sess, err := p.login(ctx, c)
	if err != nil {
		return // counted
	}
	start = time.Now()
	u, err := sess.JoinUDP(ctx)
	if err != nil {
		r.fail(ctx, "join", err)
		return
	}
	r.handshake.Record(time.Since(start))
	joined := time.Now()
	r.joined.Add(1)
	r.connected.Add(1)

	ended := p.play(ctx, c, u)
	r.connected.Add(-1)

	_ = u.Close() // no more snapshots: p is ours alone
	st := u.Stats()
	perSec := r.cfg.SnapshotRate
	if perSec == 0 {
		perSec = float64(cmp.Or(u.Ack().GetTickRateHz(), sess.TickRateHz))
	}
	r.acked.Add(min(p.acked, p.okSends))
	r.snapExpected.Add(uint64(ended.Sub(joined).Seconds() * perSec))
	r.snapReceived.Add(st.SnapshotsReceived)

	if c.Err() == nil {
		lctx, cancel := context.WithTimeout(context.Background(), logoutTimeout)
		defer cancel()
		if err := c.Logout(lctx); err != nil {
			r.fail(lctx, "logout", err)
		}
	}
}

// login registers the player's account (NAME_TAKEN is fine: it exists) and
// logs in, retrying what the server rate-limits.
func (p *player) login(ctx context.Context, c *client.Conn) (*client.Session, error) {
	r := p.r
	err := p.retry(ctx, "register", func() error {
		_, err := c.Register(ctx, p.name, r.cfg.Password)
		return err
	})
	if err != nil && client.CodeOf(err) != realmv1.ErrorCode_ERROR_CODE_NAME_TAKEN {
		r.fail(ctx, "register", err)
		return nil, err
	}
	var sess *client.Session
	err = p.retry(ctx, "login", func() error {
		start := time.Now()
		s, err := c.Login(ctx, p.name, r.cfg.Password)
		if err == nil {
			r.login.Record(time.Since(start))
			sess = s
		}
		return err
	})
	if err != nil {
		r.fail(ctx, "login", err)
		return nil, err
	}
	return sess, nil
}

// retry calls f until it succeeds, fails with anything but RATE_LIMITED,
// or ctx ends, backing off with jitter between attempts. Each rate-limited
// attempt is counted as "<stage> retried: RATE_LIMITED".
func (p *player) retry(ctx context.Context, stage string, f func() error) error {
	backoff := 200 * time.Millisecond
	for {
		err := f()
		if client.CodeOf(err) != realmv1.ErrorCode_ERROR_CODE_RATE_LIMITED {
			return err
		}
		p.r.fail(ctx, stage+" retried", err)
		t := time.NewTimer(backoff/2 + rand.N(backoff))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// play sends inputs until ctx ends, then waits for the snapshots
// acknowledging the last of them for at most Config.Drain. It returns when
// it stopped waiting.
func (p *player) play(ctx context.Context, c *client.Conn, u *client.UDP) time.Time {
	r := p.r
	tick := time.NewTicker(time.Duration(float64(time.Second) / r.cfg.Rate))
	defer tick.Stop()
	in := &realmv1.PlayerInput{Move: &realmv1.Vec2{}}
	for {
		select {
		case <-ctx.Done():
			return p.drain(c)
		case <-c.Done():
			r.fail(ctx, "play", c.Err())
			return time.Now()
		case <-tick.C:
			p.mu.Lock()
			p.seq++
			in.InputSequence, in.ClientTick = p.seq, p.seq
			in.Move.X, in.Move.Y = p.wander.Next(p.x, p.y, p.hasPos)
			p.sent.put(p.seq, time.Now())
			p.mu.Unlock()
			if err := u.SendInput(in); err != nil {
				r.fail(ctx, "send", err)
				continue
			}
			p.okSends++
			r.inputs.Add(1)
		}
	}
}

// drain waits until the newest input is acknowledged or Config.Drain
// passes.
func (p *player) drain(c *client.Conn) time.Time {
	p.mu.Lock()
	if p.acked >= p.seq {
		p.mu.Unlock()
		return time.Now()
	}
	caughtUp := make(chan struct{}, 1)
	p.caughtUp = caughtUp
	p.mu.Unlock()
	t := time.NewTimer(p.r.cfg.Drain)
	defer t.Stop()
	select {
	case <-t.C:
	case <-c.Done():
	case <-caughtUp:
	}
	return time.Now()
}

// onSnapshot reads the head of one snapshot (client.Config.OnSnapshot, on
// the socket's reader goroutine): it measures the latency of the newest
// input the snapshot acknowledges, if it is a new one, and notes the
// player's position.
func (p *player) onSnapshot(plain []byte, received time.Time) {
	h, err := parseHead(plain)
	if err != nil { // authentic, so the server's bug: worth a report line
		p.r.errs.add("snapshot", err)
		return
	}
	p.r.snapshots.Add(1)
	p.mu.Lock()
	defer p.mu.Unlock()
	if h.hasSelf {
		p.x, p.y, p.hasPos = h.x, h.y, true
	}
	if h.lastInput > p.acked {
		p.acked = h.lastInput
		if at, ok := p.sent.get(h.lastInput); ok {
			p.r.window.Load().Record(received.Sub(at))
		}
		if p.caughtUp != nil && p.acked >= p.seq {
			select {
			case p.caughtUp <- struct{}{}:
			default:
			}
		}
	}
}
