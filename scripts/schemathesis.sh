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
SERVER_PID=""

rm -rf "$OUT" && mkdir -p "$OUT"
DB="${1:-sqlite:$OUT/creneau.db}"
step() { printf '\n== %s (%s)\n' "$1" "$(date +%T)"; }

cleanup() {
    if [[ -n "$SERVER_PID" ]]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
}
trap cleanup EXIT

if [[ "$DB" == postgres* ]]; then
    name="${DB##*/}"
    admin="${DB%/*}/postgres"
    PGOPTIONS=--client-min-messages=warning psql "$admin" -qc "drop database if exists \"$name\"" >/dev/null
    psql "$admin" -qc "create database \"$name\"" >/dev/null
fi

creneau() { "$BIN" --database-url "$DB" --json "$@" 2>>"$OUT/cli.log"; }
field() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }

step "set-up on $DB"
firm="$(creneau firm create --name "Cabinet d'essai" --siret 73282932000074 | field firmId)"
credential="$(creneau firm credentials "$firm")"
client_id="$(field clientId <<<"$credential")"
client_secret="$(field clientSecret <<<"$credential")"
api_key="$(creneau client create --name "Claims IA" | field apiKey)"

# Rate limits off: a 429 is documented on every operation, but would cut the cases short.
"$BIN" --database-url "$DB" serve --listen "127.0.0.1:$PORT" --blob-dir "$OUT/blobs" \
    --client-rate-limit 0 --firm-rate-limit 0 >"$OUT/serve.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do
    curl -fsS "$BASE/readyz" >/dev/null 2>&1 && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$OUT/serve.log" >&2; exit 1; }
    sleep 0.1
done
token="$(curl -fsS "$BASE/admin/v1/token" -d grant_type=client_credentials \
    --data-urlencode "client_id=$client_id" --data-urlencode "client_secret=$client_secret" |
    field access_token)"

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
