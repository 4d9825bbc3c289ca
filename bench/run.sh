#!/usr/bin/env bash
# Benchmark: GET /v1/tenants/{tenant_id} with a bearer token at 64
# connections (wrk), against the database-alone ceiling of the same SQL
# (pgbench, same run), plus a cold run with a fresh token per request.
# Prints requests/s, p50/p99 latency and the server's peak RSS, and the
# cold run against `openssl speed -multi 2 rsa2048` verify/s on this machine
# (the most RS256 signatures the cores can check, nothing else running),
# and the server's token check alone at the same (build/tests/bench_verify).
#
# usage: bench/run.sh [seconds]   (default 10; starts its own stack)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
cd "$ATRIUM_ROOT"
SECS=${1:-10}
CONNS=64
PORT=${BENCH_PORT:-28943}
export PG_PORT=${BENCH_PG_PORT:-25932} REDIS_PORT=${BENCH_REDIS_PORT:-26879} IDP_PORT=${BENCH_IDP_PORT:-28580}
export FAKE_ARM_PORT=${BENCH_ARM_PORT:-28590} AZURITE_PORT=${BENCH_AZURITE_PORT:-28600}
export PGBOUNCER_PORT=${BENCH_PGBOUNCER_PORT:-25933}

atrium_install_deps >/dev/null
RUN=$(mktemp -d /tmp/atrium-bench.XXXXXX)
SERVE_PID=
cleanup() {
  [ -n "$SERVE_PID" ] && kill "$SERVE_PID" 2>/dev/null && wait "$SERVE_PID" 2>/dev/null
  atrium_stack_destroy "$RUN" >/dev/null 2>&1 || true
}
trap cleanup EXIT
export BENCH_RUN=$RUN
atrium_stack_start "$RUN" >/dev/null
atrium_build build -Dbuildtype=release >/dev/null
build/atrium migrate >/dev/null 2>&1

URL="https://127.0.0.1:$PORT"
ATRIUM_LISTEN=127.0.0.1:$PORT ATRIUM_PUBLIC_URL=$URL ATRIUM_LOG_LEVEL=warn \
  ATRIUM_RATE_LIMIT_IP_PER_MINUTE=100000000 ATRIUM_RATE_LIMIT_TENANT_PER_MINUTE=100000000 \
  build/atrium serve >"$RUN/logs/serve.log" 2>&1 &
SERVE_PID=$!
atrium_wait_for "atrium serve" 30 "$RUN/logs/serve.log" curl -fsS -o /dev/null --cacert "$ATRIUM_TEST_CA" "$URL/healthz"

SUPER=$(scripts/token --tenant "$ATRIUM_HOME_TENANT_ID" --roles super_admin)
TID=$(cat /proc/sys/kernel/random/uuid)
TENANT=$(curl -fsS --cacert "$ATRIUM_TEST_CA" -H "Authorization: Bearer $SUPER" -H 'Content-Type: application/json' \
  -d "{\"slug\":\"bench\",\"name\":\"Bench\",\"aad_tenant_id\":\"$TID\",\"tags\":{\"Owner\":\"bench\"}}" \
  "$URL/v1/tenants" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).id))')
TOKEN=$(scripts/token --tenant "$TID" --roles tenant_admin)
export BENCH_PATH="/v1/tenants/$TENANT" TOKEN

wrk_run() { # label [connections]; prints rps p50 p99 p99.9
  local out rps p50 p99 p999 conns=${2:-$CONNS}
  out=$(wrk -t2 -c"$conns" -d"${SECS}s" --latency -s bench/get_tenant.lua "$URL" 2>&1)
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  p999=$(awk '$1=="p99.9" {print $2}' <<<"$out")
  local non2xx; non2xx=$(awk '/Non-2xx/ {print $5}' <<<"$out")
  printf '%-34s %10s req/s   p50 %8s   p99 %8s   p99.9 %8s   non-2xx %s\n' "$1" "$rps" "$p50" "$p99" "$p999" "${non2xx:-0}"
  echo "$rps" >"$RUN/last_rps"
}

# Warm-up, then the measured warm run (validated token cached).
wrk -t2 -c$CONNS -d2s -s bench/get_tenant.lua "$URL" >/dev/null 2>&1
echo "== GET /v1/tenants/{id}, $CONNS connections, ${SECS}s each"
wrk_run "atrium (warm token cache)"
WARM=$(cat "$RUN/last_rps")

# Database-alone ceiling: the same statement, prepared, same connections.
cat >"$RUN/pgbench.sql" <<SQL
SELECT tenant_json(t)::text, t.version, t.id FROM tenants t WHERE t.id = '$TENANT';
SQL
PGB=$(PGPASSWORD=atrium PGOPTIONS="-c atrium.tenant_id=$TENANT" \
  /usr/lib/postgresql/15/bin/pgbench -h 127.0.0.1 -p "$PG_PORT" -U atrium -n -M prepared \
  -c $CONNS -j 2 -T "$SECS" -f "$RUN/pgbench.sql" portal_db 2>&1)
CEIL=$(awk '/^tps/ {print $3; exit}' <<<"$PGB")
LAT=$(awk '/latency average/ {print $4 " " $5}' <<<"$PGB")
printf '%-34s %10s tps     avg latency %s\n' "pgbench ceiling (same SQL)" "$CEIL" "$LAT"
# The plain-SELECT ceiling: the row's columns, no JSON built in SQL.
cat >"$RUN/pgbench-plain.sql" <<SQL
SELECT id, slug, name, status, aad_tenant_id, version, created_at, updated_at FROM tenants WHERE id = '$TENANT';
SQL
PGBP=$(PGPASSWORD=atrium PGOPTIONS="-c atrium.tenant_id=$TENANT" \
  /usr/lib/postgresql/15/bin/pgbench -h 127.0.0.1 -p "$PG_PORT" -U atrium -n -M prepared \
  -c $CONNS -j 2 -T "$SECS" -f "$RUN/pgbench-plain.sql" portal_db 2>&1)
PLAIN=$(awk '/^tps/ {print $3; exit}' <<<"$PGBP")
printf '%-34s %10s tps     avg latency %s\n' "pgbench ceiling (plain SELECT)" "$PLAIN" \
  "$(awk '/latency average/ {print $4 " " $5}' <<<"$PGBP")"

# Cold: a fresh token per request (signature check + user upsert each).
N=$(( SECS * 6000 ))
node bench/tokens.mjs "$RUN/idp/keys.json" "$N" "$TID" "api://atrium" "http://127.0.0.1:$IDP_PORT" >"$RUN/tokens.txt"
TOKENS_FILE="$RUN/tokens.txt" wrk_run "atrium (fresh token per request)"
COLD=$(cat "$RUN/last_rps")

RSS=$(awk '/VmHWM/ {print $2}' "/proc/$SERVE_PID/status")
# The same warm read at 256 connections: throughput, tail and memory.
wrk_run "atrium (warm, 256 connections)" 256
RSS256=$(awk '/VmHWM/ {print $2}' "/proc/$SERVE_PID/status")

# Signature ceiling: RSA-2048 verifications per second on both cores, run
# after wrk so the two do not share the cores.
VERIFY=$(openssl speed -multi 2 -seconds 5 rsa2048 2>/dev/null | awk '/^rsa 2048 bits/ {print $NF; exit}')
printf '%-34s %10s verify/s\n' "openssl speed -multi 2 rsa2048" "$VERIFY"
# The server's own token check alone (no HTTP, no database), 2 threads.
SIG=; FULL=
if [ -x build/tests/bench_verify ]; then
  BV=$(build/tests/bench_verify 2 5)
  echo "$BV"
  SIG=$(awk '/^auth_rs256_verify/ {print $(NF-1)}' <<<"$BV")
  FULL=$(awk '/^auth_verify/ {print $(NF-1)}' <<<"$BV")
fi
echo
printf 'ratio warm/ceiling: %.2f (warm/plain SELECT: %.2f)   cold/ceiling: %.2f   cold/openssl verify: %.3f\n' \
  "$(echo "$WARM / $CEIL" | bc -l)" "$(echo "$WARM / $PLAIN" | bc -l)" "$(echo "$COLD / $CEIL" | bc -l)" "$(echo "$COLD / $VERIFY" | bc -l)"
printf 'peak RSS of atrium serve: %.1f MiB after the 64-connection runs, %.1f MiB after 256\n' \
  "$(echo "$RSS / 1024" | bc -l)" "$(echo "$RSS256 / 1024" | bc -l)"
[ -n "$SIG" ] && printf 'ratio to openssl verify: auth_rs256_verify %.2f   auth_verify %.2f\n' \
  "$(echo "$SIG / $VERIFY" | bc -l)" "$(echo "$FULL / $VERIFY" | bc -l)"
true
