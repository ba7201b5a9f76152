#!/usr/bin/env bash
# Place-order load with wrk (much lighter than k6, so more of the 2 cores is left to the
# exchange): starts a release exchange on a free loopback port with a temporary data directory,
# registers USERS users with cash and shares of STOCKS stocks through the API, then runs wrk with
# wrk_place.lua (the place_orders mix) and prints orders/s by status and p50/p99.
#
#   services/exchange/dev/wrk_place.sh                  # 64 connections, 20 s
#   CONNECTIONS=128 DURATION=30s EXCHANGE_BIN=target/release/exchange services/exchange/dev/wrk_place.sh
#   MODES="health balance place" services/exchange/dev/wrk_place.sh   # floors side by side, one run
#   EXCHANGE_LOG=info KEEP_LOG=/tmp/exchange.log services/exchange/dev/wrk_place.sh  # keep its log
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
here=services/exchange/dev
USERS="${USERS:-32}" STOCKS="${STOCKS:-8}"
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }
bin="${EXCHANGE_BIN:-target/release/exchange}"
[ -x "$bin" ] || cargo build --release -p exchange
work="$(mktemp -d -t exchange-wrk-XXXXXX)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
RUST_LOG="${EXCHANGE_LOG:-warn}" "$bin" --listen "127.0.0.1:$port" --data-dir "$work/data" --bcrypt-cost 4 >"$work/exchange.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; [ -z "${KEEP_LOG:-}" ] || cp "$work/exchange.log" "$KEEP_LOG"; rm -rf "$work"' EXIT
for _ in $(seq 1 300); do curl -fsS "$base/health" >/dev/null 2>&1 && break; sleep 0.1; done
post() { curl -fsS "$base$1" -H 'Content-Type: application/json' ${3:+-H "token: $3"} -d "$2"; }
tokens=()
for user in $(seq 1 "$USERS"); do
    post /authentication/register "{\"user_name\":\"wrk$user\",\"password\":\"pw\",\"name\":\"W\"}" >/dev/null
    tokens+=("$(post /authentication/login "{\"user_name\":\"wrk$user\",\"password\":\"pw\"}" | sed 's/.*"token":"\([^"]*\)".*/\1/')")
done
stocks=()
for stock in $(seq 1 "$STOCKS"); do
    stocks+=("$(post /setup/createStock "{\"stock_name\":\"WRK$stock\"}" "${tokens[0]}" | sed 's/.*"stock_id":"\([^"]*\)".*/\1/')")
done
for token in "${tokens[@]}"; do
    post /transaction/addMoneyToWallet '{"amount":1000000000}' "$token" >/dev/null
    for stock in "${stocks[@]}"; do
        post /setup/addStockToUser "{\"stock_id\":\"$stock\",\"quantity\":1000000000}" "$token" >/dev/null
    done
done
{
    echo "return { tokens = {"; printf '  "%s",\n' "${tokens[@]}"; echo "}, stocks = {"
    printf '  "%s",\n' "${stocks[@]}"; echo "} }"
} >"$work/wrk_data.lua"
for mode in ${MODES:-place}; do
    echo "wrk $mode: ${CONNECTIONS:-64} connections, ${DURATION:-20s}, $USERS users, $STOCKS stocks, load $(cut -d' ' -f1-3 /proc/loadavg)"
    WRK_MODE="$mode" WRK_DATA="$work/wrk_data.lua" wrk -t2 -c"${CONNECTIONS:-64}" -d"${DURATION:-20s}" --latency \
        -s "$here/wrk_place.lua" "$base" | grep -E 'Requests/sec|status|p50'
done
