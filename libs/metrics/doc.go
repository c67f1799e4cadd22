// Package metrics serves a process's Prometheus metrics and its health
// endpoints on one internal HTTP listener.
//
//   - /metrics: the Prometheus text exposition of one Gatherer (promhttp).
//   - /healthz: 200 while the process runs (liveness: it answers, so it is
//     not wedged).
//   - /readyz: 200 when every readiness check registered with AddReadiness
//     passes; 503 listing the failing checks otherwise (readiness: send it
//     traffic or not, e.g. "nats" while disconnected).
//
// The listener is meant for operators and scrapers on an internal network: it
// has no authentication and /readyz shows check errors verbatim. Checks run
// synchronously on every /readyz request, one after the other, so they must be
// cheap and non-blocking (read an atomic, ask a connection for its status).
// An empty address disables the server: Start and Shutdown are no-ops, so
// callers need no special case.
package metrics
