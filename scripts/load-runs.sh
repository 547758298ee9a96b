#!/usr/bin/env bash
# Load runs of Créneau on this machine: the figures of docs/performance.md and the README.
#
#   scripts/load-runs.sh            # about (16 + 2 x ROUNDS) x DURATION + CRASH_DURATION
#                                   # seconds, plus the release build and the seeding of
#                                   # 4 + ROUNDS databases
#
# Builds the release binary once, then, each time on a fresh database seeded with
# `creneau seed` (EXPERTS synthetic experts), runs `creneau loadtest` (CLIENTS virtual
# Claims IA clients for DURATION seconds) and prints its report:
#   (a) one instance on SQLite;
#   (b) one instance on PostgreSQL;
#   (c) three instances on one PostgreSQL database;
#   (d) crash run: three instances on PostgreSQL, one of them killed with SIGKILL every few
#       seconds and restarted while the load runs (CRASH_DURATION seconds); the invariant
#       check runs at the end.
# Then measures `pgbench`'s single-row INSERT rate on the same PostgreSQL server, the
# reference for "bookings per second", and
#   (e) ROUNDS times, a pgbench run then, at once, `--mix book` on one instance on a fresh
#       PostgreSQL database: the ratio of the two, paired in time.
#
# Runs (a) to (c) first time `GET /healthz` alone and slot searches alone (same clients,
# same servers), then the full scenario, then bookings (nearly) alone, so search
# throughput reads as a ratio to a trivial route and bookings compare with pgbench. The
# booking run comes last: it fills calendars, which would change the scenario's.
#
# Every run ends with the invariant check (no overlapping CONFIRMED appointments, every
# 201 booking present as last seen); the script fails if any run fails it.
#
# Loopback only: the servers listen on 127.0.0.1, `creneau loadtest` refuses other hosts,
# and PG_URL must name 127.0.0.1 or localhost. Bounded: every step runs under `timeout`.
# Only the processes this script starts are stopped (by PID), and the databases it
# creates (creneau_load_*) are dropped at the end unless KEEP=1.
#
# Searches alone also run with FEW_CLIENTS clients: past the few needed to keep both cores
# busy, more clients only queue (latency grows, throughput does not).
#
# ONLY_BOOKINGS=1 runs pgbench and (e) alone, with BIN (default target/release/creneau,
# built first otherwise): the way to compare two builds' bookings.
#
# Settings (environment): DURATION=30 CLIENTS=32 FEW_CLIENTS=8 EXPERTS=1000 ROUNDS=3
#   CRASH_DURATION=max(DURATION, 30) BASE_PORT=18080
#   PG_URL=postgres://postgres@127.0.0.1:5432 (server URL, no database) OUT=target/load-runs
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION="${DURATION:-30}"
CLIENTS="${CLIENTS:-32}"
FEW_CLIENTS="${FEW_CLIENTS:-8}"
ROUNDS="${ROUNDS:-3}"
# The crash run lasts at least 30 s, so the instance is killed several times.
CRASH_DURATION="${CRASH_DURATION:-$((DURATION > 30 ? DURATION : 30))}"
EXPERTS="${EXPERTS:-1000}"
BASE_PORT="${BASE_PORT:-18080}"
PG_URL="${PG_URL:-postgres://postgres@127.0.0.1:5432}"
OUT="${OUT:-target/load-runs}"
BIN="${BIN:-target/release/creneau}"
STAMP="$(date +%Y%m%d%H%M%S)"
LOAD_TIMEOUT=$((CRASH_DURATION + 180)) # CRASH_DURATION >= DURATION

case "$PG_URL" in
    postgres://*@127.0.0.1:* | postgres://*@localhost:* | postgres://127.0.0.1* | postgres://localhost*) ;;
    *) echo "PG_URL must be on this machine (127.0.0.1 or localhost): $PG_URL" >&2; exit 2 ;;
esac

mkdir -p "$OUT"
declare -A PIDS=()   # port -> pid of a server this script started
FAILED=()

step() { printf '\n== %s (%s)\n' "$1" "$(date +%T)"; }

cleanup() {
    [[ "$BASHPID" == "$$" ]] || return 0 # only the main shell cleans up
    for port in "${!PIDS[@]}"; do
        kill "${PIDS[$port]}" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    if [[ "${KEEP:-0}" != 1 ]]; then
        # By name: `fresh_pg` runs in a command substitution, a subshell, so it cannot
        # record what it created in a variable of this one.
        psql "$PG_URL/postgres" -qAtc \
            "SELECT datname FROM pg_database WHERE datname LIKE 'creneau_load_${STAMP}_%'" |
            while read -r db; do
                psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
            done || true
    fi
}
trap cleanup EXIT

# A fresh PostgreSQL database; prints its URL.
fresh_pg() {
    local name="creneau_load_${STAMP}_$1"
    psql "$PG_URL/postgres" -qc "CREATE DATABASE $name" >/dev/null
    echo "$PG_URL/$name"
}

# Starts `creneau serve` on PORT against DB_URL and waits until it answers /readyz.
# The clients of a run share one API key and one firm, far past a real caller's rate: the
# rate limits are off (by environment, which a BIN of any build accepts).
start() {
    local port="$1" db="$2"
    CRENEAU_CLIENT_RATE_LIMIT=0 CRENEAU_FIRM_RATE_LIMIT=0 \
        RUST_LOG=warn "$BIN" serve --database-url "$db" --listen "127.0.0.1:$port" \
        >>"$OUT/serve-$port.log" 2>&1 &
    PIDS[$port]=$!
    for _ in $(seq 1 100); do
        curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && return 0
        kill -0 "${PIDS[$port]}" 2>/dev/null || break
        sleep 0.2
    done
    echo "server on port $port did not start; see $OUT/serve-$port.log" >&2
    return 1
}

# Stops the server on PORT (SIGTERM, or SIGKILL with "kill").
stop() {
    local port="$1" signal="${2:-TERM}"
    kill "-$signal" "${PIDS[$port]}" 2>/dev/null || true
    wait "${PIDS[$port]}" 2>/dev/null || true
    unset "PIDS[$port]"
}

# Seeds DB_URL; prints the loadtest credential flags.
seed() {
    local json
    json="$(timeout 600 "$BIN" seed --database-url "$1" --experts "$EXPERTS" --seed 1 --json)"
    jq -r '"--api-key=\(.apiKey) --client-id=\(.clientId) --client-secret=\(.clientSecret)"' <<<"$json"
}

# Runs the load test (NAME, credential flags, then the ports); records a failure.
# MIX=healthz|search|scenario (default scenario) picks what the clients do.
load() {
    local name="$1" creds="$2"
    shift 2
    local targets=()
    for port in "$@"; do targets+=(--target "http://127.0.0.1:$port"); done
    # shellcheck disable=SC2086 # the credential flags are split on purpose
    if timeout "$LOAD_TIMEOUT" "$BIN" loadtest "${targets[@]}" $creds --duration "$DURATION" \
        --clients "$CLIENTS" --mix "${MIX:-scenario}" | tee "$OUT/$name.txt"; then
        echo "run $name: invariants held"
    else
        echo "run $name: FAILED" >&2
        FAILED+=("$name")
    fi
}

if [ -z "${ONLY_BOOKINGS:-}" ]; then
step "release build"
cargo build --release --quiet

step "(a) one instance, SQLite"
SQLITE="sqlite:$OUT/load-$STAMP.db"
rm -f "$OUT/load-$STAMP.db"*
CREDS="$(seed "$SQLITE")"
start "$BASE_PORT" "$SQLITE"
MIX=healthz load a-sqlite-healthz "$CREDS" "$BASE_PORT"
MIX=search load a-sqlite-search "$CREDS" "$BASE_PORT"
CLIENTS="$FEW_CLIENTS" MIX=search load a-sqlite-search-few "$CREDS" "$BASE_PORT"
load a-sqlite "$CREDS" "$BASE_PORT"
MIX=book load a-sqlite-book "$CREDS" "$BASE_PORT"
stop "$BASE_PORT"

step "(b) one instance, PostgreSQL"
DB="$(fresh_pg b)"
CREDS="$(seed "$DB")"
start "$BASE_PORT" "$DB"
MIX=healthz load b-postgres-healthz "$CREDS" "$BASE_PORT"
MIX=search load b-postgres-search "$CREDS" "$BASE_PORT"
CLIENTS="$FEW_CLIENTS" MIX=search load b-postgres-search-few "$CREDS" "$BASE_PORT"
load b-postgres "$CREDS" "$BASE_PORT"
MIX=book load b-postgres-book "$CREDS" "$BASE_PORT"
stop "$BASE_PORT"

PORTS=("$BASE_PORT" "$((BASE_PORT + 1))" "$((BASE_PORT + 2))")

step "(c) three instances, one PostgreSQL"
DB="$(fresh_pg c)"
CREDS="$(seed "$DB")"
for port in "${PORTS[@]}"; do start "$port" "$DB"; done
MIX=healthz load c-postgres-x3-healthz "$CREDS" "${PORTS[@]}"
MIX=search load c-postgres-x3-search "$CREDS" "${PORTS[@]}"
CLIENTS="$FEW_CLIENTS" MIX=search load c-postgres-x3-search-few "$CREDS" "${PORTS[@]}"
load c-postgres-x3 "$CREDS" "${PORTS[@]}"
MIX=book load c-postgres-x3-book "$CREDS" "${PORTS[@]}"
for port in "${PORTS[@]}"; do stop "$port"; done

step "(d) crash run: three instances, one killed -9 and restarted under load"
DB="$(fresh_pg d)"
CREDS="$(seed "$DB")"
for port in "${PORTS[@]}"; do start "$port" "$DB"; done
DURATION="$CRASH_DURATION" load d-crash "$CREDS" "${PORTS[@]}" &
LOAD_PID=$!
VICTIM="${PORTS[2]}"
KILLS=0
# Kill within the first two thirds of the run, so the instance is back before the check.
deadline=$((SECONDS + CRASH_DURATION * 2 / 3))
sleep 2
while ((SECONDS < deadline)); do
    stop "$VICTIM" KILL
    KILLS=$((KILLS + 1))
    sleep 1
    start "$VICTIM" "$DB"
    sleep 2
done
wait "$LOAD_PID" || true
echo "instance on port $VICTIM killed -9 and restarted $KILLS times"
# `load` ran in a subshell: read its verdict from the report.
grep -q "invariants: PASSED" "$OUT/d-crash.txt" || FAILED+=(d-crash)
for port in "${PORTS[@]}"; do stop "$port"; done

fi

step "pgbench: single-row INSERT rate on the same PostgreSQL"
PGBENCH_DB="$(fresh_pg pgbench)"
psql "$PGBENCH_DB" -qc "CREATE TABLE t (id bigint)"
printf '%s\n' '\set id random(1, 1000000000)' 'INSERT INTO t VALUES (:id);' >"$OUT/insert.sql"
# Prints pgbench's tps (4 clients, DURATION seconds); the full report goes to FILE.
pgbench_tps() {
    timeout $((DURATION + 60)) pgbench -n -f "$OUT/insert.sql" -T "$DURATION" -c 4 "$PGBENCH_DB" \
        >"$1"
    awk '/^tps/{print int($3)}' "$1"
}
pgbench_tps "$OUT/pgbench.txt" >/dev/null
cat "$OUT/pgbench.txt"

# This machine's speed drifts within minutes, so a ratio taken from runs minutes apart is
# mostly noise: (e) pairs each `--mix book` run on a fresh database with a pgbench run
# just before it.
step "(e) bookings on PostgreSQL against pgbench, $ROUNDS paired rounds"
: >"$OUT/ratios.txt"
for round in $(seq 1 "$ROUNDS"); do
    DB="$(fresh_pg "e$round")"
    CREDS="$(seed "$DB")"
    start "$BASE_PORT" "$DB"
    tps="$(pgbench_tps "$OUT/pgbench-e$round.txt")"
    MIX=book load "e-round$round-book" "$CREDS" "$BASE_PORT" >/dev/null
    stop "$BASE_PORT"
    rate="$(awk '/^book /{print int($3)}' "$OUT/e-round$round-book.txt")"
    echo "round $round: pgbench $tps tps, bookings $rate/s: $(awk -v b="$rate" -v p="$tps" \
        'BEGIN{printf "%.1f %%", 100 * b / p}')" | tee -a "$OUT/ratios.txt"
done

step "summary"
echo "pgbench, single-row INSERT:"
grep -h "tps" "$OUT/pgbench.txt" || true
echo "(e) bookings against pgbench, paired rounds:"
cat "$OUT/ratios.txt"
for run in b-postgres-book c-postgres-x3-book; do
    [ -f "$OUT/$run.txt" ] && echo "$run: $(grep -h '^book ' "$OUT/$run.txt" || true)"
done
if ((${#FAILED[@]})); then
    echo "FAILED runs: ${FAILED[*]}" >&2
    exit 1
fi
echo "all runs held their invariants; reports in $OUT/"
