#!/usr/bin/env bash
# Side-by-side place-order comparison of exchange binaries on this machine: runs wrk_place.sh for
# each binary in turn, ROUNDS times (interleaved, so a noisy neighbour hits all of them alike),
# then prints per binary the median orders/s, p50 and p99 over the rounds.
#
#   services/exchange/dev/wrk_compare.sh /tmp/exchange-before target/release/exchange
#   ROUNDS=5 DURATION=10s CONNECTIONS=64 services/exchange/dev/wrk_compare.sh A B C
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
[ $# -ge 1 ] || { echo "usage: $0 <exchange binary>..." >&2; exit 2; }
ROUNDS="${ROUNDS:-3}"
export DURATION="${DURATION:-10s}"
results="$(mktemp -t wrk-compare-XXXXXX)"
trap 'rm -f "$results"' EXIT
for round in $(seq 1 "$ROUNDS"); do
    for bin in "$@"; do
        out="$(EXCHANGE_BIN="$bin" services/exchange/dev/wrk_place.sh 2>&1)"
        rate="$(sed -n 's/^status 200: [0-9]* (\([0-9]*\)\/s)$/\1/p' <<<"$out")"
        read -r p50 p99 < <(sed -n 's/^p50 \([0-9.]*\) ms, p99 \([0-9.]*\) ms.*/\1 \2/p' <<<"$out")
        echo "round $round  $bin  ${rate:-?} orders/s  p50 ${p50:-?} ms  p99 ${p99:-?} ms" >&2
        echo "$bin ${rate:-0} ${p50:-0} ${p99:-0}" >>"$results"
    done
done
echo "medians over $ROUNDS rounds (${CONNECTIONS:-64} connections, $DURATION each):"
for bin in "$@"; do
    python3 - "$bin" "$results" <<'EOF'
import statistics, sys
bin, path = sys.argv[1], sys.argv[2]
rows = [line.split() for line in open(path) if line.split()[0] == bin]
med = lambda i: statistics.median(float(r[i]) for r in rows)
print(f"  {bin}: {med(1):,.0f} orders/s, p50 {med(2):.2f} ms, p99 {med(3):.2f} ms")
EOF
done
