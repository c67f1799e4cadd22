package bus

import (
	"cmp"
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"golang.org/x/time/rate"
	"google.golang.org/protobuf/proto"
)

// Defaults applied by Connect to zero Options fields.
const (
	DefaultReconnectWait     = time.Second
	DefaultReconnectJitter   = 500 * time.Millisecond
	DefaultPingInterval      = 10 * time.Second
	DefaultMaxPingsOut       = 3
	DefaultConnectTimeout    = 5 * time.Second
	DefaultDrainTimeout      = 10 * time.Second
	DefaultFlushTimeout      = 10 * time.Second
	DefaultDecodeLogInterval = 10 * time.Second
)

// maxPooledBuf is the largest marshal buffer kept for reuse (the default NATS
// max payload).
const maxPooledBuf = 1 << 20

// Options configures Connect. The zero value is usable: every zero field
// means the default named in its comment.
type Options struct {
	// Name is the connection name shown by the server's monitoring
	// (e.g. "login-1"). Empty means none.
	Name string
	// Logger receives connection events and rate-limited decode errors.
	// Nil means no logging.
	Logger *zap.Logger
	// OnReconnect is called (on a nats.go goroutine) after each reconnect.
	OnReconnect func()
	// OnDisconnect is called (on a nats.go goroutine) when the connection is
	// lost; err may be nil.
	OnDisconnect func(error)
	// DecodeErrors, if set, is incremented for each message dropped because
	// it did not decode (Conn.DecodeErrors counts them regardless).
	DecodeErrors prometheus.Counter

	// ReconnectWait is the wait between reconnect attempts to one server;
	// zero means DefaultReconnectWait. Attempts never stop.
	ReconnectWait time.Duration
	// ReconnectJitter is the random extra wait added to ReconnectWait
	// (doubled for TLS connections); zero means DefaultReconnectJitter.
	ReconnectJitter time.Duration
	// PingInterval is how often the client pings the server; zero means
	// DefaultPingInterval. After MaxPingsOut unanswered pings the
	// connection is considered lost.
	PingInterval time.Duration
	// MaxPingsOut: zero means DefaultMaxPingsOut.
	MaxPingsOut int
	// ConnectTimeout bounds each TCP connect; zero means DefaultConnectTimeout.
	ConnectTimeout time.Duration
	// DrainTimeout bounds Close; zero means DefaultDrainTimeout.
	DrainTimeout time.Duration
	// RetryOnFailedConnect makes Connect succeed even when no server is
	// reachable yet, and keep trying in the background. False (the default)
	// means Connect fails.
	RetryOnFailedConnect bool
	// DecodeLogInterval is the minimum time between two decode-error log
	// lines; zero means DefaultDecodeLogInterval.
	DecodeLogInterval time.Duration
}

// Conn is a NATS connection publishing and subscribing protobuf events. It is
// safe for concurrent use.
type Conn struct {
	nc      *nats.Conn
	log     *zap.Logger
	closed  chan struct{} // closed by nats.go's closed callback
	closing atomic.Bool   // set by Close
	bufs    sync.Pool     // *[]byte marshal buffers

	listenMu  sync.Mutex
	listeners map[*func()]struct{} // OnReconnect's, called after Options.OnReconnect

	decodeErrs    atomic.Uint64 // total messages dropped on decode
	decodeSkipped atomic.Uint64 // drops not logged since the last log line
	decodeLimit   *rate.Limiter
	decodeCounter prometheus.Counter // may be nil
}

// Connect connects to url, a NATS URL or a comma-separated list of them (the
// servers of one cluster; the client also learns the others from the server).
func Connect(url string, opts Options) (*Conn, error) {
	log := opts.Logger
	if log == nil {
		log = zap.NewNop()
	}
	log = log.Named("nats")
	c := &Conn{
		log:           log,
		closed:        make(chan struct{}),
		decodeLimit:   rate.NewLimiter(rate.Every(cmp.Or(opts.DecodeLogInterval, DefaultDecodeLogInterval)), 1),
		decodeCounter: opts.DecodeErrors,
	}
	jitter := cmp.Or(opts.ReconnectJitter, DefaultReconnectJitter)
	nopts := []nats.Option{
		nats.MaxReconnects(-1),
		nats.ReconnectWait(cmp.Or(opts.ReconnectWait, DefaultReconnectWait)),
		nats.ReconnectJitter(jitter, 2*jitter),
		nats.PingInterval(cmp.Or(opts.PingInterval, DefaultPingInterval)),
		nats.MaxPingsOutstanding(cmp.Or(opts.MaxPingsOut, DefaultMaxPingsOut)),
		nats.Timeout(cmp.Or(opts.ConnectTimeout, DefaultConnectTimeout)),
		nats.DrainTimeout(cmp.Or(opts.DrainTimeout, DefaultDrainTimeout)),
		nats.RetryOnFailedConnect(opts.RetryOnFailedConnect),
		nats.DisconnectErrHandler(func(nc *nats.Conn, err error) {
			if c.closing.Load() {
				log.Debug("disconnected on close", zap.Error(err))
			} else {
				log.Warn("disconnected", zap.Error(err))
			}
			if opts.OnDisconnect != nil {
				opts.OnDisconnect(err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			log.Info("reconnected", zap.String("server", nc.ConnectedUrlRedacted()))
			if opts.OnReconnect != nil {
				opts.OnReconnect()
			}
			c.reconnected()
		}),
		nats.ClosedHandler(func(*nats.Conn) { close(c.closed) }),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			// Asynchronous errors (slow consumer, permissions): nats.go
			// reports a slow consumer once per episode, not per message.
			fields := []zap.Field{zap.Error(err)}
			if sub != nil {
				fields = append(fields, zap.String("subject", sub.Subject))
			}
			log.Warn("async error", fields...)
		}),
	}
	if opts.Name != "" {
		nopts = append(nopts, nats.Name(opts.Name))
	}
	nc, err := nats.Connect(url, nopts...)
	if err != nil {
		return nil, fmt.Errorf("bus: connect: %w", err)
	}
	c.nc = nc
	if nc.IsConnected() {
		log.Info("connected", zap.String("server", nc.ConnectedUrlRedacted()))
	}
	return c, nil
}

// OnReconnect registers fn to be called (on a nats.go goroutine, after
// Options.OnReconnect) after each reconnect, until the returned function is
// called. For a component that holds state the server may have lost with a
// restart (ephemeral consumers, say) and is handed a Conn rather than
// connecting itself. fn must not block for long: reconnect callbacks run one
// after another.
func (c *Conn) OnReconnect(fn func()) (remove func()) {
	key := &fn
	c.listenMu.Lock()
	if c.listeners == nil {
		c.listeners = make(map[*func()]struct{})
	}
	c.listeners[key] = struct{}{}
	c.listenMu.Unlock()
	return func() {
		c.listenMu.Lock()
		delete(c.listeners, key)
		c.listenMu.Unlock()
	}
}

// reconnected calls the OnReconnect listeners.
func (c *Conn) reconnected() {
	c.listenMu.Lock()
	fns := make([]func(), 0, len(c.listeners))
	for fn := range c.listeners {
		fns = append(fns, *fn)
	}
	c.listenMu.Unlock()
	for _, fn := range fns {
		fn()
	}
}

// Publish marshals m and publishes it on subject. It returns once nats.go
// has buffered the bytes (see Flush); the error is a marshal error, a payload
// over the server's limit, or a closed or overfull connection.
func (c *Conn) Publish(subject string, m proto.Message) error {
	bp, _ := c.bufs.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
	}
	b, err := proto.MarshalOptions{}.MarshalAppend((*bp)[:0], m)
	if err == nil {
		err = c.nc.Publish(subject, b) // copies b into nats.go's buffer
	}
	if cap(b) <= maxPooledBuf {
		*bp = b
		c.bufs.Put(bp)
	}
	if err != nil {
		return fmt.Errorf("bus: publish %s: %w", subject, err)
	}
	return nil
}

// Flush waits until the server has processed everything published so far, or
// ctx ends. A ctx without a deadline gets DefaultFlushTimeout.
func (c *Conn) Flush(ctx context.Context) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultFlushTimeout)
		defer cancel()
	}
	if err := c.nc.FlushWithContext(ctx); err != nil {
		return fmt.Errorf("bus: flush: %w", err)
	}
	return nil
}

// FlushTimeout is Flush with a timeout instead of a context.
func (c *Conn) FlushTimeout(d time.Duration) error {
	if err := c.nc.FlushTimeout(d); err != nil {
		return fmt.Errorf("bus: flush: %w", err)
	}
	return nil
}

// NATS returns the underlying connection, for what this package does not
// wrap (request/reply, status). Do not set its handlers: Conn owns them.
func (c *Conn) NATS() *nats.Conn { return c.nc }

// JetStream returns a JetStream context on this connection.
func (c *Conn) JetStream() (jetstream.JetStream, error) {
	js, err := jetstream.New(c.nc)
	if err != nil {
		return nil, fmt.Errorf("bus: jetstream: %w", err)
	}
	return js, nil
}

// Connected reports whether the connection is currently up; suitable as a
// readiness check (see ReadyCheck).
func (c *Conn) Connected() bool { return c.nc.IsConnected() }

// ReadyCheck returns nil while connected, an error otherwise. It has the
// signature of metrics.Server.AddReadiness checks.
func (c *Conn) ReadyCheck() error {
	if st := c.nc.Status(); st != nats.CONNECTED {
		return fmt.Errorf("bus: nats %s", st)
	}
	return nil
}

// DecodeErrors returns how many received messages were dropped because they
// did not decode.
func (c *Conn) DecodeErrors() uint64 { return c.decodeErrs.Load() }

// Close drains the connection: subscriptions stop receiving, handlers
// already running finish, pending publishes are flushed. It returns once the
// connection is closed (at most DrainTimeout later). Safe to call twice.
func (c *Conn) Close() {
	c.closing.Store(true)
	if c.nc.IsClosed() {
		<-c.closed
		return
	}
	if err := c.nc.Drain(); err != nil {
		// Not connected (reconnecting, or never connected): nothing can be
		// flushed, close now.
		c.nc.Close()
	}
	<-c.closed
}
