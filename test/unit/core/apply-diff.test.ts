// applyArtifact and diff read their policies through the same source (signatures checked with a
// key) before any cluster is contacted; a client dry run contacts none at all. Real OCI layouts, a
// real cosign-format signature, and a kubeconfig whose "API server" is a local socket that records
// every connection made to it.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packPolicies } from '../../../src/artifact/pack.ts';
import { publish } from '../../../src/artifact/publish.ts';
import { OciLayout } from '../../../src/content/layout.ts';
import { applyArtifact, type ApplyArtifactOptions } from '../../../src/core/apply.ts';
import { diff } from '../../../src/core/diff.ts';
import type { Reporter } from '../../../src/core/reporter.ts';
import { loadEngines } from '../../../src/engines/index.ts';
import { PolicyOciError } from '../../../src/errors.ts';
import { ReferrersClient } from '../../../src/referrers/client.ts';
import { signManifest } from '../../../src/signing/cosign.ts';
import type { PolicyDocument } from '../../../src/policy/types.ts';

let work: string;
let server: Server;
let connections = 0;
let kubeconfig: string;
let signedRef: string;
let unsignedRef: string;
let pub: string;

const doc = (apiVersion: string, kind: string, name: string, namespace?: string): PolicyDocument => ({
  object: { apiVersion, kind, metadata: { name, ...(namespace ? { namespace } : {}) }, spec: kind === 'ClusterPolicy' ? { rules: [] } : {} },
  engine: apiVersion.startsWith('kyverno') ? 'kyverno' : 'kubearmor',
  source: { file: `${name}.yaml`, index: 0 },
});

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'core-apply-'));
  server = createServer((socket) => {
    connections++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  kubeconfig = join(work, 'kubeconfig');
  await writeFile(
    kubeconfig,
    `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:${port}"}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: recorder, context: {cluster: c, user: u, namespace: ctx-ns}}]\ncurrent-context: recorder\n`,
  );
  const layout = new OciLayout(join(work, 'layout'));
  const packed = packPolicies(
    [doc('kyverno.io/v1', 'ClusterPolicy', 'require-labels'), doc('kyverno.io/v1', 'Policy', 'team-policy'), doc('security.kubearmor.com/v1', 'KubeArmorPolicy', 'ksp', 'apps')],
    loadEngines(),
    { bundle: false, annotations: {} },
  );
  const signed = await publish(layout, packed, ['signed']);
  await publish(layout, packPolicies([doc('kyverno.io/v1', 'ClusterPolicy', 'other')], loadEngines(), { bundle: false, annotations: {} }), ['unsigned']);
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  pub = join(work, 'ec.pub');
  await writeFile(pub, publicKey.export({ format: 'pem', type: 'spki' }));
  await signManifest(layout, { mediaType: signed.mediaType, digest: signed.digest, size: signed.size }, privateKey, new ReferrersClient(layout), { dockerReference: 'layout' });
  signedRef = `${layout.dir}:signed`;
  unsignedRef = `${layout.dir}:unsigned`;
});
afterAll(async () => new Promise<void>((resolve) => server.close(() => resolve())));

const base = (reference: string, extra: Partial<ApplyArtifactOptions> = {}): ApplyArtifactOptions => ({
  reference,
  store: { ociLayout: true },
  kube: { kubeconfig },
  createNamespace: false,
  dryRun: 'none',
  forceConflicts: false,
  prune: false,
  ...extra,
});

function recording(): Reporter & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, warn: (m) => warnings.push(m), progress: () => undefined };
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return err instanceof PolicyOciError ? err.code : String(err);
  }
  return 'resolved';
}

describe('apply --dry-run=client', () => {
  it('reads and checks the artifact, lists what would be sent, and contacts no cluster', async () => {
    const before = connections;
    const reporter = recording();
    const s = await applyArtifact(base(signedRef, { dryRun: 'client', verifyKeyPath: pub, namespace: 'team-a', prune: true }), reporter);
    expect(connections).toBe(before);
    expect(s).toMatchObject({ context: 'recorder', dryRun: true, dryRunStrategy: 'client', verified: true, failed: false });
    expect(s.results.map((r) => `${r.kind}/${r.namespace ?? ''}/${r.name}=${r.action}`)).toEqual([
      'KubeArmorPolicy/team-a/ksp=would-apply',
      'ClusterPolicy//require-labels=would-apply',
      'Policy/team-a/team-policy=would-apply',
    ]);
    expect(s.counts['would-apply']).toBe(3);
    expect(reporter.warnings).toEqual([expect.stringMatching(/--prune: .*client dry run does not contact/)]);
    expect(s.warnings).toEqual(reporter.warnings);
  });

  it('without -n a namespace-less policy goes to the context\'s namespace (read from the kubeconfig only)', async () => {
    const s = await applyArtifact(base(signedRef, { dryRun: 'client' }));
    expect(s.results.find((r) => r.name === 'team-policy')?.namespace).toBe('ctx-ns');
    expect(s.results.find((r) => r.name === 'ksp')?.namespace).toBe('apps');
  });

  it('a server dry run does contact the cluster (so the recorder above would have seen a client one)', async () => {
    const before = connections;
    expect(await codeOf(applyArtifact(base(signedRef, { dryRun: 'server' })))).toBe('CLUSTER');
    expect(connections).toBeGreaterThan(before);
  });
});

describe('--verify-key is checked before the cluster is contacted', () => {
  it('apply and diff refuse an unsigned artifact (UNSAFE_CONTENT) without a connection', async () => {
    const before = connections;
    expect(await codeOf(applyArtifact(base(unsignedRef, { verifyKeyPath: pub })))).toBe('UNSAFE_CONTENT');
    expect(await codeOf(diff({ ...base(unsignedRef, { verifyKeyPath: pub }), forceConflicts: false, prune: false }))).toBe('UNSAFE_CONTENT');
    expect(connections).toBe(before);
  });

  it('diff of a signed artifact gets past the check, then needs the cluster', async () => {
    const before = connections;
    expect(await codeOf(diff({ ...base(signedRef, { verifyKeyPath: pub }), forceConflicts: false, prune: false }))).toBe('CLUSTER');
    expect(connections).toBeGreaterThan(before);
  });
});
