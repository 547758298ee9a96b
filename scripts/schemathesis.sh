#!/usr/bin/env bash
# Property-based tests of the running server against the committed OpenAPI document, with
# schemathesis: every operation, every check, every phase (examples, coverage, fuzzing,
# stateful), with the Claims IA API key on `/v1` and a firm access token on `/admin/v1`.
#
#   scripts/schemathesis.sh [DATABASE_URL]    # default: a fresh SQLite file
#
# Starts `creneau serve` (BIN, the debug build by default) on a fresh database — a
# PostgreSQL URL must name a database this script may drop and create again — with one firm,
# its credential and one Claims IA client, then runs schemathesis twice, once per API.
# Fails on any failure schemathesis reports. Bounded: each run has MAX_EXAMPLES cases per
# operation and phase, and the whole under `timeout`.
#
# schemathesis itself: `pip install -r scripts/schemathesis-requirements.txt` (pinned).
#
# One worker: schemathesis shares caches between its worker threads that are not safe to
# share, and a run with several fails now and then for that alone.
#
# Settings (environment): ST=schemathesis BIN=target/debug/creneau MAX_EXAMPLES=30
#   WORKERS=1 SEED=1 PORT=18180 OUT=target/schemathesis TIMEOUT=1200
set -euo pipefail
cd "$(dirname "$0")/.."

ST="${ST:-schemathesis}"
BIN="${BIN:-${CARGO_TARGET_DIR:-target}/debug/creneau}"
MAX_EXAMPLES="${MAX_EXAMPLES:-30}"
WORKERS="${WORKERS:-1}"
SEED="${SEED:-1}"
PORT="${PORT:-18180}"
OUT="${OUT:-target/schemathesis}"
TIMEOUT="${TIMEOUT:-1200}"
BASE="http://127.0.0.1:$PORT"

rm -rf "$OUT" && mkdir -p "$OUT"
DB="${1:-sqlite:$OUT/creneau.db}"
step() { printf '\n== %s (%s)\n' "$1" "$(date +%T)"; }
source scripts/server.sh

step "set-up on $DB"
set_up
# Rate limits off: a 429 is documented on every operation, but would cut the cases short.
RUST_LOG=info start_server --client-rate-limit 0 --firm-rate-limit 0 ||
    { cat "$OUT/serve.log" >&2; exit 1; }
token="$(firm_token)"
api_key="$API_KEY"

# One run per credential; the unauthenticated operations go with the protocol's.
run() {
    local name="$1" credential="$2" paths="$3"
    step "schemathesis: $name"
    timeout "$TIMEOUT" "$ST" --config-file scripts/schemathesis.toml \
        run openapi/openapi.json --url "$BASE" \
        --header "Authorization: Bearer $credential" \
        --include-path-regex "$paths" \
        --checks all --phases examples,coverage,fuzzing,stateful \
        --max-examples "$MAX_EXAMPLES" --seed "$SEED" --workers "$WORKERS" \
        --request-timeout 30 --generation-database none \
        --report junit --report-junit-path "$OUT/$name.xml"
}
status=0
run protocol "$api_key" '^/(v1/|healthz|readyz|feeds/)' || status=1
run admin "$token" '^/admin/v1/' || status=1
if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "FAIL: the server stopped during the runs" >&2
    status=1
fi
if grep -q 'panicked' "$OUT/serve.log"; then
    echo "FAIL: the server panicked (see $OUT/serve.log)" >&2
    status=1
fi
exit "$status"
