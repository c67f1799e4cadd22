package realmtest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/ecs-realm/realm/libs/client"
	realmv1 "github.com/ecs-realm/realm/proto/realm/v1"
)

// playerParallelism bounds the logins Players runs at once.
const playerParallelism = 8

// Player is a client logged in to a test realm: its TLS connection, its
// session and, once joined, its UDP data plane.
type Player struct {
	Name    string
	Conn    *client.Conn
	Session *client.Session
	UDP     *client.UDP // nil until Join
}

// Password is the password test players of name register with.
func Password(name string) string { return "password-" + name }

// Dial connects a client with cfg (from Realm.ClientConfig, possibly
// changed), closed in t.Cleanup.
func Dial(t testing.TB, cfg client.Config) *client.Conn {
	t.Helper()
	c, err := client.Dial(Context(t), cfg)
	if err != nil {
		t.Fatalf("realmtest: dial: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// LoginAs connects to login instance i, registers name (an existing account
// is fine) with Password(name) and logs in, without joining UDP. The caller
// closes the player. It may be called from any goroutine.
func (r *Realm) LoginAs(ctx context.Context, i int, name string) (*Player, error) {
	return LoginWith(ctx, r.ClientConfig(i), name)
}

// LoginWith is LoginAs with a client Config of the caller's (through a
// proxy, with other timeouts).
func LoginWith(ctx context.Context, cfg client.Config, name string) (*Player, error) {
	c, err := client.Dial(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: dial: %w", name, err)
	}
	if _, err := c.Register(ctx, name, Password(name)); err != nil && client.CodeOf(err) != realmv1.ErrorCode_ERROR_CODE_NAME_TAKEN {
		_ = c.Close()
		return nil, fmt.Errorf("%s: register: %w", name, err)
	}
	s, err := c.Login(ctx, name, Password(name))
	if err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("%s: login: %w", name, err)
	}
	return &Player{Name: name, Conn: c, Session: s}, nil
}

// Join handshakes the player's UDP data plane (Session.JoinUDP).
func (p *Player) Join(ctx context.Context) error {
	u, err := p.Session.JoinUDP(ctx)
	if err != nil {
		return fmt.Errorf("%s: join udp: %w", p.Name, err)
	}
	p.UDP = u
	return nil
}

// Close closes the player's connection and UDP without logging out (the
// server sees a disconnect).
func (p *Player) Close() { _ = p.Conn.Close() }

// LoggedIn logs name in on login instance i, without joining UDP, failing
// t on error; the player is closed in t.Cleanup.
func (r *Realm) LoggedIn(t testing.TB, i int, name string) *Player {
	t.Helper()
	p, err := r.LoginAs(Context(t), i, name)
	if err != nil {
		t.Fatalf("realmtest: %v", err)
	}
	t.Cleanup(p.Close)
	return p
}

// Player logs name in on login instance i and joins UDP, failing t on error;
// the player is closed in t.Cleanup.
func (r *Realm) Player(t testing.TB, i int, name string) *Player {
	t.Helper()
	p := r.LoggedIn(t, i, name)
	if err := p.Join(Context(t)); err != nil {
		t.Fatalf("realmtest: %v", err)
	}
	return p
}

// Players logs in n players named prefix0, prefix1, ..., player k on login
// instance k mod len(Logins), and joins them to UDP, several at a time. It
// fails t if any fails; the players are closed in t.Cleanup.
func (r *Realm) Players(t testing.TB, n int, prefix string) []*Player {
	t.Helper()
	ctx := Context(t)
	players := make([]*Player, n)
	errs := make([]error, n)
	sem := make(chan struct{}, playerParallelism)
	var wg sync.WaitGroup
	for k := range n {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			p, err := r.LoginAs(ctx, k%len(r.Logins), fmt.Sprintf("%s%d", prefix, k))
			if err == nil {
				players[k] = p
				err = p.Join(ctx)
			}
			errs[k] = err
		})
	}
	wg.Wait()
	for _, p := range players {
		if p != nil {
			t.Cleanup(p.Close)
		}
	}
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("realmtest: players: %v", err)
	}
	return players
}
