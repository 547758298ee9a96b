#!/usr/bin/env bash
# Pre-upload figures of Créneau on this machine: the time of one 5 MiB base64 upload, and
# the server's peak resident memory while five of them run at once; without a scanner,
# then with a local clamd (when `clamd` is installed).
#
#   scripts/upload-runs.sh          # release build, then about a minute
#
# Each run starts a release server on a fresh SQLite file in a temporary directory, creates
# a firm and a token, makes a 5,242,880-byte PDF of random bytes, and
#   - uploads it ROUNDS times, one at a time (curl's time_total; min, median, max);
#   - resets the server's peak RSS (/proc/PID/clear_refs), sends five uploads at once, and
#     reads the peak (VmHWM) and the resident memory before them (VmRSS).
# The clamd run uses a signature database of one line (the EICAR test file), written here:
# it measures streaming the file through clamd, not a full signature set.
#
# Settings (environment): ROUNDS=11 PORT=18180
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS="${ROUNDS:-11}"
PORT="${PORT:-18180}"
BIN=target/release/creneau
cargo build --release --quiet
WORK="$(mktemp -d)"
SERVER=""
CLAMD=""
cleanup() {
    [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null || true
    [ -n "$CLAMD" ] && kill "$CLAMD" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

# The file: a PDF header then random bytes, 5,242,880 bytes in all, as the JSON body.
{ printf '%%PDF-1.7\n'; head -c $((5242880 - 9)) /dev/urandom; } > "$WORK/big.pdf"
{ printf '{"fileNameWithExtension": "rapport.pdf", "file": "'; base64 -w0 "$WORK/big.pdf"; printf '"}'; } > "$WORK/body.json"

start_clamd() {
    local dir="$WORK/clamd"
    mkdir -p "$dir"
    echo "44d88612fea8a8f36de82e1278abb02f:68:Eicar-Test-Signature" > "$dir/eicar.hdb"
    cat > "$dir/clamd.conf" <<EOF
Foreground yes
LocalSocket $dir/clamd.sock
DatabaseDirectory $dir
StreamMaxLength 30M
LogFile $dir/clamd.log
EOF
    if [ "$(id -u)" = 0 ]; then echo "User root" >> "$dir/clamd.conf"; fi
    clamd -c "$dir/clamd.conf" > "$dir/clamd.out" 2>&1 &
    CLAMD=$!
    for _ in $(seq 1 100); do
        [ -S "$dir/clamd.sock" ] && return 0
        sleep 0.1
    done
    echo "clamd did not start; see $dir/clamd.log" >&2
    return 1
}

run() {
    local label="$1"
    shift
    local db="sqlite://$WORK/$label.db?mode=rwc"
    local firm client secret token
    firm=$("$BIN" --database-url "$db" --json firm create --name "Cabinet" --siret 73282932000074 2> /dev/null |
        sed -E 's/.*"firmId":"([^"]+)".*/\1/')
    read -r client secret < <("$BIN" --database-url "$db" --json firm credentials "$firm" 2> /dev/null |
        sed -E 's/.*"clientId":"([^"]+)".*"clientSecret":"([^"]+)".*/\1 \2/')
    "$BIN" --database-url "$db" serve --listen "127.0.0.1:$PORT" --blob-dir "$WORK/blobs-$label" \
        "$@" 2> "$WORK/server-$label.log" &
    SERVER=$!
    for _ in $(seq 1 100); do
        curl -sf "http://127.0.0.1:$PORT/healthz" > /dev/null && break
        sleep 0.1
    done
    token=$(curl -sS "http://127.0.0.1:$PORT/admin/v1/token" -d grant_type=client_credentials \
        -d "client_id=$client" -d "client_secret=$secret" | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
    upload() {
        curl -sS -o "$WORK/answer.json" -w '%{http_code} %{time_total}\n' \
            "http://127.0.0.1:$PORT/admin/v1/uploads" -H "Authorization: Bearer $token" \
            -H 'Content-Type: application/json' --data-binary "@$WORK/body.json"
    }
    local times=()
    for _ in $(seq 1 "$ROUNDS"); do
        read -r code seconds < <(upload)
        [ "$code" = 201 ] || { echo "upload answered $code: $(cat "$WORK/answer.json")" >&2; exit 1; }
        times+=("$seconds")
    done
    local status
    status=$(sed -E 's/.*"status":"([A-Z]+)".*/\1/' "$WORK/answer.json")
    local before
    before=$(awk '/VmRSS/ {print $2}' "/proc/$SERVER/status")
    echo 5 > "/proc/$SERVER/clear_refs"
    local pids=()
    for i in 1 2 3 4 5; do
        upload > "$WORK/parallel.$i" &
        pids+=($!)
    done
    wait "${pids[@]}"
    if [ "$(cut -d' ' -f1 "$WORK"/parallel.* | sort -u)" != 201 ]; then
        echo "a parallel upload failed: $(cat "$WORK"/parallel.*)" >&2
        exit 1
    fi
    local peak
    peak=$(awk '/VmHWM/ {print $2}' "/proc/$SERVER/status")
    printf '%s (%s): one upload min/median/max %s s; RSS before %d MiB, peak during 5 at once %d MiB\n' \
        "$label" "$status" \
        "$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.3f/%.3f/%.3f", a[1], a[int((NR+1)/2)], a[NR]}')" \
        $((before / 1024)) $((peak / 1024))
    kill "$SERVER"
    wait "$SERVER" 2>/dev/null || true
    SERVER=""
}

run unscanned
if command -v clamd > /dev/null || [ -x /usr/sbin/clamd ]; then
    PATH="$PATH:/usr/sbin"
    start_clamd
    run clamd --scanner "clamd://$WORK/clamd/clamd.sock"
else
    echo "clamd is not installed (Debian: apt-get install clamav-daemon): no scanned run" >&2
fi
