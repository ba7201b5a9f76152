// Registration and login load: each iteration registers a fresh user and logs in twice, so the
// rate reflects the bcrypt cost the exchange runs with. Bounded: VUS virtual users for DURATION.
// Meanwhile a second scenario reads balances so the p99 of other endpoints under login load shows.
//
//   k6 run -e BASE_URL=http://127.0.0.1:8080 -e VUS=8 -e DURATION=20s tests/k6/auth.js
import { check } from 'k6';
import http from 'k6/http';
import { get, post, registerAndLogin, runId } from './lib.js';

export const options = {
  scenarios: {
    logins: {
      executor: 'constant-vus',
      exec: 'registerAndLoginLoop',
      vus: Number(__ENV.VUS || 8),
      duration: __ENV.DURATION || '20s',
    },
    reads: {
      executor: 'constant-vus',
      exec: 'readBalance',
      vus: Number(__ENV.READ_VUS || 4),
      duration: __ENV.DURATION || '20s',
    },
  },
  summaryTrendStats: ['avg', 'min', 'med', 'p(90)', 'p(99)', 'max'],
  thresholds: {
    'checks{kind:auth}': ['rate>0.99'],
    // Always true: listed so the summary shows each endpoint's own latency.
    'http_req_duration{name:register}': ['max>=0'],
    'http_req_duration{name:login}': ['max>=0'],
    'http_req_duration{name:getWalletBalance}': ['max>=0'],
    'http_reqs{name:register}': ['count>=0'],
    'http_reqs{name:login}': ['count>=0'],
  },
};

export function setup() {
  return { token: registerAndLogin(`k6_reader_${runId()}`, 'load-test-password') };
}

export function registerAndLoginLoop() {
  const userName = `k6_${runId()}_${__VU}_${__ITER}`;
  const password = 'load-test-password';
  const registered = post('/authentication/register', { user_name: userName, password, name: userName }, null, { name: 'register', kind: 'auth' });
  const login = post('/authentication/login', { user_name: userName, password }, null, { name: 'login', kind: 'auth' });
  const wrong = post('/authentication/login', { user_name: userName, password: 'wrong' }, null, { name: 'login wrong password', kind: 'auth' }, http.expectedStatuses(400));
  check(registered, { 'register 200': (r) => r.status === 200 }, { kind: 'auth' });
  check(login, { 'login 200': (r) => r.status === 200 }, { kind: 'auth' });
  check(wrong, { 'wrong password 400': (r) => r.status === 400 }, { kind: 'auth' });
}

export function readBalance(data) {
  const response = get('/transaction/getWalletBalance', data.token, { name: 'getWalletBalance', kind: 'read' });
  check(response, { 'balance 200': (r) => r.status === 200 }, { kind: 'read' });
}
