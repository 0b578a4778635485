import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { isPolicyOciError } from '../../../src/errors.ts';
import { kubeconfigFiles, loadKubeconfig, type LoadedKubeconfig } from '../../../src/kube/kubeconfig.ts';
import { proxyFromEnv } from '../../../src/util/proxy.ts';

/** The KubeConfig the transport makes from what loadKubeconfig returns (kube/http.ts). */
function kubeConfigOf(loaded: LoadedKubeconfig): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions(loaded.options);
  return kc;
}

let dir: string;

interface Spec {
  clusters?: Array<[string, Record<string, unknown>]>;
  users?: Array<[string, Record<string, unknown>]>;
  contexts?: Array<[string, Record<string, unknown>]>;
  current?: string;
}

function write(rel: string, spec: Spec): string {
  const file = join(dir, rel);
  mkdirSync(join(file, '..'), { recursive: true });
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: (spec.clusters ?? []).map(([name, cluster]) => ({ name, cluster })),
    users: (spec.users ?? []).map(([name, user]) => ({ name, user })),
    contexts: (spec.contexts ?? []).map(([name, context]) => ({ name, context })),
    ...(spec.current !== undefined ? { 'current-context': spec.current } : {}),
  };
  writeFileSync(file, stringify(doc));
  return file;
}

function env(...files: string[]): NodeJS.ProcessEnv {
  return { KUBECONFIG: files.join(delimiter), HOME: join(dir, 'nohome') };
}

function thrown(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (err) {
    if (isPolicyOciError(err)) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('did not throw');
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kubeconfig-test-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('KUBECONFIG merge', () => {
  it('first file wins for each named cluster, user and context, as a whole', () => {
    const a = write('merge/a', {
      clusters: [['c', { server: 'https://first.example:6443' }]],
      users: [['u', { token: 'first-token' }]],
      contexts: [['ctx', { cluster: 'c', user: 'u', namespace: 'ns-a' }]],
      current: 'ctx',
    });
    const b = write('merge/b', {
      clusters: [
        ['c', { server: 'https://second.example:6443' }],
        ['only-b', { server: 'https://b.example' }],
      ],
      users: [['u', { token: 'second-token' }]],
      contexts: [
        ['ctx', { cluster: 'only-b', user: 'u', namespace: 'ns-b' }],
        ['ctx-b', { cluster: 'only-b', user: 'u' }],
      ],
      current: 'ctx-b',
    });
    const loaded = loadKubeconfig({ env: env(a, b) });
    expect(loaded.contextName).toBe('ctx');
    expect(loaded.server).toBe('https://first.example:6443');
    expect(loaded.namespace).toBe('ns-a');
    expect(kubeConfigOf(loaded).getCurrentUser()?.token).toBe('first-token');
    expect(loaded.files).toEqual([a, b]);
    // Entries only in the second file are there; the second's context uses the first's user.
    const other = loadKubeconfig({ env: env(a, b), context: 'ctx-b' });
    expect(other.server).toBe('https://b.example');
    expect(kubeConfigOf(other).getCurrentUser()?.token).toBe('first-token');
  });

  it('skips missing files and takes current-context from the first file that has one', () => {
    const noCurrent = write('cc/none', { clusters: [['c1', { server: 'https://one.example' }]], contexts: [['one', { cluster: 'c1' }]] });
    const withCurrent = write('cc/with', { clusters: [['c2', { server: 'https://two.example' }]], contexts: [['two', { cluster: 'c2' }]], current: 'two' });
    const later = write('cc/later', { contexts: [['three', { cluster: 'c1' }]], current: 'three' });
    const loaded = loadKubeconfig({ env: env(join(dir, 'does-not-exist'), noCurrent, withCurrent, later) });
    expect(loaded.contextName).toBe('two');
    expect(loaded.server).toBe('https://two.example');
    expect(loaded.files).toEqual([noCurrent, withCurrent, later]);
  });

  it('an empty current-context in an earlier file does not win', () => {
    const a = write('empty-cc/a', { clusters: [['c', { server: 'https://a.example' }]], contexts: [['x', { cluster: 'c' }]], current: '' });
    const b = write('empty-cc/b', { contexts: [['y', { cluster: 'c' }]], current: 'y' });
    expect(loadKubeconfig({ env: env(a, b) }).contextName).toBe('y');
  });

  it('every KUBECONFIG file missing is an error naming them', () => {
    const err = thrown(() => loadKubeconfig({ env: env(join(dir, 'nope1'), join(dir, 'nope2')) }));
    expect(err.code).toBe('CLUSTER');
    expect(err.message).toContain('nope1');
  });

  it('duplicate files are read once', () => {
    const a = write('dup/a', { clusters: [['c', { server: 'https://a.example' }]], contexts: [['x', { cluster: 'c' }]], current: 'x' });
    expect(kubeconfigFiles(undefined, env(a, a))).toEqual([a]);
  });
});

describe('--kubeconfig and the default file', () => {
  it('--kubeconfig is the only file read, even with KUBECONFIG set', () => {
    const flag = write('flag/config', { clusters: [['c', { server: 'https://flag.example' }]], contexts: [['f', { cluster: 'c' }]], current: 'f' });
    const other = write('flag/other', { clusters: [['c', { server: 'https://other.example' }]], contexts: [['o', { cluster: 'c' }]], current: 'o' });
    const loaded = loadKubeconfig({ kubeconfig: flag, env: env(other) });
    expect(loaded.server).toBe('https://flag.example');
    expect(loaded.files).toEqual([flag]);
  });

  it('a missing --kubeconfig file is an error', () => {
    const err = thrown(() => loadKubeconfig({ kubeconfig: join(dir, 'missing.yaml'), env: {} }));
    expect(err.code).toBe('USAGE');
    expect(err.message).toContain('missing.yaml');
  });

  it('without KUBECONFIG, ~/.kube/config', () => {
    const home = join(dir, 'home');
    write('home/.kube/config', { clusters: [['c', { server: 'https://home.example' }]], contexts: [['h', { cluster: 'c' }]], current: 'h' });
    expect(loadKubeconfig({ env: { HOME: home } }).server).toBe('https://home.example');
    const err = thrown(() => loadKubeconfig({ env: { HOME: join(dir, 'empty-home') } }));
    expect(err.code).toBe('CLUSTER');
  });
});

describe('paths, context and namespace', () => {
  it('resolves relative paths against the directory of the file that holds them', () => {
    const a = write('rel/a/config', {
      clusters: [['c', { server: 'https://a.example', 'certificate-authority': 'ca.crt' }]],
      users: [['u', { 'client-certificate': 'certs/u.crt', 'client-key': '../keys/u.key' }]],
      contexts: [['x', { cluster: 'c', user: 'u' }]],
      current: 'x',
    });
    const b = write('rel/b/config', {
      users: [
        ['t', { tokenFile: 'token' }],
        ['e', { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: './bin/plugin', args: ['get'] } }],
        ['p', { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'aws' } }],
      ],
      contexts: [
        ['t', { cluster: 'c', user: 't' }],
        ['e', { cluster: 'c', user: 'e' }],
        ['p', { cluster: 'c', user: 'p' }],
      ],
    });
    const loaded = loadKubeconfig({ env: env(a, b) });
    expect(kubeConfigOf(loaded).getCurrentCluster()?.caFile).toBe(join(dir, 'rel/a/ca.crt'));
    expect(kubeConfigOf(loaded).getCurrentUser()?.certFile).toBe(join(dir, 'rel/a/certs/u.crt'));
    expect(kubeConfigOf(loaded).getCurrentUser()?.keyFile).toBe(join(dir, 'rel/keys/u.key'));
    const t = kubeConfigOf(loadKubeconfig({ env: env(a, b), context: 't' })).getCurrentUser();
    expect(t?.authProvider).toEqual({ name: 'tokenFile', config: { tokenFile: join(dir, 'rel/b/token') } });
    expect(t?.token).toBeUndefined();
    expect(kubeConfigOf(loadKubeconfig({ env: env(a, b), context: 'e' })).getCurrentUser()?.exec.command).toBe(join(dir, 'rel/b/bin/plugin'));
    // A bare command name is looked up on PATH, not resolved.
    expect(kubeConfigOf(loadKubeconfig({ env: env(a, b), context: 'p' })).getCurrentUser()?.exec.command).toBe('aws');
  });

  it('an unknown --context is an error listing the contexts', () => {
    const a = write('ctx/a', { clusters: [['c', { server: 'https://a.example' }]], contexts: [['alpha', { cluster: 'c' }], ['beta', { cluster: 'c' }]], current: 'alpha' });
    const err = thrown(() => loadKubeconfig({ env: env(a), context: 'gamma' }));
    expect(err.code).toBe('USAGE');
    expect(err.message).toContain('"gamma"');
    expect(err.message).toContain('alpha, beta');
    expect(loadKubeconfig({ env: env(a), context: 'beta' }).contextName).toBe('beta');
  });

  it('no current context and no --context is an error', () => {
    const a = write('ctx/none', { clusters: [['c', { server: 'https://a.example' }]], contexts: [['alpha', { cluster: 'c' }]] });
    expect(thrown(() => loadKubeconfig({ env: env(a) })).message).toContain('use --context');
  });

  it('a context naming an undefined cluster or user is an error', () => {
    const a = write('ctx/broken', {
      clusters: [['c', { server: 'https://a.example' }]],
      contexts: [
        ['no-cluster', { cluster: 'missing' }],
        ['no-user', { cluster: 'c', user: 'ghost' }],
      ],
    });
    expect(thrown(() => loadKubeconfig({ env: env(a), context: 'no-cluster' })).message).toContain('cluster "missing"');
    expect(thrown(() => loadKubeconfig({ env: env(a), context: 'no-user' })).message).toContain('user "ghost"');
  });

  it('namespace: -n, else the context namespace, else default', () => {
    const a = write('ns/a', {
      clusters: [['c', { server: 'https://a.example' }]],
      contexts: [
        ['with', { cluster: 'c', namespace: 'team-x' }],
        ['without', { cluster: 'c' }],
      ],
      current: 'with',
    });
    expect(loadKubeconfig({ env: env(a) }).namespace).toBe('team-x');
    expect(loadKubeconfig({ env: env(a), namespace: 'flag-ns' }).namespace).toBe('flag-ns');
    expect(loadKubeconfig({ env: env(a), context: 'without' }).namespace).toBe('default');
  });

  it('an http server works without insecure-skip-tls-verify (kubectl accepts it)', () => {
    const a = write('http/a', { clusters: [['c', { server: 'http://127.0.0.1:8080/' }]], contexts: [['x', { cluster: 'c' }]], current: 'x' });
    const loaded = loadKubeconfig({ env: env(a) });
    expect(loaded.server).toBe('http://127.0.0.1:8080');
    expect(kubeConfigOf(loaded).getCurrentCluster()?.skipTLSVerify).toBe(true);
  });

  it('a file that is not YAML is an error naming it', () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'clusters: [unclosed\n');
    const err = thrown(() => loadKubeconfig({ kubeconfig: file, env: {} }));
    expect(err.code).toBe('INVALID_INPUT');
    expect(err.message).toContain('bad.yaml');
  });
});

describe('proxy from the environment', () => {
  const url = new URL('https://api.example.com:6443');
  it('uses HTTPS_PROXY unless NO_PROXY matches', () => {
    expect(proxyFromEnv(url, { HTTPS_PROXY: 'proxy:3128' })).toBe('http://proxy:3128');
    expect(proxyFromEnv(url, { https_proxy: 'http://lower:1', HTTPS_PROXY: 'http://upper:2' })).toBe('http://lower:1');
    expect(proxyFromEnv(url, { HTTPS_PROXY: 'http://p:1', NO_PROXY: 'example.com' })).toBeUndefined();
    expect(proxyFromEnv(url, { HTTPS_PROXY: 'http://p:1', NO_PROXY: '.example.com' })).toBeUndefined();
    expect(proxyFromEnv(url, { HTTPS_PROXY: 'http://p:1', NO_PROXY: 'other.com,*' })).toBeUndefined();
    expect(proxyFromEnv(url, { HTTPS_PROXY: 'http://p:1', NO_PROXY: 'api.example.com:443' })).toBe('http://p:1');
    expect(proxyFromEnv(new URL('https://127.0.0.1:6443'), { HTTPS_PROXY: 'http://p:1' })).toBeUndefined();
  });
});
