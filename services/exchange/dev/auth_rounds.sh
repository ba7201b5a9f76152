#!/bin/bash
# Registration and login through the gateway, 3 rounds of tests/k6/auth_gateway.js (8 VUs, 20 s),
# with the counts of 200 / 429 / other answers and the load average. Run it under the launcher:
#   EXCHANGE_BIN=target/release/exchange RUST_LOG=warn target/release/topology services/exchange/dev/auth_rounds.sh
set -euo pipefail
[[ "$EXCHANGE_BASE_URL" =~ ^http://127\. ]] || { echo "EXCHANGE_BASE_URL must be loopback" >&2; exit 1; }
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
for round in 1 2 3; do
  load1=$(cut -d' ' -f1 /proc/loadavg)
  .venv/bin/k6 run --quiet --summary-export /tmp/auth-$round.json -e BASE_URL="$EXCHANGE_BASE_URL" -e VUS=8 -e DURATION=20s tests/k6/auth_gateway.js >/tmp/auth-$round.k6 2>&1
  python3 - "$round" "$load1" <<'PY'
import json, sys
r, load1 = sys.argv[1], sys.argv[2]
m = json.load(open(f"/tmp/auth-{r}.json"))["metrics"]
c = lambda k: m.get(k, {}).get("count", 0)
d = m["http_req_duration{name:register}"]; l = m["http_req_duration{name:login}"]
print(f"auth round {r}: 200={c('auth_ok')} ({c('auth_ok')/20:.0f}/s) 429={c('auth_429')} other={c('auth_other')} "
      f"register p50={d['med']:.1f}ms p99={d['p(99)']:.1f}ms login p50={l['med']:.1f}ms p99={l['p(99)']:.1f}ms load1={load1}")
PY
done
