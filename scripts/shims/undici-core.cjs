// What src/registry/ and src/kube/http.ts take from undici (request, Agent, EnvHttpProxyAgent),
// from the modules that define them. undici's entry point also builds fetch, WebSocket,
// EventSource, the cache stores and the mocks when it loads (~25 ms of every push and pull);
// scripts/build.mjs points those imports here. `request` is undici's own `request` with the URL
// split into origin and path the way its entry point does (for the absolute URLs we pass).
'use strict';

const Agent = require('undici/lib/dispatcher/agent.js');
const EnvHttpProxyAgent = require('undici/lib/dispatcher/env-http-proxy-agent.js');
const api = require('undici/lib/api/index.js');
const { parseURL } = require('undici/lib/core/util.js');
const { getGlobalDispatcher } = require('undici/lib/global.js');

function request(url, opts) {
  const u = parseURL(url);
  const { dispatcher = getGlobalDispatcher(), ...rest } = opts ?? {};
  return api.request.call(dispatcher, {
    ...rest,
    origin: u.origin,
    path: u.search ? `${u.pathname}${u.search}` : u.pathname,
    method: rest.method || (rest.body ? 'PUT' : 'GET'),
  });
}

module.exports = { Agent, EnvHttpProxyAgent, request };
