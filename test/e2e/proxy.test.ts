// Registries and an API server behind a real forward proxy (tinyproxy): the HTTP(S)_PROXY and
// NO_PROXY variables are honoured as Go tools (and kubectl) honour them, so is a kubeconfig's
// proxy-url, proxy credentials work and are never printed, and a refusing or missing proxy is a
// clear error. The servers run on a test host (a network namespace of this machine, netns.ts):
// loopback never goes through a proxy.
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runCli, runOk, secretShownIn, type CliResult } from '../support/cli.ts';
import { createTestHost, type TestHost } from '../support/netns.ts';
import { startForwardProxy, type RunningProxy } from '../support/proxy.ts';
import { startCluster, type RunningCluster } from '../support/cluster.ts';
import { startRegistry, type RunningRegistry } from '../support/registry.ts';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';

const POLICIES = join(REPO_ROOT, 'examples', 'policies', 'kyverno');
const PROXY_PASSWORD = 'pr0xy-s3cret-Zq';

/** The proxy variables as a user sets them, in both spellings (Go reads either). */
function proxyEnv(url: string, noProxy = ''): NodeJS.ProcessEnv {
  return { HTTPS_PROXY: url, https_proxy: url, HTTP_PROXY: url, http_proxy: url, NO_PROXY: noProxy, no_proxy: noProxy };
}

describe('registries behind a forward proxy (tinyproxy)', () => {
  let proxy: RunningProxy;
  let tlsRegistry: RunningRegistry;
  let plainRegistry: RunningRegistry;
  let home: string;
  let testHost: TestHost;
  beforeAll(async () => {
    testHost = createTestHost();
    [proxy, tlsRegistry, plainRegistry] = await Promise.all([
      startForwardProxy({ username: 'policyoci', password: PROXY_PASSWORD }),
      startRegistry('tls', { host: testHost }),
      startRegistry('open', { host: testHost }),
    ]);
    home = await mkdtemp(join(tmpdir(), 'proxy-home-'));
  });
  afterAll(async () => {
    await Promise.all([proxy?.stop(), tlsRegistry?.stop(), plainRegistry?.stop()]);
    testHost?.remove();
  });

  const env = (extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv => ({ HOME: home, DOCKER_CONFIG: join(home, '.docker'), ...extra });

  it('pushes and pulls over HTTPS through CONNECT, with proxy credentials that are never printed', async () => {
    const results: CliResult[] = [];
    const ref = `${tlsRegistry.host}/through-proxy:v1`;
    const tls = ['--ca-file', tlsRegistry.caFile!];
    const before = (await proxy.requests()).length;
    results.push(await runOk(['push', ref, POLICIES, ...tls, '--format', 'json'], { env: env(proxyEnv(proxy.urlWithCredentials)) }));
    const out = join(home, 'pulled-https');
    results.push(await runOk(['pull', ref, '-o', out, ...tls, '--debug'], { env: env(proxyEnv(proxy.urlWithCredentials)) }));
    expect((await readdir(out)).length).toBeGreaterThan(0);
    const asked = (await proxy.requests()).slice(before);
    // Every connection to the registry was a tunnel through the proxy; nothing else was asked of it.
    expect(asked.length).toBeGreaterThan(0);
    expect(new Set(asked)).toEqual(new Set([`CONNECT ${tlsRegistry.host}`]));
    expect(secretShownIn(results, PROXY_PASSWORD)).toEqual([]);
  });

  it('sends plain-HTTP requests to the proxy as absolute URIs', async () => {
    const ref = `${plainRegistry.host}/through-proxy:v1`;
    const before = (await proxy.requests()).length;
    await runOk(['push', ref, POLICIES, '--plain-http'], { env: env(proxyEnv(proxy.urlWithCredentials)) });
    await runOk(['pull', ref, '-o', join(home, 'pulled-http'), '--plain-http'], { env: env(proxyEnv(proxy.urlWithCredentials)) });
    const asked = (await proxy.requests()).slice(before);
    expect(asked.some((r) => r.startsWith(`POST http://${plainRegistry.host}/v2/through-proxy/blobs/uploads/`))).toBe(true);
    expect(asked.some((r) => r.startsWith(`GET http://${plainRegistry.host}/v2/through-proxy/manifests/v1`))).toBe(true);
    expect(asked.every((r) => r.includes(`http://${plainRegistry.host}/v2/`))).toBe(true);
  });

  it('goes direct for hosts NO_PROXY names', async () => {
    const before = (await proxy.requests()).length;
    await runOk(['tags', `${tlsRegistry.host}/through-proxy`, '--ca-file', tlsRegistry.caFile!], {
      env: env(proxyEnv(proxy.urlWithCredentials, tlsRegistry.host.split(':')[0])),
    });
    expect((await proxy.requests()).slice(before)).toEqual([]);
  });

  it('fails as a registry error, without the password, when the proxy refuses the credentials', async () => {
    const wrong = proxy.urlWithCredentials.replace(encodeURIComponent(PROXY_PASSWORD), 'not-the-password');
    const r = await runCli(['tags', `${tlsRegistry.host}/through-proxy`, '--ca-file', tlsRegistry.caFile!], { env: env(proxyEnv(wrong)) });
    expect(r.code, r.stderr).toBe(8);
    expect(r.stderr).toContain(`the proxy ${proxy.url} did not accept the credentials`);
    expect(r.stderr).toContain(`add ${tlsRegistry.host.split(':')[0]} to NO_PROXY`);
    expect(secretShownIn([r], 'not-the-password')).toEqual([]);
    expect(secretShownIn([r], PROXY_PASSWORD)).toEqual([]);
  });

  it('says the proxy asks for credentials when none are given (plain HTTP: 407)', async () => {
    const r = await runCli(['tags', `${plainRegistry.host}/through-proxy`, '--plain-http'], { env: env(proxyEnv(proxy.url)) });
    expect(r.code, r.stderr).toBe(8);
    expect(r.stderr).toContain('HTTP 407');
    expect(r.stderr).toContain(`the proxy ${proxy.url} asks for credentials: give them in HTTP_PROXY`);
  });

  it('names the proxy, not the registry, when the proxy is not there', async () => {
    const r = await runCli(['tags', `${tlsRegistry.host}/through-proxy`, '--ca-file', tlsRegistry.caFile!], { env: env(proxyEnv('http://someone:pw-9x@127.0.0.1:9')) });
    expect(r.code, r.stderr).toBe(8);
    expect(r.stderr).toContain('the proxy refused the connection');
    expect(r.stderr).toContain('check that the proxy http://127.0.0.1:9 (from HTTPS_PROXY) is running');
    expect(secretShownIn([r], 'pw-9x')).toEqual([]);
  });
});

describe('an API server behind a forward proxy (tinyproxy)', () => {
  let proxy: RunningProxy;
  let cluster: RunningCluster;
  let registry: RunningRegistry;
  let home: string;
  let testHost: TestHost;
  const ref = () => `${registry.host}/for-cluster:v1`;
  beforeAll(async () => {
    testHost = createTestHost();
    [proxy, cluster, registry] = await Promise.all([
      startForwardProxy({ username: 'policyoci', password: PROXY_PASSWORD }),
      startCluster('proxied', { host: testHost }),
      startRegistry('open'), // on loopback: reached directly while the cluster goes through the proxy
    ]);
    home = await mkdtemp(join(tmpdir(), 'proxy-cluster-'));
    await runOk(['push', ref(), POLICIES]);
  }, 300_000);
  afterAll(async () => {
    await Promise.all([proxy?.stop(), cluster?.stop(), registry?.stop()]);
    testHost?.remove();
  });

  const apiHost = () => new URL(cluster.server).host;

  it('applies and diffs through CONNECT with HTTPS_PROXY, credentials never printed', async () => {
    const before = (await proxy.requests()).length;
    const env = { HOME: home, ...proxyEnv(proxy.urlWithCredentials) };
    const applied = await runOk(['apply', ref(), '--kubeconfig', cluster.kubeconfigs.admin, '--format', 'json'], { env });
    expect(JSON.parse(applied.stdout).counts.created).toBeGreaterThan(0);
    const diff = await runCli(['diff', ref(), '--kubeconfig', cluster.kubeconfigs.admin], { env });
    expect(diff.code, diff.stderr).toBe(0);
    const asked = (await proxy.requests()).slice(before);
    expect(asked.length).toBeGreaterThan(0);
    // The API server only through the proxy; the loopback registry never.
    expect(new Set(asked)).toEqual(new Set([`CONNECT ${apiHost()}`]));
    expect(secretShownIn([applied, diff], PROXY_PASSWORD)).toEqual([]);
  });

  it("takes the kubeconfig's proxy-url, and NO_PROXY sends the cluster direct", async () => {
    const config = parseYaml(await readFile(cluster.kubeconfigs.admin, 'utf8')) as { clusters: { cluster: Record<string, unknown> }[] };
    config.clusters[0]!.cluster['proxy-url'] = proxy.urlWithCredentials;
    const withProxyUrl = join(home, 'kubeconfig-proxy-url');
    await writeFile(withProxyUrl, stringifyYaml(config));
    let before = (await proxy.requests()).length;
    const status = await runOk(['diff', ref(), '--kubeconfig', withProxyUrl], { env: { HOME: home } });
    expect((await proxy.requests()).slice(before)).toContain(`CONNECT ${apiHost()}`);
    expect(secretShownIn([status], PROXY_PASSWORD)).toEqual([]);

    before = (await proxy.requests()).length;
    await runOk(['diff', ref(), '--kubeconfig', cluster.kubeconfigs.admin], { env: { HOME: home, ...proxyEnv(proxy.urlWithCredentials, apiHost().split(':')[0]) } });
    expect((await proxy.requests()).slice(before)).toEqual([]);
  });

  it('fails as a cluster error naming the proxy, without its password, when the proxy is not there', async () => {
    const r = await runCli(['diff', ref(), '--kubeconfig', cluster.kubeconfigs.admin], { env: { HOME: home, ...proxyEnv('http://someone:pw-7y@127.0.0.1:9') } });
    expect(r.code, r.stderr).toBe(8);
    expect(r.stderr).toContain(`cannot reach the API server at ${cluster.server}`);
    expect(r.stderr).toContain('through the proxy http://127.0.0.1:9');
    expect(r.stderr).toContain(`add ${apiHost().split(':')[0]} to NO_PROXY`);
    expect(secretShownIn([r], 'pw-7y')).toEqual([]);
  });

  it('fails as a cluster error naming the proxy when it refuses the credentials', async () => {
    const wrong = proxy.urlWithCredentials.replace(encodeURIComponent(PROXY_PASSWORD), 'not-the-password');
    const r = await runCli(['diff', ref(), '--kubeconfig', cluster.kubeconfigs.admin], { env: { HOME: home, ...proxyEnv(wrong) } });
    expect(r.code, r.stderr).toBe(8);
    expect(r.stderr).toContain(`through the proxy ${proxy.url}`);
    expect(secretShownIn([r], 'not-the-password')).toEqual([]);
    expect(secretShownIn([r], PROXY_PASSWORD)).toEqual([]);
  });
});
