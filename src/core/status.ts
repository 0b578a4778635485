// status: what runs where. Per context, every object this tool applied (its label) is listed and
// grouped by the provenance it records (ownership.ts: repository and artifact digest); each digest
// is read from its registry or layout (once for all contexts) and compared with what is live
// (kube/drift.ts): objects changed by hand, deleted, or applied since from another repository or
// by another tool. Nothing is written anywhere.
import type { StoreOptions } from '../content/open.ts';
import { openTarget } from '../content/open.ts';
import { PolicyOciError, type ErrorCode } from '../errors.ts';
import { apiVersionOf, KubeClient } from '../kube/client.ts';
import { driftOf, superseded, type Drift } from '../kube/drift.ts';
import { loadKubeconfig } from '../kube/kubeconfig.ts';
import { MANAGED_SELECTOR, provenanceOf } from '../kube/ownership.ts';
import { identity, isRefusal, preparePolicies, type Prepared } from '../kube/prepare.ts';
import { errorFields, objectFields, type ObjectFields } from '../kube/result.ts';
import type { ReadLimits } from '../artifact/limits.ts';
import type { KubeObject } from '../policy/types.ts';
import { mapLimit } from '../util/concurrency.ts';
import { compareCodeUnits } from '../util/compare.ts';
import type { KubeOptions } from './apply.ts';
import { resolveContexts, runInEachContext, zeroCounts, type FleetOptions, type FleetResult, type Verdict } from './fleet.ts';
import { collectWarnings, silentReporter, type Reporter } from './reporter.ts';
import { readPolicySource, type PolicySource } from './source.ts';

export interface StatusOptions {
  kube: KubeOptions;
  /** REPO: only what was applied from this repository (a tag or digest in it is ignored). */
  repository?: string;
  store: StoreOptions;
  limits?: ReadLimits;
  concurrency?: number;
}

export interface DriftedObject extends ObjectFields {
  drift: Drift;
  /** Field managers that changed it, or the source it records now (foreign). */
  by?: string[];
}

/** One artifact digest live in a context: the objects recording it. */
export interface LiveArtifact {
  repository: string;
  /** Absent for objects that record no digest (applied before provenance was recorded). */
  digest?: string;
  tags: string[];
  /** Live objects recording this repository and digest. */
  policies: number;
  /** The newest applied-at among them, and who applied them. */
  appliedAt?: string;
  appliedBy: string[];
  previousDigests: string[];
  /** Compared with what the digest holds (false: no digest, or it could not be read: see error). */
  compared: boolean;
  error?: string;
  errorCode?: ErrorCode;
  drifted: DriftedObject[];
}

export interface StatusSummary {
  context: string;
  server: string;
  artifacts: LiveArtifact[];
  /** Objects compared that drifted, over every artifact. */
  drifted: number;
  /** Policy kinds that could not be listed (e.g. forbidden): their objects are not counted. */
  warnings: string[];
}

export interface StatusFleetResult extends FleetResult<StatusSummary> {
  verb: 'status';
  repository?: string;
}

/** status over the selected contexts (one: the current context or --context). */
export async function status(options: StatusOptions, contexts: FleetOptions | { context?: string }, reporter: Reporter = silentReporter): Promise<StatusFleetResult> {
  const repository = options.repository ? (await openTarget(options.repository, options.store, { push: false, repositoryOnly: true })).repository : undefined;
  const fleet: FleetOptions = 'selection' in contexts ? contexts : { selection: { names: [], all: false }, parallel: 1, failFast: false };
  const names = 'selection' in contexts ? resolveContexts(contexts.selection, options.kube) : [loadKubeconfig({ ...options.kube, ...(contexts.context ? { context: contexts.context } : {}) }).contextName];
  const artifacts = new Map<string, Promise<PolicySource>>(); // repository@digest → read once for every context
  const result = await runInEachContext(names, options.kube, fleet, reporter, (client, own) => statusOf(client, options, repository, artifacts, own), statusVerdict);
  return { verb: 'status', ...(repository ? { repository } : {}), ...result };
}

function statusVerdict(s: StatusSummary): Verdict {
  const counts = { ...zeroCounts(), unchanged: s.artifacts.reduce((n, a) => n + a.policies, 0) - s.drifted, drifted: s.drifted };
  const unread = s.artifacts.filter((a) => a.error);
  const failure = unread.length ? { failure: `could not compare ${unread.map((a) => `${a.repository}@${a.digest}`).join(', ')}: ${unread[0]!.error}`, failureCode: unread[0]!.errorCode ?? 'REGISTRY' } : {};
  return { counts, differs: s.drifted > 0, ...failure };
}

interface LiveObject {
  obj: KubeObject;
  /** identity(): group/kind/namespace/name, whatever the version. */
  key: string;
  engine: string;
}

async function statusOf(client: KubeClient, options: StatusOptions, repository: string | undefined, cache: Map<string, Promise<PolicySource>>, reporter: Reporter): Promise<StatusSummary> {
  const { warnings, warn } = collectWarnings(reporter);
  reporter.progress(`Listing the policies applied to context ${client.contextName}`);
  const discovered = (await client.discoverPolicyKinds()).filter((d) => d.ref);
  const live: LiveObject[] = [];
  await mapLimit(discovered, 4, async (d) => {
    try {
      const namespace = d.ref!.namespaced ? options.kube.namespace : undefined;
      for (const obj of await client.list(d.ref!, { labelSelector: MANAGED_SELECTOR, ...(namespace ? { namespace } : {}) })) {
        live.push({ obj, key: identity(d.ref!, d.ref!.namespaced ? obj.metadata.namespace : undefined, obj.metadata.name), engine: d.engine.name });
      }
    } catch (err) {
      warn(`${d.label}: not listed: ${errorFields(err).error}`);
    }
  });
  const groups = Map.groupBy(
    live.filter((l) => !repository || provenanceOf(l.obj).repository === repository),
    (l) => {
      const p = provenanceOf(l.obj);
      return `${p.repository ?? ''}@${p.digest ?? ''}`;
    },
  );
  const artifacts: LiveArtifact[] = [];
  for (const members of groups.values()) {
    const first = provenanceOf(members[0]!.obj);
    const provs = members.map((m) => provenanceOf(m.obj));
    const uniq = (xs: (string | undefined)[]) => [...new Set(xs.filter((x): x is string => x !== undefined))].sort(compareCodeUnits);
    const artifact: LiveArtifact = {
      repository: first.repository ?? '',
      ...(first.digest ? { digest: first.digest } : {}),
      tags: uniq(provs.map((p) => p.tag)),
      policies: members.length,
      ...(uniq(provs.map((p) => p.appliedAt)).length ? { appliedAt: uniq(provs.map((p) => p.appliedAt)).at(-1)! } : {}),
      appliedBy: uniq(provs.map((p) => p.appliedBy)),
      previousDigests: uniq(provs.map((p) => p.previousDigest)),
      compared: false,
      drifted: [],
    };
    if (first.digest && first.repository) {
      reporter.progress(`Comparing context ${client.contextName} with ${first.repository}@${first.digest}`);
      try {
        const source = await readOnce(cache, first.repository, first.digest, options);
        artifact.drifted = await driftedObjects(client, source, members, live, { repository: first.repository, digest: first.digest }, options.kube.namespace);
        artifact.compared = true;
      } catch (err) {
        const { error, code } = errorFields(err);
        Object.assign(artifact, { error, errorCode: code });
      }
    }
    artifacts.push(artifact);
  }
  artifacts.sort((a, b) => compareCodeUnits(a.repository, b.repository) || compareCodeUnits(a.appliedAt ?? '', b.appliedAt ?? ''));
  return { context: client.contextName, server: client.server, artifacts, drifted: artifacts.reduce((n, a) => n + a.drifted.length, 0), warnings };
}

/** Reads repository@digest (a registry, or an OCI layout as `oci-layout:DIR`) once for every context. */
function readOnce(cache: Map<string, Promise<PolicySource>>, repository: string, digest: string, options: StatusOptions): Promise<PolicySource> {
  const id = `${repository}@${digest}`;
  let read = cache.get(id);
  if (!read) {
    const layout = repository.startsWith('oci-layout:') ? repository.slice('oci-layout:'.length) : undefined;
    read = readPolicySource(
      {
        reference: `${layout ?? repository}@${digest}`,
        store: { ...options.store, ociLayout: layout !== undefined },
        ...(options.limits ? { limits: options.limits } : {}),
        ...(options.concurrency ? { concurrency: options.concurrency } : {}),
      },
      silentReporter,
    );
    read.catch(() => undefined);
    cache.set(id, read);
  }
  return read;
}

/**
 * The objects of the digest that drifted in this context. Only the engines of which some policy
 * of the digest is live are compared: an engine with none was left out by `apply --engine`.
 */
async function driftedObjects(client: KubeClient, source: PolicySource, members: LiveObject[], all: LiveObject[], at: { repository: string; digest: string }, namespace: string | undefined): Promise<DriftedObject[]> {
  const prepared = preparePolicies(
    source.policies.map((p) => p.object),
    { defaultNamespace: client.namespace },
  ).filter((p): p is Prepared => !isRefusal(p) && !p.error);
  const mine = new Map(members.map((m) => [m.key, m.obj]));
  const everywhere = new Map(all.map((m) => [m.key, m.obj]));
  const engines = new Set(members.map((m) => m.engine));
  const sameKind = (m: LiveObject, p: Prepared) => m.key.startsWith(`${p.ref.group}/${p.ref.kind}/`) && m.obj.metadata.name === p.name;
  const out: DriftedObject[] = [];
  for (const p of prepared.filter((x) => engines.has(x.engine.name))) {
    // -n: only what is (or, applied with apply -n, was put) in that namespace.
    if (namespace && p.ref.namespaced && p.namespace !== namespace && !members.some((m) => sameKind(m, p))) continue;
    // Its own namespace, or (applied with -n) any namespace where this digest has it.
    let obj = mine.get(p.key) ?? members.find((m) => sameKind(m, p))?.obj ?? everywhere.get(p.key);
    if (!obj) obj = await client.get(p.ref, p.name, p.namespace);
    if (superseded(obj, at)) continue;
    if (obj && obj.apiVersion !== p.obj.apiVersion && provenanceOf(obj).digest === at.digest) obj = (await client.get(p.ref, p.name, obj.metadata.namespace)) ?? obj;
    const finding = driftOf(p.obj, obj, at);
    if (!finding) continue;
    const ns = p.ref.namespaced ? (obj?.metadata.namespace ?? p.namespace) : undefined;
    out.push({ ...objectFields(p.ref.kind, apiVersionOf(p.ref), ns, p.name), drift: finding.drift, ...(finding.by ? { by: finding.by } : {}) });
  }
  return out;
}

/** The error status ends with for one context that failed (single-context status keeps its own exit code). */
export function contextFailure(result: StatusFleetResult): PolicyOciError | undefined {
  const o = result.contexts[0];
  if (!o || o.status === 'ok' || !o.error) return undefined;
  return new PolicyOciError(o.error.code === 'INTERNAL' ? 'CLUSTER' : o.error.code, o.error.message, { details: o.error.details });
}
