// export at kubectl's version, --api-version and --strip-defaults on a real API server, with corpus
// policies: applying a set, exporting it with --strip-defaults and comparing with the source files
// shows no difference but the defaults their authors wrote out themselves (which the export leaves
// out too) and the version (the preferred one, as kubectl get shows).
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { findKind, splitApiVersion } from '../../src/engines/index.ts';
import { stripSchemaDefaults } from '../../src/kube/export-defaults.ts';
import type { KubeObject } from '../../src/policy/types.ts';
import { runCli, runOk } from '../support/cli.ts';
import { clusterAgent, kubeRequest, startCluster, type RunningCluster } from '../support/cluster.ts';
import { corpusFiles } from '../support/corpus.ts';

/** Up to this many single-policy corpus files per apiVersion/kind, of those with formatting notes only. */
const PER_KIND = 6;

/** Notes on how a file is written, not on what it holds (null fields, schema violations, duplicate keys are left out). */
const FORMATTING = new Set(['no-final-newline', 'leading-doc-separator', 'crlf', 'non-ascii']);

function corpusSample(): string[] {
  const taken = new Map<string, number>();
  const names = new Set<string>();
  const out: string[] = [];
  for (const f of corpusFiles()) {
    if (f.path.startsWith('bad/') || f.documents !== '1' || f.kinds.length !== 1 || !f.notes.every((n) => FORMATTING.has(n))) continue;
    const apiKind = f.kinds[0]!;
    const slash = apiKind.lastIndexOf('/');
    if (!findKind(apiKind.slice(0, slash), apiKind.slice(slash + 1))) continue;
    if ((taken.get(apiKind) ?? 0) >= PER_KIND) continue;
    const object = parse(readFileSync(f.absolute, 'utf8')) as KubeObject;
    const key = `${object.kind}/${object.metadata.namespace ?? ''}/${object.metadata.name}`;
    if (names.has(key)) continue; // the same policy in two versions: one is enough
    names.add(key);
    taken.set(apiKind, (taken.get(apiKind) ?? 0) + 1);
    out.push(f.absolute);
  }
  return out;
}

const keyOf = (o: KubeObject) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;

function readDir(dir: string): Map<string, KubeObject> {
  const out = new Map<string, KubeObject>();
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.yaml'))) {
    const o = parse(readFileSync(join(dir, f), 'utf8')) as KubeObject;
    out.set(keyOf(o), o);
  }
  return out;
}

describe('export: the version kubectl shows, --api-version, --strip-defaults', () => {
  let cluster: RunningCluster;
  let work: string;
  let kube: string[];
  /** The applied source objects, by kind/namespace/name, as the cluster holds them (namespace filled in). */
  const sources = new Map<string, KubeObject>();

  beforeAll(async () => {
    cluster = await startCluster('export-form');
    kube = ['--kubeconfig', cluster.kubeconfigs.admin];
    work = await mkdtemp(join(tmpdir(), 'export-form-'));
    const src = join(work, 'src');
    const files = corpusSample();
    mkdirSync(src);
    files.forEach((file, i) => copyFileSync(file, join(src, `${String(i).padStart(3, '0')}.yaml`)));
    // The few sample files push refuses (e.g. a field the API server requires that the example leaves out) are left out.
    for (let pushed = await runCli(['push', '--oci-layout', `${join(work, 'layout')}:v1`, src]); pushed.code !== 0; pushed = await runCli(['push', '--oci-layout', `${join(work, 'layout')}:v1`, src])) {
      const refused = [...pushed.stderr.matchAll(/src\/(\d+\.yaml):/g)].map((m) => m[1]!);
      expect(refused.length, pushed.stderr).toBeGreaterThan(0);
      for (const f of new Set(refused)) rmSync(join(src, f));
    }
    const applied = await runCli(['apply', '--oci-layout', `${join(work, 'layout')}:v1`, '--create-namespace', '--format', 'json', ...kube]);
    const results = (JSON.parse(applied.stdout) as { results: Array<{ kind: string; namespace?: string; name: string; action: string }> }).results;
    const created = new Set(results.filter((r) => r.action === 'created').map((r) => `${r.kind}/${r.namespace ?? ''}/${r.name}`));
    for (const f of readdirSync(src)) {
      const o = parse(readFileSync(join(src, f), 'utf8')) as KubeObject;
      const found = findKind(o.apiVersion, o.kind)!;
      if (found.kind.namespaced) o.metadata.namespace ??= 'default';
      if (created.has(keyOf(o))) sources.set(keyOf(o), o);
    }
  }, 300_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it('writes each kind at the version kubectl get shows (not the storage version): policies.kyverno.io/v1, kyverno.io/v2 for GlobalContextEntry', async () => {
    const r = JSON.parse((await runOk(['export', '--output-dir', join(work, 'plain'), '--format', 'json', ...kube])).stdout) as { apiVersions: Record<string, string> };
    expect(r.apiVersions['ValidatingPolicy.policies.kyverno.io']).toBe('policies.kyverno.io/v1');
    expect(r.apiVersions['MutatingPolicy.policies.kyverno.io']).toBe('policies.kyverno.io/v1');
    expect(r.apiVersions['GlobalContextEntry.kyverno.io']).toBe('kyverno.io/v2'); // the engine's storage version is v2beta1
    expect(r.apiVersions['ClusterPolicy.kyverno.io']).toBe('kyverno.io/v1'); // kyverno.io prefers v2, which has no ClusterPolicy
    expect(r.apiVersions['MutatingAdmissionPolicy.admissionregistration.k8s.io']).toBe('admissionregistration.k8s.io/v1beta1');
    const exported = readDir(join(work, 'plain'));
    const vpols = [...exported.values()].filter((o) => o.kind === 'ValidatingPolicy');
    expect(vpols.length).toBeGreaterThan(0);
    expect(vpols.every((o) => o.apiVersion === 'policies.kyverno.io/v1')).toBe(true);
  });

  it('--api-version: that group at that version, the others unchanged; a version the tool does not know, or two for one group, is exit 2; one the cluster does not serve exit 8, nothing written', async () => {
    const dir = join(work, 'v1beta1');
    const r = JSON.parse((await runOk(['export', '--output-dir', dir, '--api-version', 'policies.kyverno.io/v1beta1', '--api-version', 'kyverno.io/v2beta1', '--format', 'json', ...kube])).stdout) as {
      apiVersions: Record<string, string>;
    };
    expect(r.apiVersions['ValidatingPolicy.policies.kyverno.io']).toBe('policies.kyverno.io/v1beta1');
    expect(r.apiVersions['ClusterPolicy.kyverno.io']).toBe('kyverno.io/v2beta1');
    expect(r.apiVersions['KubeArmorPolicy.security.kubearmor.com']).toBe('security.kubearmor.com/v1');
    expect([...readDir(dir).values()].filter((o) => o.kind === 'ValidatingPolicy').every((o) => o.apiVersion === 'policies.kyverno.io/v1beta1')).toBe(true);

    const unknown = await runCli(['export', '--output-dir', join(work, 'bad'), '--api-version', 'policies.kyverno.io/v7', ...kube]);
    expect(unknown.code, unknown.stderr).toBe(2);
    expect(unknown.stderr).toContain('no policy kind of policies.kyverno.io has version v7');
    const twice = await runCli(['export', '--output-dir', join(work, 'bad'), '--api-version', 'kyverno.io/v1', '--api-version', 'kyverno.io/v2', ...kube]);
    expect(twice.code).toBe(2);

    // A version the engine declares that this cluster does not serve: GlobalContextEntry's CRD with v2alpha1 switched off.
    const agent = clusterAgent(cluster);
    try {
      const path = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/globalcontextentries.kyverno.io';
      const crd = (await kubeRequest(cluster.server, path, { token: cluster.adminToken, dispatcher: agent })).json as { spec: { versions: Array<{ name: string; served: boolean }> } };
      for (const v of crd.spec.versions) if (v.name === 'v2alpha1') v.served = false;
      expect((await kubeRequest(cluster.server, path, { method: 'PUT', body: crd, token: cluster.adminToken, dispatcher: agent })).status).toBe(200);
      const args = ['export', '--output-dir', join(work, 'unserved'), '--api-version', 'kyverno.io/v2alpha1', ...kube];
      // Until discovery stops serving it.
      let unserved = await runCli(args);
      for (let i = 0; i < 50 && unserved.code === 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        rmSync(join(work, 'unserved'), { recursive: true, force: true });
        unserved = await runCli(args);
      }
      expect(unserved.code, unserved.stderr).toBe(8);
      expect(unserved.stderr).toContain('--api-version kyverno.io/v2alpha1: context admin does not serve GlobalContextEntry.kyverno.io at v2alpha1');
      expect(existsSync(join(work, 'unserved'))).toBe(false);
    } finally {
      await agent.close();
    }
  });

  it('--strip-defaults: every applied corpus policy comes back as its source file, but for the defaults its author wrote out and the version; the files apply back unchanged', async () => {
    // 126 policies of 36 apiVersion/kinds when written; built-in kinds (defaults set in the API server's code) among them.
    expect(sources.size).toBeGreaterThanOrEqual(100);
    const kinds = new Set([...sources.values()].map((o) => o.kind));
    for (const kind of ['ClusterPolicy', 'ValidatingPolicy', 'MutatingPolicy', 'KubeArmorPolicy', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding']) expect(kinds, kind).toContain(kind);
    const dir = join(work, 'stripped');
    await runOk(['export', '--output-dir', dir, '--strip-defaults', ...kube]);
    const exported = readDir(dir);
    let verbatim = 0;
    const differing: string[] = [];
    for (const [key, source] of sources) {
      const out = exported.get(key);
      expect(out, key).toBeDefined();
      const found = findKind(out!.apiVersion, out!.kind)!;
      // The version is the one kubectl shows; everything else must be the source's, defaults left out.
      const atVersion = { ...source, apiVersion: out!.apiVersion };
      const expected = await stripSchemaDefaults(atVersion, found.engine, found.kind, splitApiVersion(out!.apiVersion).version);
      if (JSON.stringify(sorted(out)) !== JSON.stringify(sorted(expected))) differing.push(key);
      if (JSON.stringify(sorted(expected)) === JSON.stringify(sorted(atVersion))) {
        verbatim++;
        expect(sorted(out), `${key}: no defaults written out: exactly the source`).toEqual(sorted(atVersion));
      }
    }
    expect(differing).toEqual([]);
    expect(verbatim).toBeGreaterThanOrEqual(50);

    // Without the flag the server's defaults are there: the same comparison finds differences.
    const plain = readDir(join(work, 'plain'));
    const withDefaults = [...sources].filter(([key, source]) => JSON.stringify(sorted(plain.get(key))) !== JSON.stringify(sorted({ ...source, apiVersion: plain.get(key)!.apiVersion })));
    const defaulted = new Set(withDefaults.map(([, source]) => source.kind));
    for (const kind of ['ClusterPolicy', 'ValidatingAdmissionPolicyBinding']) expect(defaulted, kind).toContain(kind);

    // And the stripped files apply as they are (server-side apply, by the manager that applied the sources),
    // leaving the cluster as it was: exported again, they are the same files. Except where the API server
    // itself fails: re-applying a ClusterPolicy applied at kyverno.io/v2beta1 as v1 fails whatever its content
    // (500 "allowExistingViolations: field not declared in schema": the managed fields are converted to v2beta1,
    // whose schema lacks that v1 field), with or without --strip-defaults.
    const names = readdirSync(dir);
    await runOk(['push', '--oci-layout', `${join(work, 'layout')}:stripped`, dir]);
    const reapply = await runCli(['apply', '--oci-layout', `${join(work, 'layout')}:stripped`, '--format', 'json', ...kube]);
    const reapplied = JSON.parse(reapply.stdout) as { results: Array<{ kind: string; name: string; action: string; error?: string }> };
    expect(reapplied.results).toHaveLength(names.length);
    const failed = reapplied.results.filter((r) => r.action === 'failed');
    expect(failed.length).toBeLessThan(5);
    for (const r of failed) {
      expect(sources.get(`${r.kind}//${r.name}`)?.apiVersion, r.name).toBe('kyverno.io/v2beta1');
      expect(r.error).toContain('allowExistingViolations: field not declared in schema');
    }
    const again = join(work, 'stripped-again');
    await runOk(['export', '--output-dir', again, '--strip-defaults', ...kube]);
    expect(readdirSync(again).sort()).toEqual(names.sort());
    for (const f of readdirSync(dir)) expect(readFileSync(join(again, f), 'utf8'), f).toBe(readFileSync(join(dir, f), 'utf8'));
  });
});

/** Keys sorted at every level, for comparisons that ignore key order. */
function sorted(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sorted);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sorted((value as Record<string, unknown>)[k])]));
}
