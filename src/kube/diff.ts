// What apply would change: for each policy the server-side dry-run result against the live
// object, both without cluster bookkeeping, as a unified diff of their canonical YAML. With
// `prune`, what prune would delete is shown too (as a removal of the whole object).
import type { KubeObject } from '../policy/types.ts';
import { stripClusterFields } from '../policy/strip.ts';
import { stringifyCanonical } from '../policy/yaml.ts';
import { mapLimit } from '../util/concurrency.ts';
import { apiVersionOf } from './client.ts';
import type { KubeClient } from './client.ts';
import { awaitsDefinition, checkServed, compareApplyOrder, fieldsOf, isRefusal, preparePolicies } from './prepare.ts';
import { kindLabel } from './discovery.ts';
import type { Prepared } from './prepare.ts';
import { driftOf, type Drift } from './drift.ts';
import { markProvenance, provenanceOf, stripOwnership, type ProvenanceSource } from './ownership.ts';
import { pruneCandidates, type PruneScope } from './prune.ts';
import { errorFields, objectFields } from './result.ts';
import { unifiedDiff } from './unified-diff.ts';

export interface DiffOptions {
  /** -n: retargets every namespaced policy (as apply would). */
  namespace?: string;
  forceConflicts?: boolean;
  /** As for apply: mark the objects with this source, and show what prune would delete. */
  prune?: { repository: string; scope?: PruneScope };
  label?: (obj: KubeObject) => KubeObject;
  /**
   * What apply would record on each object (ownership.ts): sent in the dry run as apply sends it;
   * with a digest, each result also says how the live object drifted from what that digest holds.
   * The marks themselves are left out of the comparison (bookkeeping, as export leaves them out).
   */
  provenance?: ProvenanceSource;
}

export interface DiffResult {
  kind: string;
  apiVersion: string;
  namespace?: string;
  name: string;
  /** 'create' (not live), 'update', 'none', 'prune'; 'error' when the server could not say. */
  change: 'create' | 'update' | 'none' | 'prune' | 'error';
  changed: boolean;
  /** Unified diff, "" when unchanged. */
  diff: string;
  error?: string;
  details?: string[];
  note?: string;
  /**
   * Only where this digest is live in the cluster (some object records it): how this object
   * drifted from what the digest holds (modified, deleted, foreign: see kube/drift.ts), and who.
   */
  drift?: Drift;
  driftBy?: string[];
}

export async function diffPolicies(client: KubeClient, objects: readonly KubeObject[], opts: DiffOptions = {}): Promise<DiffResult[]> {
  const all = preparePolicies(objects, { namespace: opts.namespace, defaultNamespace: client.namespace, label: opts.label, ownedBy: opts.prune?.repository });
  const out: DiffResult[] = all.filter(isRefusal).map((r) => ({
    ...fieldsOf(r),
    change: 'error',
    changed: false,
    diff: '',
    error: r.error,
  }));
  const prepared = all.filter((p): p is Prepared => !isRefusal(p)).sort(compareApplyOrder);
  const discovered = await client.discoverPolicyKinds();
  checkServed(prepared, discovered);
  // Objects of a kind defined in the set but not served yet (a Gatekeeper constraint whose
  // template is new): apply would create them once the kind is served; the server cannot check them now.
  for (const p of prepared) {
    if (awaitsDefinition(p, discovered)) p.unchecked = `its kind ${kindLabel(p.ref)} is not served yet: ${p.definition!.ref.kind} ${p.definition!.name} of this set defines it; the server did not check it`;
  }
  const missing = new Set<string>();
  for (const ns of new Set(prepared.filter((p) => !p.error && p.namespace).map((p) => p.namespace!))) {
    if ((await client.ensureNamespace(ns, false)) === 'missing') missing.add(ns);
  }
  const compared = await mapLimit(prepared, 8, (p) => diffOne(client, p, opts, missing));
  // Drift means something only where the digest was applied: some object of it records it.
  const live = compared.some((c) => c.carries);
  for (const { result, finding } of compared) out.push(live && finding ? { ...result, drift: finding.drift, ...(finding.by ? { driftBy: finding.by } : {}) } : result);
  if (opts.prune) {
    const keep = new Set(prepared.map((p) => p.key));
    const { candidates, failures } = await pruneCandidates(client, discovered, keep, { repository: opts.prune.repository, ...(opts.prune.scope ? { scope: opts.prune.scope } : {}), namespace: opts.namespace });
    for (const f of failures) out.push({ kind: f.kind, apiVersion: f.apiVersion, name: '', change: 'error', changed: false, diff: '', error: f.error ?? 'prune failed' });
    for (const { ref, obj } of candidates) {
      const ns = ref.namespaced ? obj.metadata.namespace : undefined;
      const { engine } = discovered.find((d) => d.kind.group === ref.group && d.kind.kind === ref.kind)!;
      const live = stringifyCanonical(stripClusterFields(obj, engine));
      const diff = unifiedDiff(live, '', headers(ref.kind, ns, obj.metadata.name));
      out.push({ ...objectFields(ref.kind, apiVersionOf(ref), ns, obj.metadata.name), change: 'prune', changed: true, diff });
    }
  }
  return out;
}

interface Compared {
  result: DiffResult;
  /** The live object records the provenance's repository and digest. */
  carries: boolean;
  finding?: ReturnType<typeof driftOf>;
}

async function diffOne(client: KubeClient, p: Prepared, opts: DiffOptions, missingNamespaces: Set<string>): Promise<Compared> {
  const source = opts.provenance?.digest ? { repository: opts.provenance.repository, digest: opts.provenance.digest } : undefined;
  let live: KubeObject | undefined;
  const result = await compareOne(client, p, opts, missingNamespaces, (l) => (live = l));
  if (!source || result.change === 'error' && live === undefined) return { result, carries: false };
  const recorded = provenanceOf(live);
  return { result, carries: recorded.managed && recorded.repository === source.repository && recorded.digest === source.digest, finding: driftOf(p.obj, live, source) };
}

async function compareOne(client: KubeClient, p: Prepared, opts: DiffOptions, missingNamespaces: Set<string>, seen: (live: KubeObject | undefined) => void): Promise<DiffResult> {
  const base = fieldsOf(p);
  if (p.error) return { ...base, change: 'error', changed: false, diff: '', error: p.error };
  const labels = headers(p.ref.kind, p.namespace, p.name);
  if (p.namespace && missingNamespaces.has(p.namespace)) {
    // Nothing to dry-run against: show the input as it would be created.
    const diff = unifiedDiff('', canonical(p.obj, p), labels);
    // As apply says it (and fails): the server cannot check an object in a missing namespace.
    return { ...base, change: 'error', changed: false, diff, error: `namespace ${p.namespace} does not exist (apply would fail; use apply --create-namespace)` };
  }
  if (p.unchecked) return { ...base, change: 'create', changed: true, diff: unifiedDiff('', canonical(p.obj, p), labels), note: p.unchecked };
  try {
    const live = await client.get(p.ref, p.name, p.namespace);
    seen(live);
    const sent = opts.provenance ? markProvenance(p.obj, opts.provenance, live) : p.obj;
    const merged = await client.apply(sent, { dryRun: 'server', force: opts.forceConflicts ?? false });
    const diff = unifiedDiff(live ? canonical(live, p) : '', canonical(merged, p), labels);
    const change = !live ? 'create' : diff ? 'update' : 'none';
    return { ...base, change, changed: diff !== '', diff };
  } catch (err) {
    return { ...base, change: 'error', changed: false, diff: '', ...errorFields(err) };
  }
}

function canonical(obj: KubeObject, p: Prepared): string {
  return stringifyCanonical(stripOwnership(stripClusterFields(obj, p.engine)));
}

function headers(kind: string, namespace: string | undefined, name: string): { from: string; to: string } {
  const path = [kind, namespace, name].filter(Boolean).join('/');
  return { from: `live/${path}`, to: `merged/${path}` };
}
