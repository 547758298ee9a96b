#!/usr/bin/env bash
# Import figures of Créneau on this machine: the time from `POST /admin/v1/imports` to
# `IMPORTED` for files of 2,000 and 20,000 experts, and the server's peak resident memory
# during the 20,000 import.
#
#   scripts/import-runs.sh          # release build, then about a minute
#
# Each size runs ROUNDS times on a release server on a fresh SQLite file in a temporary
# directory: the file is made here (synthetic experts in Paris and the Petite Couronne,
# one weekly timetable each), sent as multipart, and the import read back every 20 ms
# until it ends. The peak RSS is VmHWM after the server's counter was reset
# (/proc/PID/clear_refs) just before the 20,000 import.
#
# Settings (environment): ROUNDS=3 PORT=18280
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS="${ROUNDS:-3}"
PORT="${PORT:-18280}"
BIN=target/release/creneau
cargo build --release --quiet
WORK="$(mktemp -d)"
SERVER=""
cleanup() {
    [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

make_file() {
    awk -v n="$1" -v tag="$2" 'BEGIN {
        print "externalRef;displayName;email;phone;baseLat;baseLon;departments;radiusKm;claimTypes;expertiseTypes;maxStake;bufferMinutes;maxAppointmentsPerDay;minNoticeHours;MON;TUE;WED;THU;FRI"
        deps[0] = "75|92"; deps[1] = "93|94"; deps[2] = "92|78"; deps[3] = "75|93|94"
        for (i = 0; i < n; i++) {
            day = (i % 2) ? "08:30-12:00|13:30-18:00" : "09:00-17:00"
            printf "%s%05d;Expert %d;expert%d@example.fr;+33 1 40 00 %02d %02d;%.4f;%.4f;%s;%d;DDE|DE;ESS|VISIO;%d;15;5;24;%s;%s;%s;%s;%s\n",
                tag, i, i, i, i % 100, (i / 100) % 100, 48.80 + (i % 37) / 300, 2.25 + (i % 41) / 300,
                deps[i % 4], 20 + i % 30, 10000 + (i % 5) * 5000, day, day, day, day, day
        }
    }' > "$WORK/$2.csv"
}

start_server() {
    local db="sqlite://$WORK/$1.db?mode=rwc"
    local firm
    firm=$("$BIN" --database-url "$db" --json firm create --name "Cabinet" --siret 73282932000074 2> /dev/null |
        sed -E 's/.*"firmId":"([^"]+)".*/\1/')
    read -r CLIENT SECRET < <("$BIN" --database-url "$db" --json firm credentials "$firm" 2> /dev/null |
        sed -E 's/.*"clientId":"([^"]+)".*"clientSecret":"([^"]+)".*/\1 \2/')
    "$BIN" --database-url "$db" serve --listen "127.0.0.1:$PORT" --blob-dir "$WORK/blobs-$1" \
        2> "$WORK/server-$1.log" &
    SERVER=$!
    for _ in $(seq 1 100); do
        curl -sf "http://127.0.0.1:$PORT/healthz" > /dev/null && break
        sleep 0.1
    done
    TOKEN=$(curl -sS "http://127.0.0.1:$PORT/admin/v1/token" -d grant_type=client_credentials \
        -d "client_id=$CLIENT" -d "client_secret=$SECRET" | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
}

# Seconds from the POST to IMPORTED (fails on any other end).
import_once() {
    local file="$1" t0 id status
    t0=$(date +%s.%N)
    id=$(curl -sS "http://127.0.0.1:$PORT/admin/v1/imports" -H "Authorization: Bearer $TOKEN" \
        -F kind=EXPERTS -F "file=@$file" | sed -E 's/.*"importId":"([^"]+)".*/\1/')
    while :; do
        status=$(curl -sS "http://127.0.0.1:$PORT/admin/v1/imports/$id" -H "Authorization: Bearer $TOKEN" |
            sed -E 's/.*"status":"([A-Z]+)".*/\1/')
        case "$status" in
            IMPORTED) break ;;
            FAILED | VALIDATED) echo "import ended $status" >&2; exit 1 ;;
        esac
        sleep 0.02
    done
    awk -v end="$(date +%s.%N)" -v start="$t0" 'BEGIN { printf "%.3f\n", end - start }'
}

for size in 2000 20000; do
    times=()
    peak=0
    for round in $(seq 1 "$ROUNDS"); do
        make_file "$size" "R${round}X"
        start_server "s$size-$round"
        [ "$size" = 20000 ] && echo 5 > "/proc/$SERVER/clear_refs"
        times+=("$(import_once "$WORK/R${round}X.csv")")
        if [ "$size" = 20000 ]; then
            hwm=$(awk '/VmHWM/ {print $2}' "/proc/$SERVER/status")
            [ "$hwm" -gt "$peak" ] && peak=$hwm
        fi
        kill "$SERVER"
        wait "$SERVER" 2>/dev/null || true
        SERVER=""
    done
    printf '%s experts (%s bytes): POST to IMPORTED min/median/max %s s' "$size" \
        "$(stat -c %s "$WORK/R1X.csv")" \
        "$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.2f/%.2f/%.2f", a[1], a[int((NR+1)/2)], a[NR]}')"
    [ "$size" = 20000 ] && printf '; server peak RSS %d MiB' $((peak / 1024))
    echo
done
