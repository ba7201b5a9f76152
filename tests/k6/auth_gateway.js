// Registration and login through the gateway, counting its rate limit: each iteration registers
// a fresh user and logs in once; answers are counted by kind (200, 429 from nginx's limit on
// /authentication/*, anything else). Every k6 request comes from 127.0.0.1, so nginx's
// per-address limit (100 r/s, burst 200) applies to the whole run. Bounded: VUS for DURATION.
//
//   k6 run -e BASE_URL=http://127.0.0.1:8080 -e VUS=8 -e DURATION=20s tests/k6/auth_gateway.js
import http from 'k6/http';
import { Counter } from 'k6/metrics';
import { post, runId } from './lib.js';

export const options = {
  scenarios: {
    auth: { executor: 'constant-vus', vus: Number(__ENV.VUS || 8), duration: __ENV.DURATION || '20s' },
  },
  summaryTrendStats: ['avg', 'min', 'med', 'p(90)', 'p(99)', 'max'],
  thresholds: {
    // Always true: listed so the summary shows each endpoint's own latency and counts.
    'http_req_duration{name:register}': ['max>=0'],
    'http_req_duration{name:login}': ['max>=0'],
  },
};

const ok = new Counter('auth_ok');
const limited = new Counter('auth_429');
const other = new Counter('auth_other');
const EXPECTED = http.expectedStatuses(200, 429);

function count(response, name) {
  const tags = { name };
  if (response.status === 200) {
    ok.add(1, tags);
  } else if (response.status === 429) {
    limited.add(1, tags);
  } else {
    other.add(1, tags);
  }
}

export default function () {
  const userName = `k6_${runId()}_${__VU}_${__ITER}`;
  const password = 'load-test-password';
  const tags = (name) => ({ name, kind: 'auth' });
  count(post('/authentication/register', { user_name: userName, password, name: userName }, null, tags('register'), EXPECTED), 'register');
  count(post('/authentication/login', { user_name: userName, password }, null, tags('login'), EXPECTED), 'login');
}
