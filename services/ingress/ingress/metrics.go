package ingress

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ecs-realm/realm/services/ingress/udpserver"
)

// Drop reasons, the values of realm_ingress_packets_dropped_total{reason}.
const (
	dropUnknownEndpoint = "unknown_endpoint" // data packet from an endpoint bound to no session
	dropBadAuth         = "bad_auth"         // tag, token or session id did not verify
	dropReplay          = "replay"           // sequence already seen or too old
	dropMalformed       = "malformed"        // bad size, type, layout or payload
	dropRate            = "rate"             // over the endpoint's rate limit
	dropRevoked         = "revoked"          // handshake for a closed session
	dropExpired         = "expired"          // handshake with an expired token (or one outliving TokenLifetime)
	dropOverload        = "overload"         // authenticated input refused: NATS publishing fell behind
)

var dropReasons = []string{dropUnknownEndpoint, dropBadAuth, dropReplay, dropMalformed, dropRate, dropRevoked, dropExpired, dropOverload}

// Handshake results, the values of realm_ingress_handshakes_total{result}.
// Failures also count as drops (see handshakeDrop).
const (
	hsBound    = "bound"    // a new binding
	hsRebound  = "rebound"  // the session moved to a new endpoint
	hsRepeat   = "repeat"   // re-sent from the bound endpoint: acked again, nothing changed
	hsLifetime = "lifetime" // token outlives TokenLifetime: refused (drop reason expired)
	hsError    = "error"    // internal error (never expected)
)

var handshakeResults = []string{hsBound, hsRebound, hsRepeat,
	dropMalformed, dropExpired, dropBadAuth, dropRevoked, dropReplay, dropRate, hsLifetime, hsError}

// Unbind reasons, the values of realm_ingress_unbinds_total{reason}.
const (
	unbindClosed    = "session_closed"
	unbindIdle      = "idle_timeout"
	unbindShutdown  = "shutdown"
	unbindMoved     = "moved"     // another ingress instance bound the session
	unbindDisplaced = "displaced" // another session's handshake took the endpoint
)

// Reasons a snapshot is not sent, realm_ingress_snapshots_skipped_total{reason}.
const (
	skipUnknown   = "unknown_session" // not registered or not bound here
	skipTooLarge  = "too_large"       // does not fit one packet
	skipBadView   = "bad_view"        // a view that does not describe a snapshot (snapshot.ErrBadView)
	skipSendError = "send_error"      // the socket refused it
	// skipUnconfirmed: the endpoint has not echoed its binding's challenge
	// yet (return routability; see sess.newBinding).
	skipUnconfirmed = "unconfirmed"
)

// Results of a KeepAlive that echoes a challenge,
// realm_ingress_confirmations_total{result}.
const (
	confirmOK    = "confirmed"       // the binding's challenge: snapshots may go to the endpoint
	confirmWrong = "wrong_challenge" // another challenge: an echo that crossed a new handshake, or a forgery
)

// metrics are the Service's Prometheus collectors. Per-packet counters are
// resolved to their label values once, so that counting is one atomic add.
type metrics struct {
	dropped    map[string]prometheus.Counter
	handshakes map[string]prometheus.Counter
	unbinds    map[string]prometheus.Counter
	skipped    map[string]prometheus.Counter
	// confirmations counts KeepAlives that echoed a challenge.
	confirmations map[string]prometheus.Counter

	inputs        prometheus.Counter
	batches       prometheus.Counter
	keepAlives    prometheus.Counter
	snapshots     prometheus.Counter
	publishErrors *prometheus.CounterVec
	evicted       prometheus.Counter
	handoffWaits  prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, srv *udpserver.Server, bindings, sessions, revoked func() float64) (*metrics, error) {
	dropped := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "realm_ingress_packets_dropped_total",
		Help: "Received packets dropped, by reason.",
	}, []string{"reason"})
	handshakes := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "realm_ingress_handshakes_total",
		Help: "Handshake requests that reached verification, by result.",
	}, []string{"result"})
	unbinds := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "realm_ingress_unbinds_total",
		Help: "Bindings ended, by reason.",
	}, []string{"reason"})
	skipped := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "realm_ingress_snapshots_skipped_total",
		Help: "Snapshots from the world not sent, by reason.",
	}, []string{"reason"})
	confirmations := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "realm_ingress_confirmations_total",
		Help: "KeepAlive packets that echoed a handshake challenge (return routability), by result.",
	}, []string{"result"})
	m := &metrics{
		confirmations: make(map[string]prometheus.Counter),
		dropped:       make(map[string]prometheus.Counter),
		handshakes:    make(map[string]prometheus.Counter),
		unbinds:       make(map[string]prometheus.Counter),
		skipped:       make(map[string]prometheus.Counter),
		inputs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "realm_ingress_inputs_forwarded_total",
			Help: "Authenticated inputs published to the world.",
		}),
		batches: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "realm_ingress_input_batches_total",
			Help: "InputBatch messages published to the world.",
		}),
		keepAlives: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "realm_ingress_keepalives_total",
			Help: "Authenticated keep-alive packets (those echoing a challenge count in realm_ingress_confirmations_total).",
		}),
		snapshots: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "realm_ingress_snapshots_sent_total",
			Help: "Snapshot packets sent to clients.",
		}),
		publishErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "realm_ingress_publish_errors_total",
			Help: "NATS publishes that failed, by subject.",
		}, []string{"subject"}),
		evicted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "realm_ingress_revoked_evicted_total",
			Help: "Closed session ids forgotten before their tokens expired, to stay within MaxRevoked.",
		}),
		handoffWaits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "realm_ingress_handoff_waits_total",
			Help: "Times the receive loop waited for a worker to free a chunk: the workers are saturated.",
		}),
	}
	for _, r := range dropReasons {
		m.dropped[r] = dropped.WithLabelValues(r)
	}
	for _, r := range handshakeResults {
		m.handshakes[r] = handshakes.WithLabelValues(r)
	}
	for _, r := range []string{unbindClosed, unbindIdle, unbindShutdown, unbindMoved, unbindDisplaced} {
		m.unbinds[r] = unbinds.WithLabelValues(r)
	}
	for _, r := range []string{skipUnknown, skipTooLarge, skipBadView, skipSendError, skipUnconfirmed} {
		m.skipped[r] = skipped.WithLabelValues(r)
	}
	for _, r := range []string{confirmOK, confirmWrong} {
		m.confirmations[r] = confirmations.WithLabelValues(r)
	}
	stat := func(name, help string, f func(udpserver.Stats) uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help},
			func() float64 { return float64(f(srv.Stats())) })
	}
	gauge := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f)
	}
	for _, c := range []prometheus.Collector{
		dropped, handshakes, unbinds, skipped, confirmations,
		m.inputs, m.batches, m.keepAlives, m.snapshots, m.publishErrors, m.evicted, m.handoffWaits,
		stat("realm_ingress_packets_received_total", "UDP datagrams received.",
			func(s udpserver.Stats) uint64 { return s.PacketsIn }),
		stat("realm_ingress_bytes_received_total", "UDP payload bytes received.",
			func(s udpserver.Stats) uint64 { return s.BytesIn }),
		stat("realm_ingress_packets_sent_total", "UDP datagrams sent (acks and snapshots).",
			func(s udpserver.Stats) uint64 { return s.PacketsOut }),
		stat("realm_ingress_bytes_sent_total", "UDP payload bytes sent.",
			func(s udpserver.Stats) uint64 { return s.BytesOut }),
		stat("realm_ingress_socket_reads_total", "Read system calls that returned datagrams (received/reads is the mean batch).",
			func(s udpserver.Stats) uint64 { return s.Reads }),
		stat("realm_ingress_oversize_total", "Datagrams dropped by the socket loop for exceeding the maximum packet size.",
			func(s udpserver.Stats) uint64 { return s.Oversize }),
		stat("realm_ingress_socket_read_errors_total", "Transient socket read errors.",
			func(s udpserver.Stats) uint64 { return s.ReadErrors }),
		stat("realm_ingress_socket_write_errors_total", "Failed socket writes.",
			func(s udpserver.Stats) uint64 { return s.WriteErrors }),
		gauge("realm_ingress_bindings", "Sessions currently bound to an endpoint.", bindings),
		gauge("realm_ingress_sessions", "Sessions held (bound, or unbound and kept for their replay window until their token expires).", sessions),
		gauge("realm_ingress_revoked_sessions", "Closed session ids remembered to refuse their tokens.", revoked),
	} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
