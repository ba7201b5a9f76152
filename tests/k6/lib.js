// Shared helpers of the k6 load scripts: the loopback-only target, the envelope, the course calls.
import http from 'k6/http';
import { fail } from 'k6';

// Load is only ever sent to this machine: refuse any other host.
export function baseUrl() {
  const url = __ENV.BASE_URL || 'http://127.0.0.1:8080';
  const host = url.replace(/^https?:\/\//, '').split('/')[0].replace(/:\d+$/, '');
  if (!(host.startsWith('127.') || host === 'localhost' || host === '[::1]')) {
    fail(`BASE_URL must be a loopback address, got ${url}`);
  }
  return url.replace(/\/$/, '');
}

export const JSON_HEADERS = { 'Content-Type': 'application/json' };

export function authHeaders(token) {
  return { 'Content-Type': 'application/json', token: token };
}

export function post(path, body, token, tags, responseCallback) {
  const headers = token ? authHeaders(token) : JSON_HEADERS;
  const params = responseCallback ? { headers, tags, responseCallback } : { headers, tags };
  return http.post(`${baseUrl()}${path}`, JSON.stringify(body), params);
}

export function get(path, token, tags) {
  return http.get(`${baseUrl()}${path}`, { headers: authHeaders(token), tags });
}

// The success envelope's data, or fail() with the answer (used in setup, where errors are fatal).
export function mustSucceed(response, what) {
  let body = null;
  try {
    body = response.json();
  } catch (error) {
    body = null;
  }
  if (response.status !== 200 || !body || body.success !== true) {
    fail(`${what}: ${response.status} ${response.body}`);
  }
  return body.data;
}

export function runId() {
  return `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
}

export function registerAndLogin(userName, password) {
  mustSucceed(post('/authentication/register', { user_name: userName, password, name: userName }), `register ${userName}`);
  const data = mustSucceed(post('/authentication/login', { user_name: userName, password }), `login ${userName}`);
  return data.token;
}
