#!/usr/bin/env bash
# What silent connections cost the server: opens IDLE TCP connections that send nothing and
# holds them for HOLD seconds, while /healthz is asked every 200 ms over fresh connections;
# prints the server's resident memory (VmRSS, and VmHWM reset before the run) and the
# /healthz latencies (median, p99, max, failures). Then the same after the idle sockets close.
#
#   scripts/idle-connections.sh           # release build of the server, SQLite
#
# Settings (environment): IDLE=20000 HOLD=30 MAX_CONNECTIONS=4096 PORT=18400
#   BIN=target/release/creneau OUT=target/idle-connections
# The idle sockets are opened by CLIENTS processes (default 4), so each stays under the open
# file limit; the server's own limit is raised to its hard limit at start.
set -euo pipefail
cd "$(dirname "$0")/.."

IDLE="${IDLE:-20000}"
HOLD="${HOLD:-30}"
MAX_CONNECTIONS="${MAX_CONNECTIONS:-4096}"
PORT="${PORT:-18400}"
CLIENTS="${CLIENTS:-4}"
BIN="${BIN:-${CARGO_TARGET_DIR:-target}/release/creneau}"
OUT="${OUT:-target/idle-connections}"
DB="sqlite:$OUT/creneau.db"

rm -rf "$OUT" && mkdir -p "$OUT"
source scripts/server.sh
cleanup() {
    stop_server
    pkill -f "idle-connections-client" 2>/dev/null || true
}
trap cleanup EXIT

[[ -x "$BIN" ]] || cargo build --release --quiet
start_server --max-connections "$MAX_CONNECTIONS"

memory() { grep -E '^(VmRSS|VmHWM)' "/proc/$SERVER_PID/status" | tr -s ' \n' ' '; echo; }
reset_peak() { echo 5 >"/proc/$SERVER_PID/clear_refs"; }

# /healthz every 200 ms over a fresh connection for SECONDS; prints the latency summary.
probe() {
    python3 - "$PORT" "$1" <<'EOF'
import socket, statistics, sys, time
port, seconds = int(sys.argv[1]), float(sys.argv[2])
latencies, failures, end = [], 0, time.time() + seconds
while time.time() < end:
    start = time.perf_counter()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
            answer = s.recv(64)
            if not answer.startswith(b"HTTP/1.1 200"):
                raise OSError(answer)
        latencies.append((time.perf_counter() - start) * 1000)
    except OSError:
        failures += 1
    time.sleep(0.2)
latencies.sort()
p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] if latencies else float("nan")
print(f"healthz: {len(latencies)} answered, {failures} failed; "
      f"median {p(0.5):.1f} ms, p99 {p(0.99):.1f} ms, max {p(1.0):.1f} ms")
EOF
}

echo "before: $(memory)"
probe 3
reset_peak
per_client=$((IDLE / CLIENTS))
for _ in $(seq 1 "$CLIENTS"); do
    python3 - "$PORT" "$per_client" "$HOLD" idle-connections-client <<'EOF' &
import asyncio, sys
port, count, hold = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
async def main():
    opened = []
    for _ in range(count):
        try:
            opened.append(await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 5))
        except (OSError, asyncio.TimeoutError):
            pass
    print(f"client: {len(opened)} of {count} connections opened", flush=True)
    await asyncio.sleep(hold)
asyncio.run(main())
EOF
done
sleep 5
echo "with $IDLE idle connections opening and held ($MAX_CONNECTIONS served at once):"
probe $((HOLD - 8))
echo "during: $(memory)"
wait $(jobs -p | grep -v "^$SERVER_PID$") 2>/dev/null || true
sleep 2
echo "after they closed: $(memory)"
probe 3
