#!/usr/bin/env bash
# What a large, varied catalogue costs the server's memory: creates EXPERTS experts through
# the admin API, each with VALUES insurers, VALUES dwelling types and VALUES claim types of
# its own (values no other expert lists: the worst case for the search index), and runs a
# slot search every 50 experts (each rebuilds the directory after the changes). Prints the
# server's resident memory along the way, its peak, and its resident memory 5 s after.
#
#   scripts/catalogue-memory.sh           # release build of the server, SQLite
#
# Settings (environment): EXPERTS=1200 VALUES=200 PORT=18420 BIN=target/release/creneau
#   OUT=target/catalogue-memory
set -euo pipefail
cd "$(dirname "$0")/.."

EXPERTS="${EXPERTS:-1200}"
VALUES="${VALUES:-200}"
PORT="${PORT:-18420}"
BIN="${BIN:-${CARGO_TARGET_DIR:-target}/release/creneau}"
OUT="${OUT:-target/catalogue-memory}"
DB="sqlite:$OUT/creneau.db"

rm -rf "$OUT" && mkdir -p "$OUT"
source scripts/server.sh
[[ -x "$BIN" ]] || cargo build --release --quiet
set_up
start_server --client-rate-limit 0 --firm-rate-limit 0
token="$(firm_token)"
api_key="$API_KEY"

python3 - "$PORT" "$token" "$api_key" "$SERVER_PID" "$EXPERTS" "$VALUES" <<'EOF'
import datetime, json, random, string, sys, time, urllib.error, urllib.request
port, token, api_key, pid, experts, values = sys.argv[1:7]
experts, values = int(experts), int(values)
base = f"http://127.0.0.1:{port}"

def memory():
    status = dict(line.split(":", 1) for line in open(f"/proc/{pid}/status"))
    return {k: int(status[k].split()[0]) // 1024 for k in ("VmRSS", "VmHWM")}

def call(path, body, key):
    request = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST",
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code

rng = random.Random(1)
word = lambda n: "".join(rng.choice(string.ascii_uppercase) for _ in range(n))
start = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=2)).replace(
    hour=0, minute=0, second=0, microsecond=0)
search = {"insurer": "AXA", "insuredType": "PARTICULIER", "claimType": "DDE",
    "expertiseType": "VISIO", "dwellingType": "APPARTEMENT",
    "stake": {"total": 4200.0, "movable": 1200.0, "immovable": 3000.0},
    "appointmentPlace": {"address": {"line1": "12 rue de la Paix", "postalCode": "75002",
        "city": "Paris", "country": "FR"}, "geo": {"lat": 48.8686, "lon": 2.3316}},
    "from": start.isoformat(), "to": (start + datetime.timedelta(days=14)).isoformat()}
began = time.time()
for i in range(experts):
    profile = {"displayName": f"Expert {i}", "zone": {"departments": ["75"]},
        "skills": {"insurers": [word(12) for _ in range(values)],
                   "dwellingTypes": [word(10) for _ in range(values)],
                   "claimTypes": [word(8) for _ in range(values)],
                   "expertiseTypes": ["VISIO"]}}
    assert call("/admin/v1/experts", profile, token) == 201
    if (i + 1) % 50 == 0 or i + 1 == experts:
        assert call("/v1/slot-searches", search, api_key) == 200
    if (i + 1) % 300 == 0 or i + 1 == experts:
        print(f"{i + 1} experts: RSS {memory()['VmRSS']} MiB ({time.time() - began:.0f} s)", flush=True)
peak = memory()["VmHWM"]
time.sleep(5)
print(f"peak RSS {peak} MiB; RSS 5 s after the last change {memory()['VmRSS']} MiB")
EOF
