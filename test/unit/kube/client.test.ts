// KubeClient against a scripted fake API server (plain HTTP): request shapes, pagination, error
// mapping. The real API server is in test/integration/kube.test.ts.
import { createServer } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { findEngine } from '../../../src/engines/index.ts';
import { isPolicyOciError, PolicyOciError } from '../../../src/errors.ts';
import { KubeClient } from '../../../src/kube/client.ts';
import type { KindRef } from '../../../src/kube/client.ts';

const TOKEN = 'sekret-token-abc123';
interface Seen {
  method: string;
  url: URL;
  headers: IncomingMessage['headers'];
  body: string;
}
type Handler = (req: Seen) => { status: number; body?: unknown; headers?: Record<string, string> };

let server: Server;
let dir: string;
let kubeconfig: string;
let handler: Handler;
let seen: Seen[];
const warnings: string[] = [];

const cpol: KindRef = { group: 'kyverno.io', version: 'v1', kind: 'ClusterPolicy', plural: 'clusterpolicies', namespaced: false };
const kpol: KindRef = { group: 'security.kubearmor.com', version: 'v1', kind: 'KubeArmorPolicy', plural: 'kubearmorpolicies', namespaced: true };

function client(): KubeClient {
  return KubeClient.fromKubeconfig({ kubeconfig, env: {}, onWarning: (w) => warnings.push(w), requestTimeoutMs: 5000 });
}

async function failure(p: Promise<unknown>): Promise<PolicyOciError> {
  try {
    await p;
  } catch (err) {
    if (isPolicyOciError(err)) return err;
    throw err;
  }
  throw new Error('did not fail');
}

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const s: Seen = { method: req.method!, url: new URL(req.url!, 'http://x'), headers: req.headers, body };
      seen.push(s);
      const out = req.headers.authorization === `Bearer ${TOKEN}` ? handler(s) : { status: 401, body: { kind: 'Status', code: 401, reason: 'Unauthorized', message: 'Unauthorized' } };
      res.writeHead(out.status, { 'content-type': 'application/json', ...out.headers });
      res.end(out.body === undefined ? '' : JSON.stringify(out.body));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  dir = mkdtempSync(join(tmpdir(), 'kube-client-'));
  kubeconfig = join(dir, 'config');
  writeFileSync(
    kubeconfig,
    stringify({
      clusters: [{ name: 'fake', cluster: { server: `http://127.0.0.1:${port}` } }],
      users: [{ name: 'u', user: { token: TOKEN } }],
      contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'u', namespace: 'ctx-ns' } }],
      'current-context': 'fake',
    }),
  );
});
afterAll(() => {
  server.close();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  seen = [];
  warnings.length = 0;
});

const status = (code: number, reason: string, message: string, details?: unknown) => ({ status: code, body: { kind: 'Status', status: 'Failure', code, reason, message, ...(details ? { details } : {}) } });

describe('list', () => {
  it('follows continue tokens and sets apiVersion/kind on every item', async () => {
    handler = (req) => {
      const page = req.url.searchParams.get('continue') ?? '0';
      const next = { '0': 'one', one: 'two', two: '' }[page]!;
      return { status: 200, body: { kind: 'ClusterPolicyList', metadata: { continue: next }, items: [{ metadata: { name: `p-${page}` }, spec: { x: 1 } }] } };
    };
    const items = await client().list(cpol, { labelSelector: 'a=b' });
    expect(items.map((i) => i.metadata.name)).toEqual(['p-0', 'p-one', 'p-two']);
    expect(items.every((i) => i.apiVersion === 'kyverno.io/v1' && i.kind === 'ClusterPolicy')).toBe(true);
    expect(seen[0]!.url.pathname).toBe('/apis/kyverno.io/v1/clusterpolicies');
    expect(seen[0]!.url.searchParams.get('limit')).toBe('500');
    expect(seen[0]!.url.searchParams.get('labelSelector')).toBe('a=b');
  });

  it('starts over when the continue token expired (410 Gone)', async () => {
    let expired = false;
    handler = (req) => {
      const page = req.url.searchParams.get('continue');
      if (page === 'stale' && !expired) {
        expired = true;
        return status(410, 'Expired', 'The provided continue parameter is too old');
      }
      return page ? { status: 200, body: { metadata: {}, items: [{ metadata: { name: 'b' } }] } } : { status: 200, body: { metadata: { continue: 'stale' }, items: [{ metadata: { name: 'a' } }] } };
    };
    const items = await client().list(kpol, { namespace: 'team-a' });
    expect(items.map((i) => i.metadata.name)).toEqual(['a', 'b']);
    expect(seen.map((s) => s.url.searchParams.get('continue'))).toEqual([null, 'stale', null, 'stale']);
    expect(seen[0]!.url.pathname).toBe('/apis/security.kubearmor.com/v1/namespaces/team-a/kubearmorpolicies');
  });

  it('maps 403, 404 (kind not served) and 401, never showing the token', async () => {
    handler = () => status(403, 'Forbidden', 'clusterpolicies.kyverno.io is forbidden: User "restricted" cannot list resource');
    const denied = await failure(client().list(cpol));
    expect(denied.code).toBe('DENIED');
    expect(denied.message).toContain('list ClusterPolicy.kyverno.io');
    handler = () => status(404, 'NotFound', 'the server could not find the requested resource', {});
    const unserved = await failure(client().list(kpol, { namespace: 'x' }));
    expect(unserved.code).toBe('CLUSTER');
    expect(unserved.message).toMatch(/does not serve KubeArmorPolicy\.security\.kubearmor\.com: install KubeArmor/);
    const bad = KubeClient.fromKubeconfig({ kubeconfig, env: {} });
    (bad as unknown as { transport: { kubeConfigOptions: { users: Array<{ token: string }> } } }).transport.kubeConfigOptions.users[0]!.token = 'wrong-token-xyz';
    const unauthorized = await failure(bad.list(cpol));
    expect(unauthorized.code).toBe('UNAUTHORIZED');
    for (const e of [denied, unserved, unauthorized]) expect(JSON.stringify([e.message, e.details])).not.toMatch(/sekret|wrong-token/);
  });
});

describe('get, apply, delete', () => {
  it('get: undefined for a missing object, the object otherwise; namespace from the context', async () => {
    handler = (req) =>
      req.url.pathname.endsWith('/gone')
        ? status(404, 'NotFound', 'kubearmorpolicies "gone" not found', { name: 'gone', kind: 'kubearmorpolicies' })
        : { status: 200, body: { apiVersion: 'security.kubearmor.com/v1', kind: 'KubeArmorPolicy', metadata: { name: 'here', namespace: 'ctx-ns' } } };
    const c = client();
    expect(await c.get(kpol, 'gone')).toBeUndefined();
    expect((await c.get(kpol, 'here'))?.metadata.name).toBe('here');
    expect(seen.map((s) => s.url.pathname)).toEqual([
      '/apis/security.kubearmor.com/v1/namespaces/ctx-ns/kubearmorpolicies/gone',
      '/apis/security.kubearmor.com/v1/namespaces/ctx-ns/kubearmorpolicies/here',
    ]);
  });

  it('apply is a server-side apply PATCH with field manager, force, dry run and strict validation', async () => {
    handler = (req) => ({ status: 200, body: JSON.parse(req.body), headers: { warning: '299 - "kyverno.io/v2beta1 ClusterPolicy is deprecated"' } });
    const obj = { apiVersion: 'kyverno.io/v1', kind: 'ClusterPolicy', metadata: { name: 'p', namespace: 'ignored' }, spec: { rules: [] } };
    const out = await client().apply(obj, { force: true, dryRun: 'server' });
    const req = seen[0]!;
    expect(req.method).toBe('PATCH');
    expect(req.url.pathname).toBe('/apis/kyverno.io/v1/clusterpolicies/p');
    expect(req.headers['content-type']).toBe('application/apply-patch+yaml');
    expect(Object.fromEntries(req.url.searchParams)).toEqual({ fieldManager: 'kubectl-policyoci', force: 'true', dryRun: 'All', fieldValidation: 'Strict' });
    expect(JSON.parse(req.body).metadata).toEqual({ name: 'p' }); // cluster-scoped: no namespace sent
    expect(out.metadata.name).toBe('p');
    expect(warnings).toEqual(['kyverno.io/v2beta1 ClusterPolicy is deprecated']);
  });

  it('apply refuses anything that is not a policy kind, without a request', async () => {
    const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, data: {} };
    const crb = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'x' } };
    for (const obj of [secret, crb]) expect((await failure(client().apply(obj))).message).toMatch(/^refused/);
    expect(seen).toHaveLength(0);
  });

  it('apply maps conflicts (managers named) and invalid objects (causes listed)', async () => {
    handler = () =>
      status(409, 'Conflict', 'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using kyverno.io/v1: .spec.background', {
        causes: [{ reason: 'FieldManagerConflict', message: 'conflict with "kubectl-client-side-apply" using kyverno.io/v1', field: '.spec.background' }],
      });
    const obj = { apiVersion: 'kyverno.io/v1', kind: 'ClusterPolicy', metadata: { name: 'p' }, spec: {} };
    const conflict = await failure(client().apply(obj));
    expect(conflict.code).toBe('CLUSTER');
    expect(conflict.message).toContain('"kubectl-client-side-apply"');
    expect(conflict.message).toContain('--force-conflicts');
    expect(conflict.details).toEqual(['.spec.background: conflict with "kubectl-client-side-apply" using kyverno.io/v1']);
    handler = () =>
      status(422, 'Invalid', 'ClusterPolicy.kyverno.io "p" is invalid: spec.rules: Required value', { causes: [{ reason: 'FieldValueRequired', message: 'Required value', field: 'spec.rules' }] });
    const invalid = await failure(client().apply(obj));
    expect(invalid.code).toBe('INVALID_POLICY');
    expect(invalid.details).toEqual(['spec.rules: Required value']);
  });

  it('delete: false when already gone, dry run passed on', async () => {
    handler = (req) => (req.url.pathname.endsWith('/gone') ? status(404, 'NotFound', 'not found', { name: 'gone' }) : { status: 200, body: {} });
    const c = client();
    expect(await c.delete(cpol, 'gone')).toBe(false);
    expect(await c.delete(cpol, 'p', undefined, { dryRun: 'server' })).toBe(true);
    expect(seen[1]!.url.searchParams.get('dryRun')).toBe('All');
  });
});

describe('discovery, namespaces, access', () => {
  it('reads aggregated discovery: storage version preferred, else the first declared served version', async () => {
    handler = () => ({
      status: 200,
      headers: { 'content-type': 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList' },
      body: {
        kind: 'APIGroupDiscoveryList',
        items: [
          {
            metadata: { name: 'kyverno.io' },
            versions: [
              { version: 'v2beta1', resources: [{ resource: 'clusterpolicies', scope: 'Cluster', responseKind: { kind: 'ClusterPolicy' } }] },
              { version: 'v1', resources: [{ resource: 'clusterpolicies', scope: 'Cluster', responseKind: { kind: 'ClusterPolicy' } }] },
              { version: 'v2', resources: [{ resource: 'policyexceptions', scope: 'Namespaced', responseKind: { kind: 'PolicyException' } }] },
            ],
          },
        ],
      },
    });
    const found = await client().discoverPolicyKinds([findEngine('kyverno')!]);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.headers.accept).toContain('as=APIGroupDiscoveryList');
    const by = (kind: string, group = 'kyverno.io') => found.find((d) => d.kind.kind === kind && d.kind.group === group)!;
    expect(by('ClusterPolicy').ref).toEqual({ group: 'kyverno.io', version: 'v1', kind: 'ClusterPolicy', plural: 'clusterpolicies', namespaced: false });
    expect(by('ClusterPolicy').servedVersions.sort()).toEqual(['v1', 'v2beta1']);
    expect(by('PolicyException').ref?.version).toBe('v2');
    expect(by('Policy').ref).toBeUndefined();
    expect(by('ValidatingPolicy', 'policies.kyverno.io').servedVersions).toEqual([]);
  });

  it('falls back to classic discovery on servers without aggregated discovery', async () => {
    handler = (req) => {
      if (req.url.pathname === '/apis') return { status: 200, body: { kind: 'APIGroupList', groups: [{ name: 'security.kubearmor.com', versions: [{ groupVersion: 'security.kubearmor.com/v1', version: 'v1' }] }, { name: 'apps', versions: [{ version: 'v1' }] }] } };
      return { status: 200, body: { kind: 'APIResourceList', resources: [{ name: 'kubearmorpolicies', kind: 'KubeArmorPolicy', namespaced: true }, { name: 'kubearmorpolicies/status', kind: 'KubeArmorPolicy', namespaced: true }] } };
    };
    const found = await client().discoverPolicyKinds([findEngine('kubearmor')!]);
    expect(seen.map((s) => s.url.pathname)).toEqual(['/apis', '/apis/security.kubearmor.com/v1']);
    expect(found.find((d) => d.kind.kind === 'KubeArmorPolicy')!.ref?.plural).toBe('kubearmorpolicies');
    expect(found.find((d) => d.kind.kind === 'KubeArmorHostPolicy')!.ref).toBeUndefined();
  });

  it('ensureNamespace and canI', async () => {
    handler = (req) => {
      if (req.method === 'GET') return req.url.pathname.endsWith('/there') ? { status: 200, body: {} } : status(404, 'NotFound', 'namespaces "x" not found', { name: 'x', kind: 'namespaces' });
      if (req.url.pathname.endsWith('selfsubjectaccessreviews')) return { status: 201, body: { status: { allowed: JSON.parse(req.body).spec.resourceAttributes.verb === 'list' } } };
      return { status: 201, body: {} };
    };
    const c = client();
    expect(await c.ensureNamespace('there', false)).toBe('exists');
    expect(await c.ensureNamespace('new', false)).toBe('missing');
    expect(await c.ensureNamespace('new', true)).toBe('created');
    expect(JSON.parse(seen.at(-1)!.body)).toEqual({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'new' } });
    expect(await c.canI('list', 'kyverno.io', 'clusterpolicies')).toBe(true);
    expect(await c.canI('delete', 'kyverno.io', 'clusterpolicies', 'ns')).toBe(false);
  });

  it('a server that does not answer is a CLUSTER error naming it', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as { port: number }).port;
    await new Promise((r) => closed.close(r));
    const file = join(dir, 'refused');
    writeFileSync(file, stringify({ clusters: [{ name: 'c', cluster: { server: `http://127.0.0.1:${port}` } }], contexts: [{ name: 'c', context: { cluster: 'c' } }], 'current-context': 'c' }));
    const err = await failure(KubeClient.fromKubeconfig({ kubeconfig: file, env: {} }).serverVersion());
    expect(err.code).toBe('CLUSTER');
    expect(err.message).toContain(`http://127.0.0.1:${port}`);
    expect(err.message).toContain('ECONNREFUSED');
  });
});
