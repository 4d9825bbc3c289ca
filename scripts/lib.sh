# shellcheck shell=bash
# Shared functions of scripts/up and scripts/test. Source it; do not run it.
#
#   atrium_install_deps            Debian packages and the npm lock files, when missing
#   atrium_stack_start RUNDIR      PostgreSQL, Redis, Azurite, IdP (+ fake ARM),
#                                  TLS pair; exports the ATRIUM_* environment and
#                                  writes it to RUNDIR/env too
#   atrium_stack_stop RUNDIR       stops what atrium_stack_start started
#   atrium_stack_destroy RUNDIR    stop, then delete RUNDIR (and its data)
#   atrium_build DIR [meson opts]  meson setup (or reconfigure) + ninja -j2
#
# Ports (docs/CONTRACT.md), each overridable: PG_PORT 25432, REDIS_PORT 26379,
# IDP_PORT 28080, FAKE_ARM_PORT 28090, AZURITE_PORT 28100, FAKE_INTUIT_PORT 28110,
# FAKE_PAX8_PORT 28120, PGBOUNCER_PORT 25433 (PgBouncer in transaction mode in
# front of the same PostgreSQL). Everything listens
# on 127.0.0.1 only. Quiet when all is well; on failure it says what failed
# and shows the tail of that component's log.

ATRIUM_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

: "${PG_PORT:=25432}"
: "${REDIS_PORT:=26379}"
: "${IDP_PORT:=28080}"
: "${IDP_HOST:=127.0.0.1}"
: "${FAKE_ARM_PORT:=28090}"
: "${FAKE_INTUIT_PORT:=28110}"   # fake Intuit OAuth + QuickBooks Accounting API
: "${AZURITE_PORT:=28100}"
: "${PGBOUNCER_PORT:=25433}"
: "${FAKE_PAX8_PORT:=28120}"       # fake Pax8 Partner API + token endpoint (tests/fake-pax8)
: "${ATRIUM_STACK_TIMEOUT:=60}"   # seconds each component may take to come up

ATRIUM_DATABASES=(auth_db portal_db betting_db billing_db catalog_db)
ATRIUM_HOME_TID_DEFAULT=99999999-9999-4999-8999-999999999999
ATRIUM_DEMO_TID_DEFAULT=11111111-1111-4111-8111-111111111111
# Azurite's documented, public development account.
ATRIUM_AZURITE_ACCOUNT=devstoreaccount1
ATRIUM_AZURITE_KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='

ATRIUM_APT_PACKAGES=(
  build-essential meson ninja-build pkg-config
  libmicrohttpd-dev libjansson-dev libpq-dev libhiredis-dev libjwt-dev
  libcurl4-openssl-dev libssl-dev libcriterion-dev
  postgresql postgresql-contrib redis-server
  wrk bc openssl curl unzip nodejs npm clang libclang-rt-14-dev chromium stunnel4
  pgbouncer prometheus
)

# ------------------------------------------------------------------ helpers

atrium_say() { printf '%s\n' "$*" >&2; }
atrium_fail() { printf 'ERROR: %s\n' "$*" >&2; }  # says it; the caller returns 1

# atrium_log_tail FILE [N]: the last N (40) lines of FILE, on stderr
atrium_log_tail() {
  local f=$1 n=${2:-40}
  if [ -e "$f" ]; then
    printf -- '----- last %s lines of %s -----\n' "$n" "$f" >&2
    tail -n "$n" "$f" >&2 || true
    printf -- '----- end of %s -----\n' "$f" >&2
  fi
}

# atrium_wait_for DESC TIMEOUT LOGFILE CMD...: run CMD every 0.2 s until it
# succeeds; after TIMEOUT seconds, fail loudly with the log's tail.
atrium_wait_for() {
  local desc=$1 timeout=$2 log=$3
  shift 3
  local deadline=$((SECONDS + timeout))
  while ! "$@" >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      atrium_fail "$desc did not become ready within ${timeout}s"
      atrium_log_tail "$log"
      return 1
    fi
    sleep 0.2
  done
}

# true if something accepts TCP connections on 127.0.0.1:PORT
atrium_port_busy() {
  timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

# true if PID is a live (not zombie) process
atrium_pid_alive() {
  local pid=$1 state
  [ -n "$pid" ] && [ -r "/proc/$pid/stat" ] || return 1
  state=$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1) || return 1
  [ -n "$state" ] && [ "$state" != Z ]
}

# atrium_pidfile_alive PIDFILE MATCH: the pid in PIDFILE is alive and its
# command line contains MATCH (so a recycled pid is never taken for ours)
atrium_pidfile_alive() {
  local pidfile=$1 match=$2 pid cmdline
  [ -s "$pidfile" ] || return 1
  pid=$(head -n 1 "$pidfile" 2>/dev/null) || return 1
  atrium_pid_alive "$pid" || return 1
  cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  [[ $cmdline == *"$match"* ]]
}

# atrium_kill_pidfile PIDFILE MATCH [TIMEOUT]: SIGTERM, wait, then SIGKILL
atrium_kill_pidfile() {
  local pidfile=$1 match=$2 timeout=${3:-15} pid deadline
  if atrium_pidfile_alive "$pidfile" "$match"; then
    pid=$(head -n 1 "$pidfile")
    kill -TERM "$pid" 2>/dev/null || true
    deadline=$((SECONDS + timeout))
    while atrium_pid_alive "$pid" && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
    if atrium_pid_alive "$pid"; then
      atrium_say "warning: $match (pid $pid) ignored SIGTERM for ${timeout}s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.2
    fi
  fi
  rm -f "$pidfile"
}

# ------------------------------------------------------------------ deps

atrium_install_deps() {
  local missing=() p status log
  for p in "${ATRIUM_APT_PACKAGES[@]}"; do
    case $p in
      # A Node.js from elsewhere (NodeSource's nodejs bundles npm and
      # conflicts with Debian's npm) is kept as it is.
      nodejs) command -v node >/dev/null 2>&1 && continue ;;
      npm) command -v npm >/dev/null 2>&1 && continue ;;
    esac
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [ "$status" = "install ok installed" ] || missing+=("$p")
  done

  if [ "${#missing[@]}" -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then
      atrium_fail "missing Debian packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})"
      return 1
    fi
    atrium_say "installing Debian packages: ${missing[*]}"
    log=$(mktemp /tmp/atrium-apt.XXXXXX)
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get update -q >"$log" 2>&1; then
      atrium_fail "apt-get update failed"; atrium_log_tail "$log" 60; rm -f "$log"; return 1
    fi
    if ! apt-get install -y -q \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
        "${missing[@]}" </dev/null >>"$log" 2>&1; then
      atrium_fail "apt-get install ${missing[*]} failed"; atrium_log_tail "$log" 60; rm -f "$log"; return 1
    fi
    rm -f "$log"
  fi

  local major
  major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  if [ "$major" -lt 20 ]; then
    atrium_say "warning: Node.js $(node --version 2>/dev/null) is older than 20; the test tools need Node 20.19+"
  fi

  # The tools at the root, the portal (web/), the browser test and the
  # deploy checks (tests/deploy: kubectl, HCL tools, azurerm and Kubernetes
  # schemas) each have their own lock file; nothing is installed later, at
  # test time. A node_modules that is a symlink is shared (git
  # worktrees point theirs at one checkout's): npm ci would empty it for
  # everyone through the link, so it is left alone; its owner keeps it up
  # to date.
  local dir
  for dir in "$ATRIUM_ROOT" "$ATRIUM_ROOT/web" "$ATRIUM_ROOT/tests/browser" "$ATRIUM_ROOT/tests/deploy"; do
    [ -f "$dir/package-lock.json" ] || continue
    if [ -L "$dir/node_modules" ]; then
      if [ ! -f "$dir/node_modules/.package-lock.json" ]; then
        atrium_fail "$dir/node_modules is a symlink to an empty or missing folder; run npm ci where it points"
        return 1
      fi
    elif [ ! -f "$dir/node_modules/.package-lock.json" ] \
       || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
      atrium_say "npm ci in ${dir#"$ATRIUM_ROOT"/} (npm ci)"
      log=$(mktemp /tmp/atrium-npm.XXXXXX)
      if ! (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error </dev/null >"$log" 2>&1); then
        atrium_fail "npm ci in $dir failed"; atrium_log_tail "$log" 60; rm -f "$log"; return 1
      fi
      rm -f "$log"
    fi
  done
}

# atrium_build_web: the portal, with its API types generated from
# openapi/openapi.yaml (a spec change that breaks the portal fails here).
atrium_build_web() {
  local log
  log=$(mktemp /tmp/atrium-web.XXXXXX)
  if ! (cd "$ATRIUM_ROOT/web" && npm run build </dev/null >"$log" 2>&1); then
    atrium_fail "building the portal (web/) failed"; atrium_log_tail "$log" 80; rm -f "$log"; return 1
  fi
  rm -f "$log"
}

# ------------------------------------------------------------------ build

# atrium_build DIR [meson options...]: configure DIR (relative to the repo
# root) if needed, else reconfigure with the options given; then ninja -j2.
# Compiler warnings are shown even when the build succeeds, and fail it when
# ATRIUM_BUILD_WARNINGS_FATAL=1 (scripts/test sets it).
atrium_build() {
  local dir=$1
  shift
  local log
  (
    cd "$ATRIUM_ROOT" || exit 1
    mkdir -p "$dir"
    log="$dir/atrium-build.log"
    if [ -f "$dir/build.ninja" ]; then
      meson setup --reconfigure "$dir" "$@" >"$log" 2>&1
    else
      meson setup "$dir" "$@" >"$log" 2>&1
    fi || { atrium_fail "meson setup $dir $* failed"; atrium_log_tail "$log" 80; exit 1; }
    if ! ninja -C "$dir" -j2 >>"$log" 2>&1; then
      atrium_fail "build in $dir failed"
      grep -E -A5 'error:|FAILED' "$log" | head -n 120 >&2 || true
      atrium_log_tail "$log" 40
      exit 1
    fi
    if grep -qE ' warning: ' "$log"; then
      atrium_say "compiler warnings in $dir:"
      grep -E -A3 ' warning: ' "$log" | head -n 80 >&2 || true
      if [ "${ATRIUM_BUILD_WARNINGS_FATAL:-0}" = 1 ]; then
        atrium_fail "the build in $dir is not warning-clean"
        exit 1
      fi
    fi
  )
}

# ------------------------------------------------------------------ stack

_atrium_pg_bin() {
  if [ -n "${ATRIUM_PG_BIN:-}" ]; then echo "$ATRIUM_PG_BIN"; return 0; fi
  if [ -x /usr/lib/postgresql/15/bin/initdb ]; then echo /usr/lib/postgresql/15/bin; return 0; fi
  local d
  d=$(printf '%s\n' /usr/lib/postgresql/*/bin | grep -v '\*' | sort -V | tail -n 1)
  [ -n "$d" ] || { atrium_fail "PostgreSQL server binaries not found under /usr/lib/postgresql"; return 1; }
  echo "$d"
}

# Where the cluster lives: RUNDIR/pg, unless the postgres user cannot reach
# RUNDIR (a parent folder closed to others) or the path is too long for a
# unix socket; then under /tmp, with RUNDIR/pg a symlink to it.
_atrium_pg_base() {
  local rundir=$1 ext
  if [ -L "$rundir/pg" ]; then readlink -f "$rundir/pg"; return 0; fi
  if [ -d "$rundir/pg" ]; then echo "$rundir/pg"; return 0; fi
  if [ "${#rundir}" -le 80 ] && runuser -u postgres -- test -x "$rundir" 2>/dev/null; then
    echo "$rundir/pg"
    return 0
  fi
  ext="/tmp/atrium-pg-$(printf '%s' "$rundir" | sha256sum | cut -c1-12)"
  mkdir -p "$ext" && chmod 755 "$ext" && ln -sfn "$ext" "$rundir/pg" || return 1
  echo "$ext"
}

# psql as the cluster's superuser, over the unix socket (peer auth)
_atrium_pg_super() {
  local sock=$1 db=$2
  shift 2
  (cd / && runuser -u postgres -- psql -X -q -At -v ON_ERROR_STOP=1 \
    -h "$sock" -p "$PG_PORT" -U postgres -d "$db" "$@")
}

_atrium_pg_start() {
  local rundir=$1 bin base data sock log
  bin=$(_atrium_pg_bin) || return 1
  base=$(_atrium_pg_base "$rundir") || { atrium_fail "cannot make the PostgreSQL folder"; return 1; }
  data="$base/data" sock="$base/sock" log="$base/postgres.log"
  mkdir -p "$data" "$sock" || return 1
  touch "$log"
  chown -R postgres:postgres "$base" || { atrium_fail "cannot chown $base to postgres"; return 1; }
  chmod 700 "$data"
  chmod 755 "$base" "$sock"
  ln -sfn "$log" "$rundir/logs/postgres.log"

  if [ ! -s "$data/PG_VERSION" ]; then
    if ! (cd / && runuser -u postgres -- "$bin/initdb" -D "$data" -U postgres \
          --auth-local=peer --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8) >"$base/initdb.log" 2>&1; then
      atrium_fail "initdb failed"; atrium_log_tail "$base/initdb.log"; return 1
    fi
    printf "\n# Atrium's local settings (rewritten at each start)\ninclude_if_exists = 'atrium.conf'\n" \
      >>"$data/postgresql.conf"
  fi
  cat >"$data/atrium.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$sock'
max_connections = 300
shared_buffers = 128MB
fsync = on
synchronous_commit = on
full_page_writes = on
timezone = 'UTC'
log_timezone = 'UTC'
log_line_prefix = '%m [%p] %q%u@%d '
log_min_messages = warning
EOF
  chown postgres:postgres "$data/atrium.conf"

  if (cd / && runuser -u postgres -- "$bin/pg_ctl" -D "$data" status) >/dev/null 2>&1; then
    : # already running (an earlier start of this RUNDIR)
  else
    if atrium_port_busy "$PG_PORT"; then
      atrium_fail "port $PG_PORT is already in use by another program (PostgreSQL of another run? set PG_PORT)"
      return 1
    fi
    if ! (cd / && runuser -u postgres -- "$bin/pg_ctl" -D "$data" -l "$log" -w -t "$ATRIUM_STACK_TIMEOUT" -s start) >/dev/null 2>&1; then
      atrium_fail "PostgreSQL did not start"; atrium_log_tail "$log"; return 1
    fi
  fi
  atrium_wait_for "PostgreSQL on 127.0.0.1:$PG_PORT" "$ATRIUM_STACK_TIMEOUT" "$log" \
    "$bin/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" || return 1

  local db out
  out=$(_atrium_pg_super "$sock" postgres 2>&1 <<'SQL'
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'atrium') THEN
    CREATE ROLE atrium LOGIN PASSWORD 'atrium'
      NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
  ELSE
    ALTER ROLE atrium LOGIN PASSWORD 'atrium'
      NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
  END IF;
END
$$;
-- A role that bypasses row-level security, which serve and worker must
-- refuse to run as (tests/integration/test_http.c); it owns nothing.
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'atrium_bypass') THEN
    CREATE ROLE atrium_bypass LOGIN PASSWORD 'atrium_bypass' BYPASSRLS;
  END IF;
END
$$;
SELECT format('CREATE DATABASE %I OWNER atrium', d)
  FROM unnest(ARRAY['auth_db','portal_db','betting_db','billing_db','catalog_db']) AS d
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = d)
\gexec
SQL
  ) || { atrium_fail "creating the atrium role and databases failed"; printf '%s\n' "$out" >&2; return 1; }
  for db in "${ATRIUM_DATABASES[@]}"; do
    out=$(_atrium_pg_super "$sock" "$db" -c 'CREATE EXTENSION IF NOT EXISTS pgcrypto' 2>&1) \
      || { atrium_fail "CREATE EXTENSION pgcrypto in $db failed"; printf '%s\n' "$out" >&2; return 1; }
  done
  ATRIUM_PG_SOCKET_DIR=$sock
}

_atrium_pg_stop() {
  local rundir=$1 bin data pid deadline
  [ -e "$rundir/pg/data/PG_VERSION" ] || return 0
  data=$(readlink -f "$rundir/pg")/data
  if bin=$(_atrium_pg_bin) \
     && (cd / && runuser -u postgres -- "$bin/pg_ctl" -D "$data" status) >/dev/null 2>&1; then
    (cd / && runuser -u postgres -- "$bin/pg_ctl" -D "$data" -m fast -w -t 60 -s stop) >/dev/null 2>&1 \
      || atrium_say "warning: pg_ctl stop did not stop PostgreSQL in $data"
  fi
  # whatever pg_ctl thought: a postmaster of this data folder still alive is
  # told to shut down fast (SIGINT) before its folder may be deleted
  pid=$(head -n 1 "$data/postmaster.pid" 2>/dev/null || true)
  if [ -n "$pid" ] && atrium_pidfile_alive "$data/postmaster.pid" "$data"; then
    kill -INT "$pid" 2>/dev/null || true
    deadline=$((SECONDS + 30))
    while atrium_pid_alive "$pid" && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
    if atrium_pid_alive "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
  fi
  return 0
}

# PgBouncer in transaction mode with two server connections per database,
# the way a managed PostgreSQL's built-in pooler runs: for the tests that
# prove the tenant scope stays with each transaction (ATRIUM_DB_POOL_MODE).
# It refuses to run as root, so it runs as postgres, like the server.
_atrium_pgbouncer_start() {
  local rundir=$1 dir="$1/pgbouncer" log="$1/logs/pgbouncer.log"
  mkdir -p "$dir"
  if atrium_pidfile_alive "$dir/pgbouncer.pid" pgbouncer; then
    return 0
  fi
  if atrium_port_busy "$PGBOUNCER_PORT"; then
    atrium_fail "port $PGBOUNCER_PORT is already in use by another program (set PGBOUNCER_PORT)"
    return 1
  fi
  cat >"$dir/pgbouncer.ini" <<EOF
[databases]
* = host=127.0.0.1 port=$PG_PORT

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $PGBOUNCER_PORT
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $dir/userlist.txt
pool_mode = transaction
default_pool_size = 2
min_pool_size = 0
reserve_pool_size = 0
max_client_conn = 400
max_db_connections = 2
server_round_robin = 1
ignore_startup_parameters = extra_float_digits
logfile = $log
pidfile = $dir/pgbouncer.pid
EOF
  printf '"atrium" "atrium"\n' >"$dir/userlist.txt"
  touch "$log"
  chown -R postgres:postgres "$dir" "$log"
  chmod 600 "$dir/userlist.txt"
  if ! (cd / && runuser -u postgres -- pgbouncer -d -q "$dir/pgbouncer.ini") >>"$log" 2>&1; then
    atrium_fail "pgbouncer did not start"; atrium_log_tail "$log"; return 1
  fi
  atrium_wait_for "PgBouncer on 127.0.0.1:$PGBOUNCER_PORT" "$ATRIUM_STACK_TIMEOUT" "$log" \
    atrium_port_busy "$PGBOUNCER_PORT"
}

_atrium_redis_ping() { [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]; }

_atrium_azurite_up() {
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 \
    "http://127.0.0.1:$AZURITE_PORT/$ATRIUM_AZURITE_ACCOUNT?comp=list")
  [ -n "$code" ] && [ "$code" != 000 ]
}

_atrium_redis_start() {
  local rundir=$1 dir="$1/redis" log="$1/logs/redis.log" sockopt=()
  mkdir -p "$dir"
  if atrium_pidfile_alive "$dir/redis.pid" redis-server; then
    :
  else
    if atrium_port_busy "$REDIS_PORT"; then
      atrium_fail "port $REDIS_PORT is already in use by another program (set REDIS_PORT)"
      return 1
    fi
    if [ "${#dir}" -le 90 ]; then
      sockopt=(--unixsocket "$dir/redis.sock" --unixsocketperm 700)
    fi
    if ! redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --protected-mode yes \
        --save '' --appendonly no --daemonize yes \
        --pidfile "$dir/redis.pid" --logfile "$log" --dir "$dir" "${sockopt[@]}" \
        </dev/null >>"$log" 2>&1; then
      atrium_fail "redis-server did not start"; atrium_log_tail "$log"; return 1
    fi
  fi
  atrium_wait_for "Redis on 127.0.0.1:$REDIS_PORT" "$ATRIUM_STACK_TIMEOUT" "$log" _atrium_redis_ping
}

# _atrium_bg_start NAME PIDFILE LOGFILE PORT MATCH READY_CMD... -- CMD...:
# start a program in the background in its own session (so a Ctrl-C in the
# terminal reaches only the script, which then stops it), unless it is
# already running; then wait (bounded) until READY_CMD succeeds.
_atrium_bg_start() {
  local name=$1 pidfile=$2 log=$3 port=$4 match=$5
  shift 5
  local ready=() cmd=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do ready+=("$1"); shift; done
  shift
  cmd=("$@")
  if atrium_pidfile_alive "$pidfile" "$match"; then
    :
  else
    if atrium_port_busy "$port"; then
      atrium_fail "port $port ($name) is already in use by another program"
      return 1
    fi
    (cd "$ATRIUM_ROOT" && exec setsid "${cmd[@]}" </dev/null >>"$log" 2>&1) &
    echo $! >"$pidfile"
  fi
  local deadline=$((SECONDS + ATRIUM_STACK_TIMEOUT))
  while ! "${ready[@]}" >/dev/null 2>&1; do
    if ! atrium_pidfile_alive "$pidfile" "$match"; then
      atrium_fail "$name exited at start"; atrium_log_tail "$log"; return 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      atrium_fail "$name did not become ready within ${ATRIUM_STACK_TIMEOUT}s"; atrium_log_tail "$log"; return 1
    fi
    sleep 0.2
  done
}

_atrium_fake_arm_entry() {
  local f
  for f in tests/fake-arm/fake-arm.mjs tests/fake-arm/server.mjs tests/fake-arm/index.mjs \
           tests/fake-arm/main.mjs tests/fake-arm/fake-arm.js; do
    if [ -f "$ATRIUM_ROOT/$f" ]; then echo "$f"; return 0; fi
  done
  return 1
}

# The server's TLS pair in RUNDIR/tls. With ATRIUM_TLS_MKCERT=1 (scripts/up)
# and mkcert installed: a certificate from mkcert's local CA, which
# `mkcert -install` makes trusted by this machine's browsers and system
# store (ca.pem is that CA, for curl and Node.js). Otherwise a self-signed
# one (ca.pem is the certificate itself).
_atrium_tls() {
  local dir="$1/tls" want_mkcert=
  mkdir -p "$dir"
  if [ "${ATRIUM_TLS_MKCERT:-0}" = 1 ] && command -v mkcert >/dev/null 2>&1; then want_mkcert=1; fi
  if [ -s "$dir/cert.pem" ] && [ -s "$dir/key.pem" ] && [ -s "$dir/ca.pem" ] \
     && { [ -z "$want_mkcert" ] || [ -e "$dir/mkcert" ]; } \
     && openssl x509 -in "$dir/cert.pem" -noout -checkend 86400 >/dev/null 2>&1; then
    return 0
  fi
  rm -f "$dir/mkcert"
  local out
  if [ -n "$want_mkcert" ]; then
    if out=$( (mkcert -install && mkcert -cert-file "$dir/cert.pem" -key-file "$dir/key.pem" \
                 localhost 127.0.0.1 ::1) 2>&1 ) \
       && cp "$(mkcert -CAROOT)/rootCA.pem" "$dir/ca.pem"; then
      touch "$dir/mkcert"
      chmod 600 "$dir/key.pem"
      chmod 644 "$dir/cert.pem" "$dir/ca.pem"
      return 0
    fi
    atrium_say "mkcert failed; using a self-signed certificate instead:"
    printf '%s\n' "$out" >&2
  fi
  out=$(openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 825 \
      -keyout "$dir/key.pem" -out "$dir/cert.pem" -subj "/CN=localhost" \
      -addext "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1" 2>&1) \
    || { atrium_fail "making the TLS certificate failed"; printf '%s\n' "$out" >&2; return 1; }
  cp "$dir/cert.pem" "$dir/ca.pem"
  chmod 600 "$dir/key.pem"
  chmod 644 "$dir/cert.pem" "$dir/ca.pem"
}

_atrium_export_env() {
  local rundir=$1 db upper idp="http://127.0.0.1:$IDP_PORT"
  for db in "${ATRIUM_DATABASES[@]}"; do
    upper=$(printf '%s' "${db%_db}" | tr '[:lower:]' '[:upper:]')
    export "ATRIUM_DB_${upper}_URL=postgresql://atrium:atrium@127.0.0.1:$PG_PORT/$db"
  done
  export ATRIUM_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
  export ATRIUM_OIDC_METADATA_URL="$idp/common/v2.0/.well-known/openid-configuration"
  export ATRIUM_OIDC_V1_ISSUER="$idp/sts/{tenantid}/"
  export ATRIUM_OIDC_AUDIENCE="api://atrium,00000000-0000-4000-8000-00000000a7a1"
  export ATRIUM_OIDC_CLIENT_ID="${ATRIUM_OIDC_CLIENT_ID:-00000000-0000-4000-8000-00000000a7a1}"
  export ATRIUM_OIDC_CLIENT_SECRET="${ATRIUM_OIDC_CLIENT_SECRET:-local-portal-secret}"
  export ATRIUM_HOME_TENANT_ID="${ATRIUM_HOME_TENANT_ID:-$ATRIUM_HOME_TID_DEFAULT}"
  export ATRIUM_TLS_CERT="$rundir/tls/cert.pem"
  export ATRIUM_TLS_KEY="$rundir/tls/key.pem"
  export ATRIUM_TEST_IDP_URL="$idp"
  export ATRIUM_TEST_CA="$rundir/tls/ca.pem"
  export NODE_EXTRA_CA_CERTS="$rundir/tls/ca.pem"
  export ATRIUM_TEST_DEMO_TENANT_ID="$ATRIUM_DEMO_TID_DEFAULT"
  export ATRIUM_STORAGE_BLOB_URL="http://127.0.0.1:$AZURITE_PORT/$ATRIUM_AZURITE_ACCOUNT"
  export ATRIUM_STORAGE_ACCOUNT="$ATRIUM_AZURITE_ACCOUNT"
  export ATRIUM_STORAGE_KEY="$ATRIUM_AZURITE_KEY"
  # The portal uploads catalog media straight to Azurite (CORS, set by the worker).
  export ATRIUM_STORAGE_CORS_ORIGINS="*"
  # the worker's own identity (client credentials): the fake ARM serves the
  # Entra token endpoint for it when it runs, else the local IdP does
  export ATRIUM_AZURE_TENANT_ID="${ATRIUM_AZURE_TENANT_ID:-$ATRIUM_HOME_TENANT_ID}"
  export ATRIUM_AZURE_CLIENT_ID="${ATRIUM_AZURE_CLIENT_ID:-00000000-0000-4000-8000-0000000000a3}"
  export ATRIUM_AZURE_CLIENT_SECRET="${ATRIUM_AZURE_CLIENT_SECRET:-fake-secret}"
  export ATRIUM_AZURE_SUBSCRIPTION_ID="${ATRIUM_AZURE_SUBSCRIPTION_ID:-00000000-0000-4000-8000-0000000000a2}"
  if [ -n "${ATRIUM_FAKE_ARM_STARTED:-}" ]; then
    export ATRIUM_ARM_URL="http://127.0.0.1:$FAKE_ARM_PORT"
    export ATRIUM_AZURE_AUTHORITY="${ATRIUM_AZURE_AUTHORITY:-http://127.0.0.1:$FAKE_ARM_PORT}"
    # the shared AKS cluster that hosts the namespaces' Kubernetes
    # namespaces: the fake ARM knows every cluster of its subscription
    export ATRIUM_AKS_CLUSTER_ID="${ATRIUM_AKS_CLUSTER_ID:-/subscriptions/$ATRIUM_AZURE_SUBSCRIPTION_ID/resourceGroups/atrium-platform/providers/Microsoft.ContainerService/managedClusters/atrium-aks}"
  else
    export ATRIUM_AZURE_AUTHORITY="${ATRIUM_AZURE_AUTHORITY:-$idp}"
  fi
  # webhook verification secrets (local values; production sets its own)
  export ATRIUM_QUICKBOOKS_VERIFIER_TOKEN="${ATRIUM_QUICKBOOKS_VERIFIER_TOKEN:-local-quickbooks-verifier-token}"
  export ATRIUM_PAX8_WEBHOOK_SECRET="${ATRIUM_PAX8_WEBHOOK_SECRET:-local-pax8-webhook-secret}"
  # the Pax8 Partner API (client credentials): the fake Pax8 when it runs
  # (its rate limit raised: the suites pull back to back; 429 is tested by
  # fault injection and by the fake's self-test)
  if [ -n "${ATRIUM_FAKE_PAX8_STARTED:-}" ]; then
    export ATRIUM_PAX8_CLIENT_ID="${ATRIUM_PAX8_CLIENT_ID:-fake-pax8-client}"
    export ATRIUM_PAX8_CLIENT_SECRET="${ATRIUM_PAX8_CLIENT_SECRET:-fake-pax8-secret}"
    export ATRIUM_PAX8_API_URL="${ATRIUM_PAX8_API_URL:-http://127.0.0.1:$FAKE_PAX8_PORT/v1}"
    export ATRIUM_PAX8_TOKEN_URL="${ATRIUM_PAX8_TOKEN_URL:-http://127.0.0.1:$FAKE_PAX8_PORT/oauth/token}"
  fi
  # QuickBooks Online connection (issue 15): the fake Intuit serves OAuth and
  # the Accounting API; local client credentials and a local secrets key
  if [ -n "${ATRIUM_FAKE_INTUIT_STARTED:-}" ]; then
    local intuit="http://127.0.0.1:$FAKE_INTUIT_PORT"
    export ATRIUM_QUICKBOOKS_AUTH_URL="$intuit/connect/oauth2"
    export ATRIUM_QUICKBOOKS_TOKEN_URL="$intuit/oauth2/v1/tokens/bearer"
    export ATRIUM_QUICKBOOKS_REVOKE_URL="$intuit/v2/oauth2/tokens/revoke"
    export ATRIUM_QUICKBOOKS_API_URL="$intuit"
    export ATRIUM_TEST_FAKE_INTUIT_URL="$intuit"
  fi
  export ATRIUM_QUICKBOOKS_CLIENT_ID="${ATRIUM_QUICKBOOKS_CLIENT_ID:-local-quickbooks-client}"
  export ATRIUM_QUICKBOOKS_CLIENT_SECRET="${ATRIUM_QUICKBOOKS_CLIENT_SECRET:-local-quickbooks-secret}"
  export ATRIUM_SECRETS_KEY="${ATRIUM_SECRETS_KEY:-local1:bG9jYWwtYXRyaXVtLXNlY3JldHMta2V5LTMyYnl0ZSE=}"
  export ATRIUM_TEST_RUNDIR="$rundir"
  export ATRIUM_TEST_PG_SOCKET_DIR="${ATRIUM_PG_SOCKET_DIR:-}"
  export ATRIUM_TEST_PGBOUNCER_PORT="$PGBOUNCER_PORT"

  # the same, for another terminal: source RUNDIR/env
  {
    echo "# written by scripts/lib.sh atrium_stack_start; source it to use this stack"
    local v
    for v in $(compgen -e | grep -E '^(ATRIUM_|NODE_EXTRA_CA_CERTS$)' | sort); do
      printf 'export %s=%q\n' "$v" "${!v}"
    done
  } >"$rundir/env"
  chmod 600 "$rundir/env"
}

atrium_stack_start() {
  local rundir=${1:?usage: atrium_stack_start RUNDIR}
  mkdir -p "$rundir" || return 1
  rundir=$(cd "$rundir" && pwd) || return 1
  mkdir -p "$rundir/logs" "$rundir/idp" "$rundir/azurite" || return 1
  chmod go+x "$rundir"   # the postgres user must be able to pass through it

  if [ ! -x "$ATRIUM_ROOT/node_modules/.bin/azurite-blob" ] || [ ! -d "$ATRIUM_ROOT/node_modules/oauth2-mock-server" ]; then
    atrium_fail "node_modules is missing: run atrium_install_deps (npm ci) first"
    return 1
  fi

  _atrium_tls "$rundir" || return 1
  _atrium_pg_start "$rundir" || return 1
  _atrium_redis_start "$rundir" || return 1
  _atrium_pgbouncer_start "$rundir" || return 1

  local idp="http://127.0.0.1:$IDP_PORT"
  _atrium_bg_start "identity provider on $idp" "$rundir/idp/idp.pid" "$rundir/logs/idp.log" \
    "$IDP_PORT" tests/idp/idp.mjs \
    curl -fsS -o /dev/null "$idp/common/v2.0/.well-known/openid-configuration" \
    -- env IDP_PORT="$IDP_PORT" IDP_HOST="$IDP_HOST" IDP_KEY_FILE="$rundir/idp/keys.json" \
       node tests/idp/idp.mjs || return 1

  _atrium_bg_start "Azurite (blob) on 127.0.0.1:$AZURITE_PORT" "$rundir/azurite/azurite.pid" \
    "$rundir/logs/azurite.log" "$AZURITE_PORT" azurite-blob \
    _atrium_azurite_up \
    -- node node_modules/.bin/azurite-blob --blobHost 127.0.0.1 --blobPort "$AZURITE_PORT" \
       --location "$rundir/azurite" --silent --skipApiVersionCheck --loose --disableProductStyleUrl \
       --disableTelemetry \
    || return 1

  local arm
  ATRIUM_FAKE_ARM_STARTED=
  if arm=$(_atrium_fake_arm_entry); then
    _atrium_bg_start "fake ARM on 127.0.0.1:$FAKE_ARM_PORT" "$rundir/fake-arm.pid" \
      "$rundir/logs/fake-arm.log" "$FAKE_ARM_PORT" "$arm" \
      atrium_port_busy "$FAKE_ARM_PORT" \
      -- env FAKE_ARM_PORT="$FAKE_ARM_PORT" FAKE_ARM_HOST=127.0.0.1 \
         FAKE_ARM_CLIENT_SECRET="${ATRIUM_AZURE_CLIENT_SECRET:-fake-secret}" \
         node "$arm" || return 1
    ATRIUM_FAKE_ARM_STARTED=1
  fi

  ATRIUM_FAKE_PAX8_STARTED=
  if [ -f "$ATRIUM_ROOT/tests/fake-pax8/server.mjs" ]; then
    _atrium_bg_start "fake Pax8 on 127.0.0.1:$FAKE_PAX8_PORT" "$rundir/fake-pax8.pid" \
      "$rundir/logs/fake-pax8.log" "$FAKE_PAX8_PORT" tests/fake-pax8/server.mjs \
      curl -fsS -o /dev/null "http://127.0.0.1:$FAKE_PAX8_PORT/_fake/health" \
      -- env FAKE_PAX8_PORT="$FAKE_PAX8_PORT" FAKE_PAX8_HOST=127.0.0.1 \
         FAKE_PAX8_CLIENT_ID="${ATRIUM_PAX8_CLIENT_ID:-fake-pax8-client}" \
         FAKE_PAX8_CLIENT_SECRET="${ATRIUM_PAX8_CLIENT_SECRET:-fake-pax8-secret}" \
         FAKE_PAX8_RATE_LIMIT="${FAKE_PAX8_RATE_LIMIT:-100000}" \
         node tests/fake-pax8/server.mjs || return 1
    ATRIUM_FAKE_PAX8_STARTED=1
  fi

  ATRIUM_FAKE_INTUIT_STARTED=
  if [ -f "$ATRIUM_ROOT/tests/fake-intuit/server.mjs" ]; then
    _atrium_bg_start "fake Intuit on 127.0.0.1:$FAKE_INTUIT_PORT" "$rundir/fake-intuit.pid" \
      "$rundir/logs/fake-intuit.log" "$FAKE_INTUIT_PORT" tests/fake-intuit/server.mjs \
      atrium_port_busy "$FAKE_INTUIT_PORT" \
      -- env FAKE_INTUIT_PORT="$FAKE_INTUIT_PORT" FAKE_INTUIT_HOST=127.0.0.1 \
         FAKE_INTUIT_CLIENT_ID="${ATRIUM_QUICKBOOKS_CLIENT_ID:-local-quickbooks-client}" \
         FAKE_INTUIT_CLIENT_SECRET="${ATRIUM_QUICKBOOKS_CLIENT_SECRET:-local-quickbooks-secret}" \
         node tests/fake-intuit/server.mjs || return 1
    ATRIUM_FAKE_INTUIT_STARTED=1
  fi

  _atrium_export_env "$rundir"
}

atrium_stack_stop() {
  local rundir=${1:?usage: atrium_stack_stop RUNDIR}
  [ -d "$rundir" ] || return 0
  rundir=$(cd "$rundir" && pwd)
  atrium_kill_pidfile "$rundir/fake-arm.pid" tests/fake-arm
  atrium_kill_pidfile "$rundir/fake-pax8.pid" tests/fake-pax8
  atrium_kill_pidfile "$rundir/fake-intuit.pid" tests/fake-intuit
  atrium_kill_pidfile "$rundir/azurite/azurite.pid" azurite-blob
  atrium_kill_pidfile "$rundir/idp/idp.pid" tests/idp/idp.mjs
  atrium_kill_pidfile "$rundir/redis/redis.pid" redis-server
  atrium_kill_pidfile "$rundir/pgbouncer/pgbouncer.pid" pgbouncer
  _atrium_pg_stop "$rundir"
  return 0
}

atrium_stack_destroy() {
  local rundir=${1:?usage: atrium_stack_destroy RUNDIR} ext=
  [ -d "$rundir" ] || return 0
  atrium_stack_stop "$rundir"
  if [ -L "$rundir/pg" ]; then ext=$(readlink -f "$rundir/pg"); fi
  rm -rf "$rundir"
  case $ext in /tmp/atrium-pg-*) rm -rf "$ext" ;; esac
  return 0
}
