package login

import (
	"fmt"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	realmv1 "github.com/ecs-realm/realm/proto/realm/v1"
)

// Label values of the counters below. Every value is created at start, so a
// counter reads 0 rather than being absent.
const (
	// realm_login_tls_handshakes_total{result}
	hsOK      = "ok"
	hsTimeout = "timeout" // the handshake deadline passed
	hsError   = "error"   // bad client hello, wrong version, reset, ...

	// realm_login_logins_total{result} and realm_login_registrations_total{result}
	resOK                 = "ok"
	resInvalidCredentials = "invalid_credentials"
	resInvalidName        = "invalid_name"
	resInvalidPassword    = "invalid_password"
	resNameTaken          = "name_taken"
	resRateLimited        = "rate_limited"
	resAlreadyLoggedIn    = "already_logged_in"
	resShuttingDown       = "shutting_down"
	resTimeout            = "timeout" // RequestTimeout passed (hash slots all busy, slow NATS): Error INTERNAL
	resError              = "error"   // NATS or internal failure (Error INTERNAL)

	// realm_login_frame_errors_total{kind}
	feMalformed  = "malformed"
	feTooLarge   = "too_large"
	feUnexpected = "unexpected"

	// realm_login_connections_rejected_total{reason}
	rejBusy         = "busy"          // over MaxConnections: Error SERVER_BUSY
	rejBusyOverflow = "busy_overflow" // so many busy rejections in flight that the socket was just closed
	rejShutdown     = "shutdown"      // handshake finished during shutdown: Error SHUTTING_DOWN

	// realm_login_event_publish_errors_total{event}
	evOpened = "session_opened"
	evClosed = "session_closed"
)

type metrics struct {
	connsOpen     prometheus.Gauge
	connsAccepted prometheus.Counter
	rejected      *prometheus.CounterVec
	handshakes    *prometheus.CounterVec
	logins        *prometheus.CounterVec
	registrations *prometheus.CounterVec
	frameErrors   *prometheus.CounterVec
	sessionsOpen  prometheus.Gauge
	kicks         *prometheus.CounterVec
	closes        *prometheus.CounterVec
	refreshes     prometheus.Counter
	publishErrors *prometheus.CounterVec
	presenceErrs  prometheus.Counter
}

// reasonLabel is a CloseReason as a metric label: "replaced", "logout", ...
func reasonLabel(r realmv1.CloseReason) string {
	return strings.ToLower(strings.TrimPrefix(r.String(), "CLOSE_REASON_"))
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		connsOpen: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "realm_login_connections_open",
			Help: "TCP connections open now, in TLS handshake or established.",
		}),
		connsAccepted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "realm_login_connections_accepted_total",
			Help: "TCP connections accepted.",
		}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "realm_login_connections_rejected_total",
			Help: "Connections turned away, by reason.",
		}, []string{"reason"}),
		handshakes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "realm_login_tls_handshakes_total",
			Help: "TLS handshakes, by result.",
		}, []string{"result"}),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "realm_login_logins_total",
			Help: "Login requests, by result.",
		}, []string{"result"}),
		registrations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "realm_login_registrations_total",
			Help: "Register requests, by result.",
		}, []string{"result"}),
		frameErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "realm_login_frame_errors_total",
			Help: "Frames that closed their connection, by kind.",
		}, []string{"kind"}),
		sessionsOpen: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "realm_login_sessions_open",
			Help: "Logged-in sessions open now on this instance.",
		}),
		kicks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "realm_login_kicks_total",
			Help: "Connections ended with a Kick, by reason (counted also when the slow client never received it).",
		}, []string{"reason"}),
		closes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "realm_login_sessions_closed_total",
			Help: "Logged-in sessions ended, by close reason.",
		}, []string{"reason"}),
		refreshes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "realm_login_token_refreshes_total",
			Help: "Connect tokens refreshed.",
		}),
		publishErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "realm_login_event_publish_errors_total",
			Help: "Session events that could not be published to NATS, by event.",
		}, []string{"event"}),
		presenceErrs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "realm_login_presence_release_errors_total",
			Help: "Presence entries that could not be released when their session ended.",
		}),
	}
	for _, l := range []string{rejBusy, rejBusyOverflow, rejShutdown} {
		m.rejected.WithLabelValues(l)
	}
	for _, l := range []string{hsOK, hsTimeout, hsError} {
		m.handshakes.WithLabelValues(l)
	}
	for _, l := range []string{resOK, resInvalidCredentials, resRateLimited, resAlreadyLoggedIn, resShuttingDown, resTimeout, resError} {
		m.logins.WithLabelValues(l)
	}
	for _, l := range []string{resOK, resInvalidName, resInvalidPassword, resNameTaken, resRateLimited, resAlreadyLoggedIn, resTimeout, resError} {
		m.registrations.WithLabelValues(l)
	}
	for _, l := range []string{feMalformed, feTooLarge, feUnexpected} {
		m.frameErrors.WithLabelValues(l)
	}
	for _, r := range []realmv1.CloseReason{realmv1.CloseReason_CLOSE_REASON_REPLACED, realmv1.CloseReason_CLOSE_REASON_SHUTDOWN,
		realmv1.CloseReason_CLOSE_REASON_SLOW_CONSUMER, realmv1.CloseReason_CLOSE_REASON_IDLE_TIMEOUT} {
		m.kicks.WithLabelValues(reasonLabel(r))
	}
	for v := range realmv1.CloseReason_name {
		if r := realmv1.CloseReason(v); r != realmv1.CloseReason_CLOSE_REASON_UNSPECIFIED {
			m.closes.WithLabelValues(reasonLabel(r))
		}
	}
	for _, l := range []string{evOpened, evClosed} {
		m.publishErrors.WithLabelValues(l)
	}
	for _, c := range []prometheus.Collector{m.connsOpen, m.connsAccepted, m.rejected, m.handshakes, m.logins,
		m.registrations, m.frameErrors, m.sessionsOpen, m.kicks, m.closes, m.refreshes, m.publishErrors, m.presenceErrs} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register metrics: %w", err)
		}
	}
	return m, nil
}
