package load

import (
	"cmp"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"time"

	"go.uber.org/zap"

	"github.com/ecs-realm/realm/libs/tlsconfig"
)

// Defaults of Config's zero values.
const (
	DefaultPlayers    = 1
	DefaultRate       = 20 // inputs per second per player
	DefaultRamp       = 10 // logins started per second
	DefaultNamePrefix = "load"
	DefaultPassword   = "loadgen-password"
	DefaultDrain      = time.Second
)

// ErrBadConfig is wrapped by every Config validation error.
var ErrBadConfig = errors.New("load: bad config")

// Config describes a run. Only LoginAddr is required; every other zero value
// means the documented default.
type Config struct {
	// LoginAddr is the login server's TCP host:port. Required.
	LoginAddr string
	// TLS is the client TLS configuration, shared by every player (so TLS
	// sessions resume). Nil means tlsconfig.Client(CAFile, "").
	TLS *tls.Config
	// CAFile is the CA to trust when TLS is nil; empty means the system roots.
	CAFile string
	// Players is how many simulated players to run. Zero means 1.
	Players int
	// Duration is how long inputs are sent, counted from the start of the
	// run (ramp-up included). Zero means until the context ends.
	Duration time.Duration
	// Rate is how many inputs per second each player sends. Zero means 20.
	Rate float64
	// Ramp is how many players start logging in per second. Logins are
	// expensive on the server (argon2): a ramp keeps them from queueing.
	// Zero means 10.
	Ramp float64
	// NamePrefix is prepended to the player index to make account names
	// ("load0", "load1", ...). Zero means "load".
	NamePrefix string
	// Password of every account. Zero means "loadgen-password".
	Password string
	// SnapshotRate is how many snapshots per second each player should
	// get, for the "expected" count of the report. Zero means the tick rate
	// the ingress announces in its handshake ack (right when the world sends
	// a snapshot every tick).
	SnapshotRate float64
	// Drain is how long players keep reading snapshots after the last
	// input, to count the inputs still in flight. Zero means 1s.
	Drain time.Duration
	// HandshakeTimeout bounds each player's UDP handshake. Zero means the
	// client's default (10s).
	HandshakeTimeout time.Duration
	// Progress receives a status line once per second. Nil means none.
	Progress io.Writer
	// Logger receives per-player failures at debug level. Nil means none.
	Logger *zap.Logger
}

var namePrefixRE = regexp.MustCompile(`^[A-Za-z0-9_-]*$`)

// resolve validates c and fills in its defaults.
func (c Config) resolve() (Config, error) {
	if c.LoginAddr == "" {
		return c, fmt.Errorf("%w: login address is required", ErrBadConfig)
	}
	if c.Players < 0 || c.Rate < 0 || c.Ramp < 0 || c.SnapshotRate < 0 || c.Duration < 0 || c.Drain < 0 {
		return c, fmt.Errorf("%w: players, rates, ramp, duration and drain must not be negative", ErrBadConfig)
	}
	c.Players = cmp.Or(c.Players, DefaultPlayers)
	c.Rate = cmp.Or(c.Rate, DefaultRate)
	c.Ramp = cmp.Or(c.Ramp, DefaultRamp)
	c.NamePrefix = cmp.Or(c.NamePrefix, DefaultNamePrefix)
	c.Password = cmp.Or(c.Password, DefaultPassword)
	c.Drain = cmp.Or(c.Drain, DefaultDrain)
	// Account names are 3–32 characters of [A-Za-z0-9_-].
	longest := c.NamePrefix + strconv.Itoa(c.Players-1)
	if !namePrefixRE.MatchString(c.NamePrefix) || len(c.NamePrefix+"0") < 3 || len(longest) > 32 {
		return c, fmt.Errorf("%w: name prefix %q does not make valid account names (3-32 of [A-Za-z0-9_-])", ErrBadConfig, c.NamePrefix)
	}
	if c.TLS == nil {
		t, err := tlsconfig.Client(c.CAFile, "")
		if err != nil {
			return c, fmt.Errorf("load: %w", err)
		}
		c.TLS = t
	}
	if c.Logger == nil {
		c.Logger = zap.NewNop()
	}
	return c, nil
}
