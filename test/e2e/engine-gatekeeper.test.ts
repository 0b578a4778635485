// The gatekeeper engine through the executable: the gatekeeper-library corpus (49 ConstraintTemplates,
// their 69 sample constraints, the mutators) through a real registry (push, inspect, pull, copy,
// sign, verify) and through two real API servers, each with the real Gatekeeper controller
// (test/support/gatekeeper.ts), which creates each constraint kind from its template: apply to A
// (templates, then — once the controller has made their kinds — mutators and constraints), diff,
// export, migrate to B, export again: the same objects. Reading and validation rules:
// test/unit/engines/gatekeeper.test.ts.
import { generateKeyPairSync } from 'node:crypto';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadPolicies } from '../../src/policy/load.ts';
import type { KubeObject } from '../../src/policy/types.ts';
import { CORPUS, runCli, runOk } from '../support/cli.ts';
import { clusterAgent, kubeRequest, mergedKubeconfig, startCluster, type RunningCluster } from '../support/cluster.ts';
import { startGatekeeper, type RunningGatekeeper } from '../support/gatekeeper.ts';
import { startRegistry, type RunningRegistry } from '../support/registry.ts';
import { runTool } from '../support/tools.ts';

const LIBRARY = join(CORPUS, 'others', 'gatekeeper-library');
/** The one library file the API server refuses: an Assign named "k8spspfsGroup" (not DNS-1123). */
const REFUSED = 'mutation/pod-security-policy/users/samples/mutation-fsGroup.yaml';

let reg: RunningRegistry;
let a: RunningCluster;
let b: RunningCluster;
const controllers: RunningGatekeeper[] = [];
let work: string;
let kubeconfig: string;
/** The library without the refused file and without the samples that repeat a constraint's name. */
let library: string;
let originals: KubeObject[];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'engine-gatekeeper-'));
  library = join(work, 'library');
  await cp(LIBRARY, library, { recursive: true });
  await rm(join(library, REFUSED));
  // Some samples share a constraint's name (two variants of one example): keep the first of each.
  const docs = await loadPolicies([library], { validate: true });
  const seen = new Set<string>();
  for (const d of docs) {
    const key = `${d.object.kind}/${d.object.metadata.name}`;
    if (seen.has(key)) await rm(d.source.file);
    seen.add(key);
  }
  originals = await objectsIn(library);
  [reg, a, b] = await Promise.all([startRegistry('open'), startCluster('gk-a', { installCrds: false }), startCluster('gk-b', { installCrds: false })]);
  controllers.push(...(await Promise.all([startGatekeeper(a), startGatekeeper(b)])));
  kubeconfig = mergedKubeconfig([a, b], work);
}, 300_000);
afterAll(async () => {
  await Promise.all(controllers.map((c) => c.stop()));
  await Promise.all([reg?.stop(), a?.stop(), b?.stop()]);
});

const inA = (args: string[]) => [...args, '--kubeconfig', kubeconfig, '--context', 'gk-a'];
const inB = (args: string[]) => [...args, '--kubeconfig', kubeconfig, '--context', 'gk-b'];
const isConstraint = (o: { apiVersion: string }) => o.apiVersion.startsWith('constraints.gatekeeper.sh/');

async function objectsIn(...paths: string[]): Promise<KubeObject[]> {
  const docs = await loadPolicies(paths, { validate: true });
  return docs.map((d) => d.object).sort((x, y) => `${x.kind}/${x.metadata.name}`.localeCompare(`${y.kind}/${y.metadata.name}`));
}

/** Every field of `want` is in `got` with the same value (the server adds only defaults). */
function contains(got: unknown, want: unknown): boolean {
  if (Array.isArray(want)) return Array.isArray(got) && got.length === want.length && want.every((w, i) => contains(got[i], w));
  if (want !== null && typeof want === 'object') {
    return got !== null && typeof got === 'object' && Object.entries(want).every(([k, v]) => contains((got as Record<string, unknown>)[k], v));
  }
  return got === want;
}

describe('the gatekeeper-library through a registry', () => {
  it('push, inspect, pull (the same objects), an oras directory, copy (the same digest), sign and verify', async () => {
    expect(originals.filter((o) => o.kind === 'ConstraintTemplate')).toHaveLength(49);
    expect(originals.filter(isConstraint).length).toBeGreaterThan(60);
    const ref = `${reg.host}/gatekeeper-library:v1`;
    const pushed = JSON.parse((await runOk(['push', ref, library, '--format', 'json'])).stdout);
    expect(pushed.warnings).toEqual([]); // every constraint was checked against its template

    const inspected = (await runOk(['inspect', ref, '--format', 'json'])).stdout;
    expect(inspected).toContain('application/vnd.policyoci.gatekeeper.config.v1+json');
    expect(inspected).toContain('application/vnd.policyoci.gatekeeper.policy.layer.v1+yaml');

    const pulled = join(work, 'pulled');
    await runOk(['pull', ref, '-o', pulled]);
    expect(await objectsIn(pulled)).toEqual(originals);

    // one tar+gzip layer for the engine: the same objects again
    const bundled = `${reg.host}/gatekeeper-library:bundle`;
    await runOk(['push', bundled, library, '--bundle']);
    expect((await runOk(['inspect', bundled])).stdout).toContain('application/vnd.policyoci.gatekeeper.policy.layer.v1.tar+gzip');
    const pulledBundle = join(work, 'pulled-bundle');
    await runOk(['pull', bundled, '-o', pulledBundle]);
    expect(await objectsIn(pulledBundle)).toEqual(originals);

    const copied = JSON.parse((await runOk(['copy', ref, '--to-oci-layout', `${join(work, 'layout')}:v1`, '--format', 'json'])).stdout);
    expect(copied.digest).toBe(pushed.digest);

    // a plain oras artifact of the library's directory (one tar+gzip layer): read as Gatekeeper policies
    runTool('oras', ['push', '--plain-http', `${reg.host}/oras-gatekeeper:v1`, 'library/general/requiredlabels'], { cwd: library });
    const fromOras = join(work, 'from-oras');
    await runOk(['pull', `${reg.host}/oras-gatekeeper:v1`, '-o', fromOras]);
    expect((await objectsIn(fromOras)).map((o) => o.kind)).toEqual(['ConstraintTemplate', 'K8sRequiredLabels', 'K8sRequiredLabels']);

    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const key = join(work, 'ec.key');
    const pub = join(work, 'ec.pub');
    await writeFile(key, privateKey.export({ format: 'pem', type: 'sec1' }));
    await writeFile(pub, publicKey.export({ format: 'pem', type: 'spki' }));
    await runOk(['sign', ref, '--key', key]);
    await runOk(['verify', ref, '--key', pub]);
    const verifiedPull = join(work, 'verified');
    await runOk(['pull', ref, '-o', verifiedPull, '--verify-key', pub]);
    expect(await objectsIn(verifiedPull)).toEqual(originals);
  }, 120_000);

  it('refuses a constraint whose parameters its template does not allow, and the refused corpus file', async () => {
    const dir = join(work, 'bad');
    await cp(join(LIBRARY, 'library', 'general', 'requiredlabels', 'template.yaml'), join(dir, 'template.yaml'));
    const constraint = {
      apiVersion: 'constraints.gatekeeper.sh/v1beta1',
      kind: 'K8sRequiredLabels',
      metadata: { name: 'bad-labels' },
      spec: { match: { kinds: [{ apiGroups: [''], kinds: ['Namespace'] }] }, parameters: { labels: 'owner' } },
    };
    await writeFile(join(dir, 'constraint.yaml'), stringify(constraint));
    const r = await runCli(['push', `${reg.host}/bad:v1`, dir]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/constraint\.yaml:1: K8sRequiredLabels bad-labels: spec\.parameters\.labels.* \(schema from ConstraintTemplate k8srequiredlabels\)/);
    const refused = await runCli(['push', `${reg.host}/bad:v2`, join(LIBRARY, REFUSED)]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('"k8spspfsGroup" must be a DNS-1123 subdomain');
  }, 60_000);
});

describe('the gatekeeper-library through two clusters with the Gatekeeper controller', () => {
  it('apply to A (templates, then their constraints once served), diff, export, migrate to B, export again', async () => {
    const ref = `${reg.host}/gatekeeper-library:v1`;
    await runOk(['push', ref, library]);

    // before: everything would be created; constraints of kinds not served yet are not checked
    const before = await runCli(inA(['diff', ref, '--format', 'json']));
    expect(before.code, before.stderr).toBe(1);
    const planned = JSON.parse(before.stdout).results as Array<{ kind: string; apiVersion: string; change: string; note?: string }>;
    expect(planned.filter((r) => r.change !== 'create')).toEqual([]);
    expect(planned.filter(isConstraint).every((r) => r.note?.includes('is not served yet'))).toBe(true);

    // a server dry run creates no template, so it cannot check their constraints: it says so
    const dry = JSON.parse((await runOk(inA(['apply', ref, '--dry-run=server', '--format', 'json']))).stdout);
    const dryConstraints = (dry.results as Array<{ apiVersion: string; action: string; note?: string }>).filter(isConstraint);
    expect(dryConstraints.length).toBeGreaterThan(60);
    expect(dryConstraints.every((r) => r.action === 'created' && r.note?.includes('which a dry run does not create'))).toBe(true);

    const applied = JSON.parse((await runOk(inA(['apply', ref, '--format', 'json']))).stdout);
    const results = applied.results as Array<{ kind: string; apiVersion: string; action: string; error?: string }>;
    expect(results.filter((r) => r.action !== 'created')).toEqual([]);
    expect(results).toHaveLength(originals.length);
    const kinds = results.map((r) => r.kind);
    const lastTemplate = kinds.lastIndexOf('ConstraintTemplate');
    expect(results.findIndex(isConstraint)).toBeGreaterThan(lastTemplate);
    expect(kinds.indexOf('Assign')).toBeGreaterThan(lastTemplate);

    const after = await runCli(inA(['diff', ref]));
    expect(after.code, after.stdout + after.stderr).toBe(0);

    // export from A: each original, plus only what the server defaults; no status
    const exportA = join(work, 'export-a');
    const exported = JSON.parse((await runOk(inA(['export', '--output-dir', exportA, '--engine', 'gatekeeper', '--format', 'json']))).stdout);
    expect(exported.skipped ?? []).toEqual([]);
    const fromA = await objectsIn(exportA);
    expect(fromA.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(originals.map((o) => `${o.kind}/${o.metadata.name}`));
    for (const [i, o] of originals.entries()) expect(contains(fromA[i], o), `${o.kind} ${o.metadata.name}`).toBe(true);
    expect(fromA.filter((o) => o.status !== undefined)).toEqual([]);

    // migrate to B, export again: identical; then B holds nothing the diff would change
    const migrated = JSON.parse((await runOk(['migrate', '--kubeconfig', kubeconfig, '--from-context', 'gk-a', '--to-context', 'gk-b', '--engine', 'gatekeeper', '--format', 'json'])).stdout);
    expect(migrated.failed).toBe(false);
    expect(migrated.counts).toMatchObject({ created: originals.length, failed: 0 });
    const exportB = join(work, 'export-b');
    await runOk(inB(['export', '--output-dir', exportB, '--engine', 'gatekeeper']));
    expect(await objectsIn(exportB)).toEqual(fromA);
    const inB2 = await runCli(inB(['diff', ref]));
    expect(inB2.code, inB2.stdout + inB2.stderr).toBe(0);
  }, 300_000);

  it('fails a constraint whose kind nothing defines, naming the kind; --prune removes a constraint left out', async () => {
    const dir = join(work, 'orphan');
    const orphan = { apiVersion: 'constraints.gatekeeper.sh/v1beta1', kind: 'K8sNoSuchTemplate', metadata: { name: 'orphan' }, spec: {} };
    await cp(join(LIBRARY, 'library', 'general', 'requiredlabels'), join(dir, 'requiredlabels'), { recursive: true });
    await writeFile(join(dir, 'orphan.yaml'), stringify(orphan));
    await runOk(['push', '--oci-layout', `${join(work, 'orphan-layout')}:v1`, dir]);
    const failed = await runCli(inB(['apply', '--oci-layout', `${join(work, 'orphan-layout')}:v1`, '--prune', '--format', 'json']));
    expect(failed.code).not.toBe(0);
    const rows = JSON.parse(failed.stdout).results as Array<{ kind: string; action: string; error?: string }>;
    expect(rows.find((x) => x.kind === 'K8sNoSuchTemplate')).toMatchObject({
      action: 'failed',
      error: expect.stringContaining('does not serve K8sNoSuchTemplate.constraints.gatekeeper.sh'),
    });
    expect(rows.filter((x) => x.kind !== 'K8sNoSuchTemplate').every((x) => x.action === 'unchanged' || x.action === 'configured')).toBe(true);

    // without the orphan, a prune of that source removes nothing it did not apply
    await rm(join(dir, 'orphan.yaml'));
    await rm(join(dir, 'requiredlabels', 'samples', 'all-must-have-owner'), { recursive: true });
    await runOk(['push', '--oci-layout', `${join(work, 'orphan-layout')}:v2`, dir]);
    const pruned = JSON.parse((await runOk(inB(['apply', '--oci-layout', `${join(work, 'orphan-layout')}:v2`, '--prune', '--format', 'json']))).stdout);
    const prunedRows = (pruned.results as Array<{ kind: string; name: string; action: string }>).filter((x) => x.action === 'pruned');
    expect(prunedRows.map((x) => `${x.kind}/${x.name}`)).toEqual(['K8sRequiredLabels/all-must-have-owner']);
  }, 180_000);

  it('export reports a kind a template defines but the cluster does not serve (the controller refused the template)', async () => {
    const dir = join(work, 'broken');
    const broken = {
      apiVersion: 'templates.gatekeeper.sh/v1',
      kind: 'ConstraintTemplate',
      metadata: { name: 'k8sbroken' },
      spec: {
        crd: { spec: { names: { kind: 'K8sBroken' } } },
        targets: [{ target: 'admission.k8s.gatekeeper.sh', rego: 'package k8sbroken\nviolation[{"msg": msg}] { msg := }\n' }],
      },
    };
    await cp(join(LIBRARY, 'library', 'general', 'requiredlabels', 'template.yaml'), join(dir, 'template.yaml'));
    await writeFile(join(dir, 'broken.yaml'), stringify(broken));
    await runOk(['push', '--oci-layout', `${join(work, 'broken-layout')}:v1`, dir]);
    await runOk(inB(['apply', '--oci-layout', `${join(work, 'broken-layout')}:v1`]));
    // the controller reports why it made no kind for it (its Rego does not compile)
    const agent = clusterAgent(b);
    try {
      await expect
        .poll(async () => {
          const r = await kubeRequest(b.server, '/apis/templates.gatekeeper.sh/v1/constrainttemplates/k8sbroken', { token: b.adminToken, dispatcher: agent });
          return JSON.stringify((r.json as { status?: unknown }).status ?? {});
        }, { timeout: 30_000, interval: 200 })
        .toMatch(/"errors":\[\{/);
    } finally {
      await agent.close();
    }
    const out = await runOk(inB(['export', '--output-dir', join(work, 'export-broken'), '--engine', 'gatekeeper', '--format', 'json']));
    const skipped = JSON.parse(out.stdout).skipped as Array<{ kind: string; cause: string; reason: string }>;
    expect(skipped).toEqual([
      { kind: 'K8sBroken.constraints.gatekeeper.sh', cause: 'not-served', reason: expect.stringContaining("defined by ConstraintTemplate k8sbroken but not served by the cluster: is Gatekeeper's controller running?") },
    ]);
    expect(out.stderr).toContain('not exported: K8sBroken.constraints.gatekeeper.sh');
  }, 60_000);

  it('export leaves out the ValidatingAdmissionPolicy the controller makes from a template (generateVAP), and says so', async () => {
    const dir = join(work, 'vap');
    const text = (await readFile(join(LIBRARY, 'library', 'general', 'requiredlabels', 'template.yaml'), 'utf8'))
      .replaceAll('k8srequiredlabels', 'k8srequiredlabelsvap')
      .replaceAll('K8sRequiredLabels', 'K8sRequiredLabelsVap')
      .replace(/(- engine: K8sNativeValidation\n(\s+)source:\n)/, '$1$2  generateVAP: true\n');
    expect(text).toContain('generateVAP: true');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'template.yaml'), text);
    await runOk(['push', '--oci-layout', `${join(work, 'vap-layout')}:v1`, dir]);
    await runOk(inB(['apply', '--oci-layout', `${join(work, 'vap-layout')}:v1`]));
    const agent = clusterAgent(b);
    try {
      await expect
        .poll(async () => {
          const r = await kubeRequest(b.server, '/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies', { token: b.adminToken, dispatcher: agent });
          return ((r.json as { items?: KubeObject[] }).items ?? []).map((o) => [o.metadata.name, (o.metadata.ownerReferences as Array<{ kind: string; name: string }> | undefined)?.map((x) => `${x.kind}/${x.name}`)]);
        }, { timeout: 60_000, interval: 250 })
        .toEqual([['gatekeeper-k8srequiredlabelsvap', ['ConstraintTemplate/k8srequiredlabelsvap']]]);
    } finally {
      await agent.close();
    }
    const out = await runOk(inB(['export', '--output-dir', join(work, 'export-vap'), '--format', 'json']));
    const files = JSON.parse(out.stdout).files as string[];
    expect(files.some((f) => f.includes('k8srequiredlabelsvap'))).toBe(true); // the template
    expect(files.filter((f) => f.includes('gatekeeper-k8srequiredlabelsvap'))).toEqual([]); // not what the controller made of it
    expect(out.stderr).toContain('not exported: ValidatingAdmissionPolicy.admissionregistration.k8s.io gatekeeper-k8srequiredlabelsvap: made by a controller from ConstraintTemplate k8srequiredlabelsvap');
  }, 120_000);
});
