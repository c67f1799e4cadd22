// Package daemon is the frame every Realm binary runs its service in, so that
// the three services started alone (services/login, services/ingress,
// services/world) behave alike: a Prometheus registry with the Go and process
// collectors, the /metrics, /healthz and /readyz server (libs/metrics) up
// before the service exists (readiness says "starting" until then), the
// service run until SIGINT or SIGTERM, then the metrics server stopped. It
// also reads the connect-token key that login and ingress share.
//
// It holds no state beyond one process's run and starts no goroutine of its
// own besides the metrics server's.
package daemon
