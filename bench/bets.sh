#!/usr/bin/env bash
# Benchmark: GET /v1/tenants/{id}/events?limit=20 and POST /v1/tenants/{id}/bets
# at 64 connections (wrk), each against its database-alone ceiling measured
# with pgbench in the same run, then the money invariants checked on what
# the bets run left. Prints requests/s, p50/p99 latency, the ratios and the
# server's peak RSS.
#
# Bets: every request has a fresh Idempotency-Key and the next of 64
# members' tokens (each member funded), on one open event. The bet's
# database work is the saga's: betting_db (key claim + pending bet; then
# accept + stored answer), billing_db (the stake posting) and portal_db
# (the audit record). pgbench cannot span databases in one script, so each
# part runs alone at 64 clients with the same SQL, and the ceiling is what
# the database server could do if every bet needed all three parts:
# 1 / (1/tps_betting + 1/tps_billing + 1/tps_portal). The pgbench parts run
# in a tenant of their own, so the invariant check sees only the API's bets.
#
# usage: bench/bets.sh [seconds]   (default 10; starts its own stack)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
cd "$ATRIUM_ROOT"
SECS=${1:-10}
CONNS=64
MEMBERS=64
PORT=${BENCH_PORT:-28963}
export PG_PORT=${BENCH_PG_PORT:-25952} REDIS_PORT=${BENCH_REDIS_PORT:-26899} IDP_PORT=${BENCH_IDP_PORT:-28620}
export PGBOUNCER_PORT=${BENCH_PGBOUNCER_PORT:-25953}
export FAKE_ARM_PORT=${BENCH_ARM_PORT:-28630} AZURITE_PORT=${BENCH_AZURITE_PORT:-28640}
PGBENCH=/usr/lib/postgresql/15/bin/pgbench
[ -x "$PGBENCH" ] || PGBENCH=pgbench

atrium_install_deps >/dev/null
RUN=$(mktemp -d /tmp/atrium-bench-bets.XXXXXX)
SERVE_PID=
cleanup() {
  [ -n "$SERVE_PID" ] && kill "$SERVE_PID" 2>/dev/null && wait "$SERVE_PID" 2>/dev/null
  atrium_stack_destroy "$RUN" >/dev/null 2>&1 || true
}
trap cleanup EXIT
atrium_stack_start "$RUN" >/dev/null
atrium_build build -Dbuildtype=release >/dev/null
build/atrium migrate >/dev/null 2>&1

URL="https://127.0.0.1:$PORT"
ATRIUM_LISTEN=127.0.0.1:$PORT ATRIUM_LOG_LEVEL=warn \
  ATRIUM_RATE_LIMIT_IP_PER_MINUTE=100000000 ATRIUM_RATE_LIMIT_TENANT_PER_MINUTE=100000000 \
  ATRIUM_DEPOSIT_MAX_MINOR=1000000000000 ATRIUM_DEPOSIT_DAILY_MAX_MINOR=1000000000000000 \
  build/atrium serve >"$RUN/logs/serve.log" 2>&1 &
SERVE_PID=$!
atrium_wait_for "atrium serve" 30 "$RUN/logs/serve.log" curl -fsS -o /dev/null --cacert "$ATRIUM_TEST_CA" "$URL/healthz"

api() { # METHOD PATH TOKEN [BODY]: prints the body, fails on a non-2xx
  curl -fsS --cacert "$ATRIUM_TEST_CA" -X "$1" -H "Authorization: Bearer $3" \
    -H 'Content-Type: application/json' ${4:+-d "$4"} "$URL$2"
}
json_field() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s)[process.argv[1]]))' "$1"; }
psql_db() { PGPASSWORD=atrium psql -X -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U atrium -d "$1"; }

SUPER=$(scripts/token --tenant "$ATRIUM_HOME_TENANT_ID" --roles super_admin)
new_tenant() { # SLUG -> "tenant_id aad_id"
  local aad; aad=$(cat /proc/sys/kernel/random/uuid)
  echo "$(api POST /v1/tenants "$SUPER" "{\"slug\":\"$1\",\"name\":\"$1\",\"aad_tenant_id\":\"$aad\"}" | json_field id) $aad"
}
read -r TENANT AAD <<<"$(new_tenant bench-bets)"
read -r PGB_TENANT PGB_AAD <<<"$(new_tenant bench-pgbench)"
ADMIN=$(scripts/token --tenant "$AAD" --roles tenant_admin)
PGB_ADMIN=$(scripts/token --tenant "$PGB_AAD" --roles tenant_admin)
EVENT_BODY='{"name":"Bench match","sport":"football","starts_at":"2099-01-01T00:00:00Z","status":"open","selections":[{"key":"home","name":"Home","odds":"2.00"},{"key":"away","name":"Away","odds":"1.80"}]}'
for _ in $(seq 30); do api POST "/v1/tenants/$TENANT/events" "$ADMIN" "$EVENT_BODY" >/dev/null; done
EVENT=$(api POST "/v1/tenants/$TENANT/events" "$ADMIN" "$EVENT_BODY" | json_field id)
PGB_EVENT=$(api POST "/v1/tenants/$PGB_TENANT/events" "$PGB_ADMIN" "$EVENT_BODY" | json_field id)
: >"$RUN/tokens.txt"
for _ in $(seq "$MEMBERS"); do
  T=$(scripts/token --tenant "$AAD")
  api POST "/v1/tenants/$TENANT/payments" "$T" '{"direction":"deposit","amount_minor":100000000000,"currency":"EUR"}' >/dev/null
  echo "$T" >>"$RUN/tokens.txt"
done
# The pgbench tenant's members: synthetic user ids, funded the way a
# deposit is (one balanced transaction each).
M1=$(scripts/token --tenant "$PGB_AAD")
api POST "/v1/tenants/$PGB_TENANT/payments" "$M1" '{"direction":"deposit","amount_minor":1,"currency":"EUR"}' >/dev/null
psql_db billing_db >/dev/null <<SQL
SELECT set_config('atrium.tenant_id', '*', false);
INSERT INTO accounts (tenant_id, kind, owner_user_id, currency, balance_minor)
  SELECT '$PGB_TENANT', 'user_wallet', ('00000000-0000-4000-8000-' || lpad(i::text, 12, '0'))::uuid, 'EUR', 0
  FROM generate_series(0, $CONNS - 1) i ON CONFLICT DO NOTHING;
WITH w AS (SELECT id, owner_user_id FROM accounts WHERE tenant_id = '$PGB_TENANT' AND kind = 'user_wallet'
             AND owner_user_id::text LIKE '00000000-0000-4000-8000-%'),
     x AS (SELECT id FROM accounts WHERE tenant_id = '$PGB_TENANT' AND kind = 'external' AND currency = 'EUR'),
     t AS (INSERT INTO ledger_transactions (tenant_id, kind, reference, user_id)
           SELECT '$PGB_TENANT', 'deposit', gen_random_uuid(), w.owner_user_id FROM w RETURNING id, user_id)
INSERT INTO ledger_entries (transaction_id, tenant_id, account_id, amount_minor, currency)
  SELECT t.id, '$PGB_TENANT'::uuid, w.id, 100000000000, 'EUR' FROM t JOIN w ON w.owner_user_id = t.user_id
  UNION ALL SELECT t.id, '$PGB_TENANT'::uuid, x.id, -100000000000, 'EUR' FROM t, x;
SQL

wrk_run() { # label script [connections]; prints rps p50 p99 p99.9; leaves rps in $RUN/last_rps
  local out rps p50 p99 p999 non2xx conns=${3:-$CONNS}
  out=$(wrk -t2 -c"$conns" -d"${SECS}s" --latency -s "$2" "$URL" 2>&1)
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  p999=$(awk '$1=="p99.9" {print $2}' <<<"$out")
  non2xx=$(awk '/Non-2xx/ {print $5}' <<<"$out")
  printf '%-40s %10s req/s   p50 %8s   p99 %8s   p99.9 %8s   non-2xx %s\n' "$1" "$rps" "$p50" "$p99" "$p999" "${non2xx:-0}"
  echo "$rps" >"$RUN/last_rps"
}
pgbench_run() { # label db tenant script; prints tps; leaves it in $RUN/last_tps
  local out tps lat
  out=$(PGPASSWORD=atrium PGOPTIONS="-c atrium.tenant_id=$3" \
    "$PGBENCH" -h 127.0.0.1 -p "$PG_PORT" -U atrium -n -M prepared -c $CONNS -j 2 -T "$SECS" \
    -D tenant="$3" -D event="$PGB_EVENT" -f "$4" "$2" 2>&1) || { echo "$out" >&2; return 1; }
  tps=$(awk '/^tps/ {print $3; exit}' <<<"$out")
  lat=$(awk '/latency average/ {print $4 " " $5}' <<<"$out")
  printf '%-40s %10s tps     avg latency %s\n' "$1" "$tps" "$lat"
  echo "$tps" >"$RUN/last_tps"
}

# ---- GET events?limit=20
MEMBER=$(head -n 1 "$RUN/tokens.txt")
export TOKEN=$MEMBER BENCH_PATH="/v1/tenants/$TENANT/events?limit=20"
wrk -t2 -c$CONNS -d2s -s bench/events.lua "$URL" >/dev/null 2>&1
echo "== GET /v1/tenants/{id}/events?limit=20, $CONNS connections, ${SECS}s each"
wrk_run "atrium" bench/events.lua
EV_RPS=$(cat "$RUN/last_rps")
cat >"$RUN/events.sql" <<'SQL'
SELECT event_json(e)::text, ((extract(epoch FROM e.created_at) * 1000000)::bigint)::text || '|' || e.id::text
FROM events e
WHERE e.tenant_id = :tenant::uuid AND (NULL::text IS NULL OR event_status(e) = NULL)
  AND (NULL::text IS NULL OR e.sport = NULL)
  AND (NULL::timestamptz IS NULL OR e.starts_at >= NULL::timestamptz)
  AND (NULL::timestamptz IS NULL OR e.starts_at < NULL::timestamptz)
  AND (NULL::bigint IS NULL OR (e.created_at, e.id) < ('epoch'::timestamptz + NULL::bigint * interval '1 microsecond', NULL::uuid))
ORDER BY e.created_at DESC, e.id DESC LIMIT 21;
SQL
# The API's tenant has the 31 events; the ceiling reads the same rows.
pgbench_run "pgbench ceiling (same SQL)" betting_db "$TENANT" "$RUN/events.sql"
EV_CEIL=$(cat "$RUN/last_tps")
# The plain-SELECT ceiling: the same page of rows, columns only.
cat >"$RUN/events-plain.sql" <<'SQL'
SELECT * FROM events e WHERE e.tenant_id = :tenant::uuid ORDER BY e.created_at DESC, e.id DESC LIMIT 21;
SQL
pgbench_run "pgbench ceiling (plain SELECT)" betting_db "$TENANT" "$RUN/events-plain.sql"
EV_PLAIN=$(cat "$RUN/last_tps")
RSS64=$(awk '/VmHWM/ {print $2}' "/proc/$SERVE_PID/status")
wrk_run "atrium, 256 connections" bench/events.lua 256
RSS256=$(awk '/VmHWM/ {print $2}' "/proc/$SERVE_PID/status")

# ---- POST bets
export TOKENS_FILE="$RUN/tokens.txt" BENCH_PATH="/v1/tenants/$TENANT/bets"
export BENCH_BODY="{\"event_id\":\"$EVENT\",\"selection\":\"home\",\"stake_minor\":100,\"currency\":\"EUR\",\"odds\":\"2.00\"}"
wrk -t2 -c$CONNS -d2s -s bench/bets.lua "$URL" >/dev/null 2>&1
echo
echo "== POST /v1/tenants/{id}/bets (fresh Idempotency-Key each), $CONNS connections, $MEMBERS members, ${SECS}s each"
wrk_run "atrium" bench/bets.lua
BET_RPS=$(cat "$RUN/last_rps")

USER_ID="('00000000-0000-4000-8000-' || lpad(:client_id::text, 12, '0'))::uuid"
cat >"$RUN/bet_betting.sql" <<SQL
\set k random(1, 2000000000)
BEGIN;
INSERT INTO idempotency_keys (scope, key, request_hash) VALUES (:tenant::text || ':' || :client_id, 'pgb-' || :k || '-' || :client_id, 'h')
ON CONFLICT (scope, key) DO NOTHING RETURNING 1;
WITH ev AS (SELECT e.id, event_status(e) AS st, event_odds(e, 'home'::text) AS odds FROM events e
            WHERE e.id = :event::uuid AND e.tenant_id = :tenant::uuid FOR SHARE),
b AS (INSERT INTO bets (tenant_id, user_id, event_id, selection, stake_minor, currency, odds,
        potential_payout_minor, idempotency_key, request_id)
      SELECT :tenant::uuid, $USER_ID, ev.id, 'home'::text, 100::bigint, 'EUR'::text, ev.odds,
        floor(100::bigint::numeric * ev.odds)::bigint, 'pgb-' || :k || '-' || :client_id, 'pgbench'::text
      FROM ev WHERE ev.st = 'open' AND ev.odds = '2.00'::numeric
      RETURNING *)
SELECT (SELECT st FROM ev) AS st, (SELECT odds::text FROM ev) AS cur, b.id::text AS bet_id, b.tenant_id::text AS t,
  b.user_id::text AS u, b.currency AS c, b.stake_minor::text AS s, b.status AS stt,
  COALESCE(b.rejection_reason, '') AS rr, bet_json(b)::text AS j
FROM (SELECT 1) one LEFT JOIN b ON true \gset
COMMIT;
BEGIN;
UPDATE bets b SET status = 'accepted', updated_at = now() WHERE b.id = :bet_id::uuid AND b.status = 'pending'
RETURNING b.id::text, b.tenant_id::text, b.user_id::text, b.currency, b.stake_minor::text, b.status,
  COALESCE(b.rejection_reason, ''), bet_json(b)::text;
UPDATE idempotency_keys SET status = 201, response_body = :j, location = NULLIF('/v1/x', ''), etag = NULLIF('', '')
WHERE scope = :tenant::text || ':' || :client_id AND key = 'pgb-' || :k || '-' || :client_id;
COMMIT;
SQL
cat >"$RUN/bet_billing.sql" <<SQL
WITH w AS (SELECT id FROM accounts WHERE tenant_id = :tenant::uuid AND kind = 'user_wallet'
             AND owner_user_id = $USER_ID AND currency = 'EUR'::text),
h AS (SELECT id FROM accounts WHERE tenant_id = :tenant::uuid AND kind = 'house' AND owner_user_id IS NULL AND currency = 'EUR'::text),
t AS (INSERT INTO ledger_transactions (tenant_id, kind, reference, user_id, request_id)
      SELECT :tenant::uuid, 'stake', gen_random_uuid(), $USER_ID, 'pgbench'::text FROM w, h
      ON CONFLICT (kind, reference) DO NOTHING RETURNING id),
legs AS (SELECT w.id AS account_id, -100::bigint AS amount FROM w UNION ALL SELECT h.id, 100::bigint FROM h),
e AS (INSERT INTO ledger_entries (transaction_id, tenant_id, account_id, amount_minor, currency)
      SELECT t.id, :tenant::uuid, legs.account_id, legs.amount, 'EUR'::text FROM t, legs
      ORDER BY legs.account_id RETURNING 1)
SELECT (SELECT count(*) FROM t)::int, (SELECT count(*) FROM w)::int;
SQL
cat >"$RUN/bet_portal.sql" <<'SQL'
INSERT INTO audit_log (tenant_id, actor_tid, actor_oid, actor_kind, action, resource_type, resource_id, request_id, changes)
VALUES (NULLIF(:tenant::text, '')::uuid, NULLIF(:tenant::text, '')::uuid, NULLIF(:tenant::text, '')::uuid,
  CASE WHEN :tenant::text = '' THEN 'system' ELSE 'user' END, 'bet.place', 'bet', gen_random_uuid()::text, 'pgbench',
  '{"id":"x","status":"accepted","stake_minor":100}'::jsonb);
SQL
pgbench_run "pgbench betting_db part (same SQL)" betting_db "$PGB_TENANT" "$RUN/bet_betting.sql"
P1=$(cat "$RUN/last_tps")
pgbench_run "pgbench billing_db part (same SQL)" billing_db "$PGB_TENANT" "$RUN/bet_billing.sql"
P2=$(cat "$RUN/last_tps")
pgbench_run "pgbench portal_db part (same SQL)" portal_db "$PGB_TENANT" "$RUN/bet_portal.sql"
P3=$(cat "$RUN/last_tps")
BET_CEIL=$(echo "1 / (1/$P1 + 1/$P2 + 1/$P3)" | bc -l)
printf '%-40s %10.1f bets/s (1 / sum of 1/tps of the parts)\n' "pgbench ceiling for a whole bet" "$BET_CEIL"

# ---- invariants on what the API's bets left
sleep 1
VIOL=$(psql_db billing_db <<SQL | tail -n 1
SELECT set_config('atrium.tenant_id', '*', false) \g /dev/null
SELECT (SELECT count(*) FROM (SELECT 1 FROM ledger_entries WHERE tenant_id = '$TENANT'
          GROUP BY transaction_id, currency HAVING sum(amount_minor) <> 0) x)
     + (SELECT count(*) FROM accounts a WHERE a.tenant_id = '$TENANT' AND a.kind = 'user_wallet'
          AND (a.balance_minor < 0 OR a.balance_minor <> (SELECT COALESCE(sum(amount_minor), 0)
               FROM ledger_entries e WHERE e.account_id = a.id)));
SQL
)
STAKES=$(psql_db billing_db <<SQL | tail -n 1
SELECT set_config('atrium.tenant_id', '*', false) \g /dev/null
SELECT count(*) || ' ' || COALESCE(sum(-e.amount_minor), 0) FROM ledger_transactions t JOIN ledger_entries e ON e.transaction_id = t.id
JOIN accounts a ON a.id = e.account_id WHERE t.tenant_id = '$TENANT' AND t.kind = 'stake' AND a.kind = 'user_wallet';
SQL
)
BETS=$(psql_db betting_db <<SQL | tail -n 1
SELECT set_config('atrium.tenant_id', '*', false) \g /dev/null
SELECT count(*) FILTER (WHERE status = 'accepted') || ' ' || COALESCE(sum(stake_minor) FILTER (WHERE status = 'accepted'), 0)
  || ' ' || count(*) FILTER (WHERE status NOT IN ('accepted')) FROM bets WHERE tenant_id = '$TENANT';
SQL
)
read -r N_STAKES SUM_STAKES <<<"$STAKES"
read -r N_ACC SUM_ACC N_OTHER <<<"$BETS"
if [ "$N_STAKES" != "$N_ACC" ] || [ "$SUM_STAKES" != "$SUM_ACC" ] || [ "$N_OTHER" != 0 ]; then
  VIOL=$((VIOL + 1))
fi
echo
echo "invariants after the run: $N_ACC bets accepted, $N_STAKES stakes totalling $SUM_STAKES (bets: $SUM_ACC), $N_OTHER not accepted; violations: $VIOL"

RSS=$(awk '/VmHWM/ {print $2}' "/proc/$SERVE_PID/status")
echo
printf 'ratio events/ceiling: %.2f (events/plain SELECT: %.2f)   bets/ceiling: %.2f\n' \
  "$(echo "$EV_RPS / $EV_CEIL" | bc -l)" "$(echo "$EV_RPS / $EV_PLAIN" | bc -l)" "$(echo "$BET_RPS / $BET_CEIL" | bc -l)"
printf 'peak RSS of atrium serve: %.1f MiB after events at 64 connections, %.1f at 256, %.1f after the bets\n' \
  "$(echo "$RSS64 / 1024" | bc -l)" "$(echo "$RSS256 / 1024" | bc -l)" "$(echo "$RSS / 1024" | bc -l)"
[ "$VIOL" = 0 ]
