package login_test

import (
	"crypto/tls"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"

	realmv1 "github.com/ecs-realm/realm/proto/realm/v1"
	"github.com/ecs-realm/realm/services/login/login"
)

// BenchmarkHandshake measures TLS 1.3 handshakes per second with the
// development certificate (ECDSA P-256), client and server in this process:
// full handshakes (no session cache) against resumed ones (a client session
// cache holding the server's TLS 1.3 tickets). Each connection also does one
// ping round trip (the client needs a read to receive its ticket) and closes.
func BenchmarkHandshake(b *testing.B) {
	e := newEnv(b)
	in := e.start(b, nil)
	addr := in.Addr().String()
	for _, bc := range []struct {
		name    string
		conf    func() *tls.Config
		resumed bool
	}{
		{"full", func() *tls.Config { c := in.tls.Clone(); c.ClientSessionCache = nil; return c }, false},
		{"resumed", func() *tls.Config { return in.tls }, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			conf := bc.conf()
			prime := dial(b, addr, conf)
			prime.mustPing()
			prime.close()
			b.ReportAllocs()
			for b.Loop() {
				c := dial(b, addr, conf)
				if c.tc.ConnectionState().DidResume != bc.resumed {
					b.Fatalf("DidResume = %v", !bc.resumed)
				}
				c.mustPing()
				c.close()
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "handshakes/s")
		})
	}
}

// BenchmarkLogin measures logins per second at the test hash cost (argon2id
// time 1, 64 KiB): each iteration connects (resuming TLS), logs in, logs
// out and reads the server's close. "connect" is the same without the
// login, the baseline; "login-parallel" runs two clients per CPU, each on
// its own account.
func BenchmarkLogin(b *testing.B) {
	e := newEnv(b)
	in := e.start(b, func(c *login.Config) { c.LoginRate, c.LoginBurst = 1e9, 1<<30 })
	addr := in.Addr().String()
	// Two parallel clients per CPU, each on its own account (two clients
	// on one account would kick each other).
	const perCPU = 2
	accounts := perCPU * runtime.GOMAXPROCS(0)
	reg := dial(b, addr, in.tls)
	for i := range accounts {
		reg.mustRegister(fmt.Sprintf("Bench%d", i), password)
	}
	reg.close()
	logout := func(c *client) {
		c.request(&realmv1.ClientMessage{Body: &realmv1.ClientMessage_Logout{Logout: &realmv1.LogoutRequest{}}})
		c.expectEOF()
	}

	b.Run("connect", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			c := dial(b, addr, in.tls)
			c.mustPing()
			c.close()
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "conns/s")
	})
	b.Run("login", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			c := dial(b, addr, in.tls)
			c.mustLogin("Bench0", password)
			logout(c)
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "logins/s")
	})
	b.Run("login-parallel", func(b *testing.B) {
		var next atomic.Int32
		b.ReportAllocs()
		b.SetParallelism(perCPU)
		b.RunParallel(func(pb *testing.PB) {
			name := fmt.Sprintf("Bench%d", next.Add(1)-1)
			for pb.Next() {
				c := dial(b, addr, in.tls)
				c.mustLogin(name, password)
				logout(c)
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "logins/s")
	})
}
