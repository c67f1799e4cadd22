#!/usr/bin/env bash
# The main job, on a fresh machine: build the all-in-one realm and the load
# generator, start the realm (embedded NATS + login + ingress + world) in a
# fresh data directory, play a swarm of simulated players against it, print
# the load generator's report and the realm's own metrics, then stop the realm
# with SIGTERM.
#
#   tools/demo.sh                       # 500 players for 30 s
#   PLAYERS=2000 DURATION=60s tools/demo.sh
#   PROFILE=1 tools/demo.sh             # also CPU profiles: the realm (10 s under load), the load generator
#
# Needs only Go (at /usr/local/go) and the Go module proxy; no Bazel.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="/usr/local/go/bin:$PATH"
PLAYERS="${PLAYERS:-500}"
DURATION="${DURATION:-30s}"
RAMP="${RAMP:-250}"
WORK="${DEMO_DIR:-$ROOT/.data/demo}"
LOGIN_ADDR=127.0.0.1:7777
METRICS_ADDR=127.0.0.1:9100

if ! command -v curl >/dev/null; then
  SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq curl >/dev/null
fi

echo "==> building realm and loadgen"
mkdir -p "$WORK/bin"
go build -o "$WORK/bin/realm" ./services/realm
go build -o "$WORK/bin/loadgen" ./tools/loadgen

rm -rf "$WORK/data"
echo "==> starting the realm (log: $WORK/realm.log)"
# --dev-fast-hash and a high --login-rate: every simulated player logs in
# from this one address, and the production argon2id cost (64 MiB per hash)
# would make the ramp-up the whole run.
"$WORK/bin/realm" --data-dir "$WORK/data" --nats-port -1 \
  --login-listen "$LOGIN_ADDR" --ingress-listen 127.0.0.1:7778 \
  --metrics-addr "$METRICS_ADDR" --dev-fast-hash --login-rate 100000 --login-burst 100000 \
  --log-format console --log-level info ${PROFILE:+--pprof} >"$WORK/realm.log" 2>&1 &
realm_pid=$!
trap 'kill -TERM $realm_pid 2>/dev/null || true; wait $realm_pid 2>/dev/null || true' EXIT

ready=
for _ in $(seq 1 300); do
  if ! kill -0 "$realm_pid" 2>/dev/null; then
    echo "realm exited early:"; cat "$WORK/realm.log"; exit 1
  fi
  if curl -fsS "http://$METRICS_ADDR/readyz" >/dev/null 2>&1; then ready=1; break; fi
  sleep 0.1
done
[ -n "$ready" ] || { echo "realm not ready after 30 s:"; cat "$WORK/realm.log"; exit 1; }
sed -n '1,40p' "$WORK/realm.log" | grep -v '^\s*$' | head -20

echo
echo "==> $PLAYERS players for $DURATION (ramp $RAMP logins/s)"
if [ -n "${PROFILE:-}" ]; then
  # Once the players are in, profile the realm for 10 s.
  ( sleep "${PROFILE_DELAY:-8}"
    curl -fsS -o "$WORK/realm.cpu.pprof" "http://$METRICS_ADDR/debug/pprof/profile?seconds=10" ) &
  profile_pid=$!
fi
"$WORK/bin/loadgen" --login-addr "$LOGIN_ADDR" --ca-file "$WORK/data/tls/ca.pem" \
  --players "$PLAYERS" --duration "$DURATION" --ramp "$RAMP" --json "$WORK/report.json" \
  ${PROFILE:+--cpuprofile "$WORK/loadgen.cpu.pprof"}

if [ -n "${PROFILE:-}" ]; then
  wait "$profile_pid" || true
  echo
  echo "==> where the realm's CPU went ($WORK/realm.cpu.pprof)"
  go tool pprof -top -nodecount=25 "$WORK/bin/realm" "$WORK/realm.cpu.pprof" 2>/dev/null | head -32 || true
  echo
  echo "==> where the load generator's CPU went, whole run ($WORK/loadgen.cpu.pprof)"
  go tool pprof -top -nodecount=15 "$WORK/bin/loadgen" "$WORK/loadgen.cpu.pprof" 2>/dev/null | head -22 || true
fi

echo
echo "==> realm metrics (http://$METRICS_ADDR/metrics)"
curl -fsS "http://$METRICS_ADDR/metrics" | grep -E '^realm_(login_(logins_total|sessions_open)|ingress_(packets|handshakes_total|confirmations_total|bindings)|world_(players|ticks_total|tick_overruns_total|snapshots))' | grep -v ' 0$' | head -40 || true

echo
echo "==> stopping the realm (SIGTERM)"
kill -TERM "$realm_pid"
wait "$realm_pid" && echo "realm stopped cleanly" || echo "realm exited with status $?"
trap - EXIT
echo "report: $WORK/report.json   realm log: $WORK/realm.log"
