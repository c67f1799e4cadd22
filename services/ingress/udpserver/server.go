package udpserver

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
)

// Errors returned by this package.
var (
	// ErrConfig means a Config field is out of range.
	ErrConfig = errors.New("udpserver: invalid config")
	// ErrServing means Serve was called while another Serve runs or after
	// one returned: a Server runs one receive loop in its lifetime.
	ErrServing = errors.New("udpserver: already serving")
	// ErrNilHandler means Serve was called with a nil Handler.
	ErrNilHandler = errors.New("udpserver: nil handler")
)

// Defaults for the zero Config.
const (
	DefaultSocketBuffer  = 4 << 20 // bytes, SO_RCVBUF and SO_SNDBUF
	DefaultBatchSize     = 64      // datagrams per recvmmsg
	DefaultMaxPacketSize = 1500    // bytes
	maxBatchSize         = 1024
	maxPacketSizeLimit   = 65535
)

// Config tunes a Server. The zero value means the defaults.
type Config struct {
	// ReadBuffer is the requested socket receive buffer (SO_RCVBUF), in
	// bytes: it absorbs bursts while the loop is busy. Zero means 4 MiB.
	ReadBuffer int
	// WriteBuffer is the requested socket send buffer (SO_SNDBUF), in
	// bytes. Zero means 4 MiB.
	WriteBuffer int
	// BatchSize is the most datagrams read by one system call where batched
	// reads exist (recvmmsg on Linux). 1 reads one datagram per call on
	// every platform. Zero means 64; at most 1024.
	BatchSize int
	// MaxPacketSize is the largest datagram delivered to the Handler, in
	// bytes; larger ones are dropped and counted in Stats.Oversize. Zero
	// means 1500; at most 65535.
	MaxPacketSize int
}

// withDefaults fills the zero fields and validates the others.
func (c Config) withDefaults() (Config, error) {
	if c.ReadBuffer < 0 || c.WriteBuffer < 0 || c.BatchSize < 0 || c.MaxPacketSize < 0 {
		return c, fmt.Errorf("%w: negative size", ErrConfig)
	}
	if c.ReadBuffer == 0 {
		c.ReadBuffer = DefaultSocketBuffer
	}
	if c.WriteBuffer == 0 {
		c.WriteBuffer = DefaultSocketBuffer
	}
	if c.BatchSize == 0 {
		c.BatchSize = DefaultBatchSize
	}
	if c.BatchSize > maxBatchSize {
		return c, fmt.Errorf("%w: batch size %d above %d", ErrConfig, c.BatchSize, maxBatchSize)
	}
	if c.MaxPacketSize == 0 {
		c.MaxPacketSize = DefaultMaxPacketSize
	}
	if c.MaxPacketSize > maxPacketSizeLimit {
		return c, fmt.Errorf("%w: max packet size %d above %d", ErrConfig, c.MaxPacketSize, maxPacketSizeLimit)
	}
	return c, nil
}

// Server is one UDP socket with its receive loop. Create it with Listen; it
// is safe for concurrent use (WriteTo and WriteBatch from any goroutine,
// Close from any goroutine).
type Server struct {
	conn  *net.UDPConn
	cfg   Config
	local netip.AddrPort
	r     reader       // used only by the Serve goroutine
	msgs  []message    // receive buffers, used only by the Serve goroutine
	w     *batchWriter // sendmmsg for WriteBatch; nil: WriteTo per message

	serving   atomic.Bool // Serve was called
	closed    atomic.Bool // Close was called
	closeOnce sync.Once
	closeErr  error // set once by closeOnce

	stats counters
}

// message is one receive buffer and what the last read put in it.
type message struct {
	buf  []byte         // MaxPacketSize+1 bytes, so an oversize datagram shows as n > MaxPacketSize
	n    int            // bytes received
	from netip.AddrPort // canonical source
}

// Listen opens a UDP socket on addr ("host:port"; network "udp", so
// "[::]:port" or ":port" is dual-stack where the OS allows) and prepares its
// buffers. It does not read yet: call Serve.
func Listen(addr string, cfg Config) (*Server, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("udpserver: resolve %q: %w", addr, err)
	}
	conn, err := net.ListenUDP("udp", ua)
	if err != nil {
		return nil, fmt.Errorf("udpserver: listen: %w", err)
	}
	s, err := newServer(conn, cfg)
	if err != nil {
		_ = conn.Close()
		return nil, err
	}
	return s, nil
}

func newServer(conn *net.UDPConn, cfg Config) (*Server, error) {
	if err := conn.SetReadBuffer(cfg.ReadBuffer); err != nil {
		return nil, fmt.Errorf("udpserver: set read buffer: %w", err)
	}
	if err := conn.SetWriteBuffer(cfg.WriteBuffer); err != nil {
		return nil, fmt.Errorf("udpserver: set write buffer: %w", err)
	}
	s := &Server{conn: conn, cfg: cfg, local: conn.LocalAddr().(*net.UDPAddr).AddrPort()}
	n := cfg.BatchSize
	var r reader
	if n > 1 {
		r = newBatchReader(conn, n)
	}
	if r == nil {
		n = 1
		r = &loopReader{conn: conn}
	}
	// One backing array for all buffers: fewer objects for the GC, and the
	// buffers of one batch sit next to each other in memory.
	size := cfg.MaxPacketSize + 1
	backing := make([]byte, n*size)
	s.msgs = make([]message, n)
	for i := range s.msgs {
		s.msgs[i].buf = backing[i*size : (i+1)*size : (i+1)*size]
	}
	r.prepare(s.msgs)
	s.r = r
	s.w = newBatchWriter(conn)
	return s, nil
}

// LocalAddr returns the address the socket is bound to (with the port the
// OS chose for port 0).
func (s *Server) LocalAddr() netip.AddrPort { return s.local }

// Batched reports whether the receive loop reads several datagrams per
// system call (recvmmsg).
func (s *Server) Batched() bool { return len(s.msgs) > 1 }

// Serve reads datagrams and calls h.HandlePacket for each, on the calling
// goroutine, until Close; then it returns nil. If h is a BatchHandler, its
// EndBatch follows the datagrams of each read. It returns an error for a read
// error that is neither transient nor caused by Close, ErrServing if called
// twice and ErrNilHandler for a nil h.
func (s *Server) Serve(h Handler) error {
	if h == nil {
		return ErrNilHandler
	}
	if !s.serving.CompareAndSwap(false, true) {
		return ErrServing
	}
	limit := s.cfg.MaxPacketSize
	bh, _ := h.(BatchHandler)
	for {
		n, err := s.r.read(s.msgs)
		if err != nil {
			if s.closed.Load() {
				return nil
			}
			if transient(err) {
				s.stats.readErrors.Add(1)
				continue
			}
			return fmt.Errorf("udpserver: read: %w", err)
		}
		var bytes uint64
		for i := range n {
			bytes += uint64(s.msgs[i].n)
		}
		s.stats.reads.Add(1)
		s.stats.packetsIn.Add(uint64(n))
		s.stats.bytesIn.Add(bytes)
		delivered := false
		for i := range n {
			m := &s.msgs[i]
			if m.n > limit {
				s.stats.oversize.Add(1)
				continue
			}
			h.HandlePacket(m.buf[:m.n], m.from)
			delivered = true
		}
		if bh != nil && delivered {
			bh.EndBatch()
		}
	}
}

// WriteTo sends one datagram to to. It is safe for concurrent use and does
// not allocate unless it fails.
func (s *Server) WriteTo(p []byte, to netip.AddrPort) error {
	n, err := s.conn.WriteToUDPAddrPort(p, to)
	if err != nil {
		s.stats.writeErrors.Add(1)
		return fmt.Errorf("udpserver: write to %v: %w", to, err)
	}
	s.stats.packetsOut.Add(1)
	s.stats.bytesOut.Add(uint64(n))
	return nil
}

// Close closes the socket: Serve returns nil soon after, and WriteTo and
// WriteBatch fail.
// Later calls return the first call's result.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		if err := s.conn.Close(); err != nil {
			s.closeErr = fmt.Errorf("udpserver: close: %w", err)
		}
	})
	return s.closeErr
}

// Closed reports whether Close was called.
func (s *Server) Closed() bool { return s.closed.Load() }

// transient reports whether a read error concerns one datagram or a
// passing shortage, so that the loop should go on.
func transient(err error) bool {
	for _, e := range []error{
		syscall.EINTR, syscall.EAGAIN, syscall.ECONNREFUSED, syscall.ECONNRESET,
		syscall.EHOSTUNREACH, syscall.ENETUNREACH, syscall.ENOBUFS, syscall.ENOMEM,
	} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
