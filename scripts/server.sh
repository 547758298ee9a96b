# Sourced by the measurement scripts: one server on a fresh database, with a firm, its
# credential and a Claims IA client. Expects BIN, DB, PORT and OUT; sets SERVER_PID,
# FIRM_CLIENT_ID, FIRM_CLIENT_SECRET and API_KEY. The server is stopped on exit.

SERVER_PID=""

stop_server() {
    if [[ -n "$SERVER_PID" ]]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=""
    fi
}
trap stop_server EXIT

# The value of FIELD in the JSON object on standard input.
field() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }

# A firm, its credential and a Claims IA client on DB (made empty first when on PostgreSQL).
set_up() {
    if [[ "$DB" == postgres* ]]; then
        local name="${DB##*/}" admin="${DB%/*}/postgres"
        PGOPTIONS=--client-min-messages=warning \
            psql "$admin" -qc "drop database if exists \"$name\"" >/dev/null
        psql "$admin" -qc "create database \"$name\"" >/dev/null
    fi
    local cli=("$BIN" --database-url "$DB" --json) firm credential
    firm="$("${cli[@]}" firm create --name "Cabinet d'essai" --siret 73282932000074 \
        2>>"$OUT/cli.log" | field firmId)"
    credential="$("${cli[@]}" firm credentials "$firm" 2>>"$OUT/cli.log")"
    FIRM_CLIENT_ID="$(field clientId <<<"$credential")"
    FIRM_CLIENT_SECRET="$(field clientSecret <<<"$credential")"
    API_KEY="$("${cli[@]}" client create --name "Claims IA" 2>>"$OUT/cli.log" | field apiKey)"
}

# Starts `creneau serve` on DB and PORT with the extra ARGS, and waits until it is ready.
start_server() {
    RUST_LOG="${RUST_LOG:-warn}" "$BIN" --database-url "$DB" serve \
        --listen "${LISTEN:-127.0.0.1}:$PORT" --blob-dir "$OUT/blobs" "$@" \
        >"$OUT/serve.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 1 100); do
        curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
    done
    echo "the server did not start; see $OUT/serve.log" >&2
    return 1
}

# An access token of the firm set up.
firm_token() {
    curl -fsS "http://127.0.0.1:$PORT/admin/v1/token" -d grant_type=client_credentials \
        --data-urlencode "client_id=$FIRM_CLIENT_ID" \
        --data-urlencode "client_secret=$FIRM_CLIENT_SECRET" | field access_token
}
