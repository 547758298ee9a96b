#!/usr/bin/env bash
# What bad token requests cost the server: REQUESTS `POST /admin/v1/token` with wrong
# credentials (half unknown client ids, half a real client id with a wrong secret), PARALLEL
# at a time from one address, while /healthz is asked every 100 ms. Prints the answers by
# status, the server's CPU time over the flood (user + system, from /proc), the flood's wall
# time, the /healthz latencies, and whether the real secret still gets a token afterwards
# from another address.
#
#   scripts/token-flood.sh           # release build of the server, SQLite
#
# Settings (environment): REQUESTS=1000 PARALLEL=64 PORT=18410 BIN=target/release/creneau
#   OUT=target/token-flood
set -euo pipefail
cd "$(dirname "$0")/.."

REQUESTS="${REQUESTS:-1000}"
PARALLEL="${PARALLEL:-64}"
PORT="${PORT:-18410}"
BIN="${BIN:-${CARGO_TARGET_DIR:-target}/release/creneau}"
OUT="${OUT:-target/token-flood}"
DB="sqlite:$OUT/creneau.db"

rm -rf "$OUT" && mkdir -p "$OUT"
source scripts/server.sh
[[ -x "$BIN" ]] || cargo build --release --quiet
set_up
client_id="$FIRM_CLIENT_ID"
client_secret="$FIRM_CLIENT_SECRET"
# On every address: the real secret is tried from another one afterwards.
LISTEN=0.0.0.0 start_server

python3 - "$PORT" "$REQUESTS" "$PARALLEL" "$SERVER_PID" "$client_id" <<'EOF'
import concurrent.futures, collections, os, socket, sys, threading, time, urllib.parse
port, total, parallel, pid, client_id = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
ticks = os.sysconf("SC_CLK_TCK")

def cpu_seconds():
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / ticks

def request(raw):
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(raw)
        return s.recv(64).split(b" ")[1].decode()

def bad_token(i):
    who = f"firm_unknown{i:06x}" if i % 2 else client_id
    body = urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": who,
                                   "client_secret": f"wrong-{i}"}).encode()
    return request(b"POST /admin/v1/token HTTP/1.1\r\nhost: x\r\nconnection: close\r\n"
                   b"content-type: application/x-www-form-urlencoded\r\n"
                   + f"content-length: {len(body)}\r\n\r\n".encode() + body)

latencies, done = [], threading.Event()
def probe():
    while not done.is_set():
        start = time.perf_counter()
        request(b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        latencies.append((time.perf_counter() - start) * 1000)
        time.sleep(0.1)

prober = threading.Thread(target=probe)
cpu, wall = cpu_seconds(), time.perf_counter()
prober.start()
with concurrent.futures.ThreadPoolExecutor(parallel) as pool:
    statuses = collections.Counter(pool.map(bad_token, range(total)))
wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
done.set(); prober.join()
latencies.sort()
p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]
print(f"{total} bad token requests, {parallel} at a time: {dict(statuses)}")
print(f"wall {wall:.2f} s; server CPU {cpu:.2f} s ({100 * cpu / wall:.0f} % of one core)")
print(f"healthz during the flood: {len(latencies)} answered; median {p(0.5):.1f} ms, "
      f"p99 {p(0.99):.1f} ms, max {p(1.0):.1f} ms")
EOF

# The right secret from another address (the flood came from 127.0.0.1).
other="$(hostname -I | awk '{print $1}')"
status="$(curl -s -o /dev/null -w '%{http_code}' "http://$other:$PORT/admin/v1/token" \
    -d grant_type=client_credentials --data-urlencode "client_id=$client_id" \
    --data-urlencode "client_secret=$client_secret")"
echo "the real secret from $other afterwards: $status"
