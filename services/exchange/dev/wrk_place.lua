-- wrk script: the place_orders mix (55 % limit sells, 45 % market buys, random stock and user)
-- with the `token` header. `wrk_place.sh` writes the tokens and stock ids into `wrk_data.lua`
-- next to a copy of this file and sets WRK_DATA to it.
-- WRK_MODE picks the request: place (the mix, default), balance (GET getWalletBalance with a
-- token: the floor of an authenticated request) or health (GET /health: the floor of any).
local data = dofile(os.getenv("WRK_DATA"))
local mode = os.getenv("WRK_MODE") or "place"
local balance_headers = {}
local statuses = {}
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
  counts = {}
end

function request()
  if mode == "health" then
    return wrk.format("GET", "/health")
  elseif mode == "balance" then
    balance_headers["token"] = data.tokens[math.random(#data.tokens)]
    return wrk.format("GET", "/transaction/getWalletBalance", balance_headers)
  end
  local token = data.tokens[math.random(#data.tokens)]
  local stock = data.stocks[math.random(#data.stocks)]
  local body
  if math.random() < 0.55 then
    body = string.format('{"stock_id":"%s","is_buy":false,"order_type":"LIMIT","quantity":%d,"price":%d.%02d}',
      stock, math.random(10), 100 + math.random(0, 9), math.random(0, 99))
  else
    body = string.format('{"stock_id":"%s","is_buy":true,"order_type":"MARKET","quantity":%d}',
      stock, math.random(5))
  end
  return wrk.format("POST", "/engine/placeStockOrder",
    { ["Content-Type"] = "application/json", ["token"] = token }, body)
end

function response(status, headers, body)
  counts[status] = (counts[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    local c = thread:get("counts")
    for status, n in pairs(c) do total[status] = (total[status] or 0) + n end
  end
  local seconds = summary.duration / 1e6
  for status, n in pairs(total) do
    io.write(string.format("status %d: %d (%.0f/s)\n", status, n, n / seconds))
  end
  io.write(string.format("p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms\n",
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency:percentile(99.9) / 1000))
end
