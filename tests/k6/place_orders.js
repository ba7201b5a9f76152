// Place-order load: a mix of course limit sells and market buys across several stocks and users,
// through HTTP with the JWT `token` header. Bounded: VUS virtual users for DURATION.
//
//   k6 run -e BASE_URL=http://127.0.0.1:8080 -e VUS=64 -e DURATION=30s tests/k6/place_orders.js
//
// Sells rest (escrowing shares); market buys take them (all or nothing, so a buy that finds too
// few shares from others is a 400, counted as `orders_rejected`, not as an error).
import { check } from 'k6';
import http from 'k6/http';
import { Counter, Trend } from 'k6/metrics';
import { post, registerAndLogin, mustSucceed, runId } from './lib.js';

const USERS = Number(__ENV.USERS || 32);
const STOCKS = Number(__ENV.STOCKS || 8);
const SELL_SHARE = Number(__ENV.SELL_SHARE || 0.55);

export const options = {
  scenarios: {
    orders: {
      executor: 'constant-vus',
      vus: Number(__ENV.VUS || 64),
      duration: __ENV.DURATION || '30s',
      gracefulStop: '5s',
    },
  },
  setupTimeout: '300s',
  summaryTrendStats: ['avg', 'min', 'med', 'p(90)', 'p(99)', 'max'],
  thresholds: {
    // Not a pass/fail gate (performance is measured, not tested): only breaks on transport errors.
    'checks{kind:order}': ['rate>0.99'],
    // Always true: listed so the summary shows each side's own latency.
    'http_req_duration{name:placeStockOrder sell}': ['max>=0'],
    'http_req_duration{name:placeStockOrder buy}': ['max>=0'],
  },
};

const ordersAccepted = new Counter('orders_accepted');
const ordersRejected = new Counter('orders_rejected');
const orderLatency = new Trend('order_latency_ms', true);
const BUY_STATUSES = http.expectedStatuses(200, 400);

export function setup() {
  const id = runId();
  const tokens = [];
  for (let user = 0; user < USERS; user++) {
    tokens.push(registerAndLogin(`k6_${id}_${user}`, 'load-test-password'));
  }
  const stocks = [];
  for (let stock = 0; stock < STOCKS; stock++) {
    const data = mustSucceed(post('/setup/createStock', { stock_name: `K6_${id}_${stock}` }, tokens[0]), 'createStock');
    stocks.push(data.stock_id);
  }
  for (const token of tokens) {
    mustSucceed(post('/transaction/addMoneyToWallet', { amount: 1000000000 }, token), 'addMoneyToWallet');
    for (const stock of stocks) {
      mustSucceed(post('/setup/addStockToUser', { stock_id: stock, quantity: 1000000000 }, token), 'addStockToUser');
    }
  }
  return { tokens, stocks };
}

export default function (data) {
  const token = data.tokens[(__VU - 1) % data.tokens.length];
  const stock = data.stocks[Math.floor(Math.random() * data.stocks.length)];
  const isSell = Math.random() < SELL_SHARE;
  const body = isSell
    ? { stock_id: stock, is_buy: false, order_type: 'LIMIT', quantity: 1 + Math.floor(Math.random() * 10), price: (10000 + Math.floor(Math.random() * 1000)) / 100 }
    : { stock_id: stock, is_buy: true, order_type: 'MARKET', quantity: 1 + Math.floor(Math.random() * 5), price: null };
  const tags = { name: isSell ? 'placeStockOrder sell' : 'placeStockOrder buy', kind: 'order' };
  // A market buy refused for lack of shares (400) is an expected answer, not a failed request.
  const expected = isSell ? null : BUY_STATUSES;
  const response = post('/engine/placeStockOrder', body, token, tags, expected);
  orderLatency.add(response.timings.duration, { side: isSell ? 'sell' : 'buy' });
  if (response.status === 200) {
    ordersAccepted.add(1);
  } else {
    ordersRejected.add(1);
  }
  // A sell must succeed; a market buy may be refused (400) when the book is short.
  check(response, { 'order answered in the envelope': (r) => r.status === 200 || (!isSell && r.status === 400) }, tags);
}
