#!/usr/bin/env bash
# What a feature costs slot searches: the same search-only load against one instance on
# SQLite, with the feature on and with it off, in alternated runs. FEATURE is
# `search-log` (every search logged behind its answer) or `rate-limits` (the per-client
# limits, on at RATE requests per second and a burst of BURST per client and per firm: far
# above what the load sends, so that every search pays the check and none is refused).
#
#   scripts/search-ab.sh FEATURE    # about 2 x ROUNDS x (DURATION + WARMUP + 5) seconds,
#                                   # plus the release build and the seeding of one database
#
# Builds the release binary once, seeds one SQLite database with `creneau seed` (EXPERTS
# synthetic experts), then ROUNDS times starts `creneau serve` with the feature on and with
# it off (in the order on/off, then off/on, and so on, so that a drift of the machine's speed
# during the runs weighs on both sides alike), warms it up for WARMUP seconds and runs
# `creneau loadtest --mix search` (CLIENTS virtual Claims IA clients, all on one API key,
# for DURATION seconds). Every run uses the same database and a fresh server process.
#
# Prints the searches per second of each run, the median of each side and their ratio
# (and, for reference, the ratio within each round, whose runs are closest in time);
# fails when a run was answered 429 (a limit low enough to refuse searches: the run would
# measure refusals), when the ratio of the medians says the feature costs more than
# MAX_COST_PCT percent, or when a run fails its invariant check.
#
# Loopback only; bounded: every step runs under `timeout`. Only the servers this script
# starts are stopped (by PID).
#
# Settings (environment): DURATION=20 WARMUP=3 CLIENTS=32 EXPERTS=1000 ROUNDS=3
#   RATE=1000000 BURST=1000000 MAX_COST_PCT=10 PORT=18091 OUT=target/search-ab-FEATURE
set -euo pipefail
cd "$(dirname "$0")/.."

FEATURE="${1:-}"
case "$FEATURE" in
    search-log) LABEL="search log" ;;
    rate-limits) LABEL="rate limits" ;;
    *)
        echo "usage: scripts/search-ab.sh search-log|rate-limits" >&2
        exit 2
        ;;
esac
DURATION="${DURATION:-20}"
WARMUP="${WARMUP:-3}"
CLIENTS="${CLIENTS:-32}"
EXPERTS="${EXPERTS:-1000}"
ROUNDS="${ROUNDS:-3}"
RATE="${RATE:-1000000}"
BURST="${BURST:-1000000}"
MAX_COST_PCT="${MAX_COST_PCT:-10}"
PORT="${PORT:-18091}"
OUT="${OUT:-target/search-ab-$FEATURE}"
BIN="${CARGO_TARGET_DIR:-target}/release/creneau"
STAMP="$(date +%Y%m%d%H%M%S)"
DB_FILE="$OUT/ab-$STAMP.db"
SERVER_PID=""

mkdir -p "$OUT"
step() { printf '\n== %s (%s)\n' "$1" "$(date +%T)"; }

cleanup() {
    if [[ -n "$SERVER_PID" ]]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    [[ "${KEEP:-0}" == 1 ]] || rm -f "$DB_FILE" "$DB_FILE-wal" "$DB_FILE-shm"
}
trap cleanup EXIT

# Starts `creneau serve` with the feature ON_OFF and waits until it answers /readyz. The
# clients share one API key, far past a real client's rate: unless they are what is
# measured, the rate limits are off.
start() {
    local rate=0 log=on
    if [[ "$FEATURE" == rate-limits && "$1" == on ]]; then rate="$RATE"; fi
    if [[ "$FEATURE" == search-log ]]; then log="$1"; fi
    CRENEAU_CLIENT_RATE_LIMIT="$rate" CRENEAU_CLIENT_RATE_BURST="$BURST" \
        CRENEAU_FIRM_RATE_LIMIT="$rate" CRENEAU_FIRM_RATE_BURST="$BURST" RUST_LOG=warn \
        "$BIN" serve --database-url "sqlite:$DB_FILE" --listen "127.0.0.1:$PORT" \
        --search-log "$log" --blob-dir "$OUT/blobs" >>"$OUT/serve.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 1 100); do
        curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.2
    done
    echo "the server did not start; see $OUT/serve.log" >&2
    return 1
}

# Stops the server with SIGTERM (the search log's last entries are written then).
stop() {
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    timeout 30 tail --pid="$SERVER_PID" -f /dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
}

# Runs searches only for SECONDS; prints the report's searches per second (REPORT: file).
# Fails when the invariant check fails or when any request was answered 429.
searches() {
    local seconds="$1" report="$2" refused
    # shellcheck disable=SC2086 # the credential flags are split on purpose
    if ! timeout $((seconds + 120)) "$BIN" loadtest --json --target "http://127.0.0.1:$PORT" \
        $CREDS --duration "$seconds" --clients "$CLIENTS" --mix search >"$report"; then
        echo "the load test failed; see $report" >&2
        return 1
    fi
    refused="$(jq '[.operations[].statuses["429"] // 0] | add' "$report")"
    if ((refused > 0)); then
        echo "$refused requests were answered 429: raise RATE or BURST; see $report" >&2
        return 1
    fi
    jq -r '.operations.search.throughputPerSec' "$report"
}

# The median of the numbers given.
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {
    if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

step "release build"
cargo build --release --quiet

step "seeding $EXPERTS experts in $DB_FILE"
CREDS="$(timeout 600 "$BIN" seed --database-url "sqlite:$DB_FILE" --experts "$EXPERTS" --seed 1 --json |
    jq -r '"--api-key=\(.apiKey) --client-id=\(.clientId) --client-secret=\(.clientSecret)"')"

declare -a ON=() OFF=() PAIRED=()
for round in $(seq 1 "$ROUNDS"); do
    if ((round % 2)); then order=(on off); else order=(off on); fi
    for mode in "${order[@]}"; do
        step "round $round, $LABEL $mode"
        start "$mode"
        searches "$WARMUP" "$OUT/warmup.json" >/dev/null
        rate="$(searches "$DURATION" "$OUT/round$round-$mode.json")"
        stop
        echo "round $round, $LABEL $mode: $rate searches/s"
        if [[ "$mode" == on ]]; then ON+=("$rate"); else OFF+=("$rate"); fi
    done
    PAIRED+=("$(awk -v on="${ON[-1]}" -v off="${OFF[-1]}" 'BEGIN {printf "%.4f", on / off}')")
done

step "summary of the $LABEL ($CLIENTS clients, $DURATION s runs, $EXPERTS experts, SQLite)"
on="$(median "${ON[@]}")"
off="$(median "${OFF[@]}")"
echo "$LABEL on:  ${ON[*]} searches/s (median $on)"
echo "$LABEL off: ${OFF[*]} searches/s (median $off)"
echo "on / off within each round: ${PAIRED[*]} (median $(median "${PAIRED[@]}"))"
awk -v on="$on" -v off="$off" -v max="$MAX_COST_PCT" 'BEGIN {
    ratio = on / off
    printf "ratio of medians, on / off: %.3f (%+.1f %%)\n", ratio, 100 * (ratio - 1)
    if (100 * (1 - ratio) > max) { printf "the feature costs more than %s %%\n", max; exit 1 }
    printf "within %s %%\n", max
}'
