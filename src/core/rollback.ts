// rollback: put a repository's policies in a cluster back to the artifact that ran before the
// last apply (or to any digest or tag of the repository), with prune, as one apply of that artifact.
//
// Where "the version before" comes from: the objects themselves. Every object apply writes records
// its repository, the artifact digest it came from and, once an apply changed that digest, the
// digest it carried before (ownership.ts: source-digest, previous-digest). rollback lists the
// repository's objects in the context, takes the digest they now carry (the newest, when older
// ones linger: a digest another digest names as its previous one is older) and the previous digest
// those objects record; they must all record the same one, else it says what it found and asks for
// --to. The artifact is then read from the registry by digest (it must still be there; a tag
// moved since does not matter) and checked as apply checks it (--verify-key, keyless), and applied
// with prune of everything else that repository applied — so the objects the last apply added are
// deleted, the ones it removed or changed come back. No state is kept anywhere but on the objects.
import { openTarget } from '../content/open.ts';
import { PolicyOciError } from '../errors.ts';
import { KubeClient } from '../kube/client.ts';
import { pruneCandidates } from '../kube/prune.ts';
import { provenanceOf } from '../kube/ownership.ts';
import type { KubeObject } from '../policy/types.ts';
import { DIGEST_RE } from '../oci/digest.ts';
import { count } from '../util/plural.ts';
import { applyToCluster, applyVerdict, type ApplySummary, type KubeOptions } from './apply.ts';
import { resolveContexts, runFleet, type FleetOptions, type FleetResult } from './fleet.ts';
import type { DryRun } from './dryrun.ts';
import { silentReporter, type Reporter } from './reporter.ts';
import { readPolicySource, type SourceOptions } from './source.ts';

export interface RollbackOptions extends Omit<SourceOptions, 'reference' | 'fromReferrers' | 'referrersMode' | 'engines'> {
  /** REPO as the user wrote it: a registry repository, or with an OCI layout its directory. */
  repository: string;
  /** A digest or a tag of the repository; default: the digest the live objects record as previous. */
  to?: string;
  kube: KubeOptions;
  /** -n, as the apply being rolled back had it (namespaced policies go there; prune looks only there). */
  namespace?: string;
  dryRun: Exclude<DryRun, 'client'>;
  forceConflicts: boolean;
  /** --wait: as apply's, on what the rollback applied. */
  wait?: { timeoutMs: number };
}

/** One artifact digest the repository's live objects record. */
export interface LiveVersion {
  /** Undefined for objects that record none (applied from several attached artifacts at once). */
  digest?: string;
  tags: string[];
  objects: number;
  /** The newest applied-at among them. */
  appliedAt?: string;
  /** Previous digests they record, with how many objects record each ("" for none). */
  previous: Record<string, number>;
}

export interface RollbackPlan {
  /** The repository as its objects record it. */
  repository: string;
  /** What the context holds from it now, newest first. */
  live: LiveVersion[];
  /** The digest rolled back from, when the live objects tell it. */
  from?: string;
  /** The digest rolled back to. */
  to: string;
  /** The tag named with --to (the artifact is read by it). */
  toTag?: string;
  /** Where `to` came from. */
  chosenBy: 'previous-digest' | 'to-digest' | 'to-tag';
}

export interface RollbackSummary extends ApplySummary {
  rollback: RollbackPlan;
}

/** What the repository's objects record, grouped by digest, newest first. */
export function liveVersions(objects: readonly KubeObject[]): LiveVersion[] {
  const byDigest = new Map<string, LiveVersion>();
  for (const obj of objects) {
    const p = provenanceOf(obj);
    const key = p.digest ?? '';
    let v = byDigest.get(key);
    if (!v) {
      v = { ...(p.digest ? { digest: p.digest } : {}), tags: [], objects: 0, previous: {} };
      byDigest.set(key, v);
    }
    v.objects++;
    if (p.tag && !v.tags.includes(p.tag)) v.tags.push(p.tag);
    if (p.appliedAt && (!v.appliedAt || p.appliedAt > v.appliedAt)) v.appliedAt = p.appliedAt;
    const prev = p.previousDigest ?? '';
    v.previous[prev] = (v.previous[prev] ?? 0) + 1;
  }
  return [...byDigest.values()].sort((a, b) => (b.appliedAt ?? '').localeCompare(a.appliedAt ?? '') || (a.digest ?? '').localeCompare(b.digest ?? ''));
}

/**
 * The digest live now and the one before it, from the objects' records. Now: the only digest no
 * other live digest names as its previous one, else the newest applied. Before: the one previous
 * digest the objects of "now" record (objects the last apply created record none).
 */
export function previousOf(repository: string, live: readonly LiveVersion[], context: string): { from: string; to: string } {
  const where = `${repository} in context ${context}`;
  if (live.length === 0) throw new PolicyOciError('NOT_FOUND', `nothing to roll back: no policy applied from ${where} (objects carry the label policyoci.dev/managed-by and the annotation policyoci.dev/source)`);
  const named = new Set(live.flatMap((v) => Object.keys(v.previous).filter((d) => d !== '')));
  const heads = live.filter((v) => v.digest && !named.has(v.digest));
  const newest = (heads.length > 0 ? heads : live)[0]!;
  const tied = (heads.length > 0 ? heads : live).filter((v) => v.appliedAt === newest.appliedAt);
  if (!newest.digest || tied.length > 1) throw undecided(`cannot tell which artifact ${where} runs now`, live);
  const before = Object.keys(newest.previous).filter((d) => d !== '');
  if (before.length === 0) {
    throw new PolicyOciError('NOT_FOUND', `nothing to roll back to: every object of ${newest.digest} from ${where} was first applied from it (no policyoci.dev/previous-digest); name a version with --to DIGEST|TAG`);
  }
  if (before.length > 1) throw undecided(`the objects of ${newest.digest} from ${where} record different previous versions`, live);
  return { from: newest.digest, to: before[0]! };
}

function undecided(what: string, live: readonly LiveVersion[]): PolicyOciError {
  const details = live.map((v) => {
    const prev = Object.entries(v.previous)
      .map(([d, n]) => `${d || 'none'} (${n})`)
      .join(', ');
    const tags = v.tags.length ? ` (tag ${v.tags.join(', ')})` : '';
    return `${v.digest ?? 'no digest'}${tags}: ${count(v.objects, 'object')}, applied ${v.appliedAt ?? 'at an unknown time'}, previous ${prev}`;
  });
  return new PolicyOciError('NOT_FOUND', `${what}; name the version to roll back to with --to DIGEST|TAG`, { details });
}

/** Every object the repository applied in the cluster (prune's own listing, nothing kept back). */
async function liveObjects(client: KubeClient, repository: string, namespace: string | undefined): Promise<KubeObject[]> {
  const discovered = await client.discoverPolicyKinds();
  const { candidates, failures } = await pruneCandidates(client, discovered, new Set(), { repository, ...(namespace ? { namespace } : {}) });
  if (failures.length > 0) throw new PolicyOciError('CLUSTER', `cannot list what ${repository} applied: ${failures[0]!.error ?? 'unknown error'}`);
  return candidates.map((c) => c.obj);
}

export async function rollback(options: RollbackOptions, reporter: Reporter = silentReporter): Promise<RollbackSummary> {
  const opened = await openTarget(options.repository, options.store, { push: false, repositoryOnly: true });
  if (opened.tags.length > 0 || opened.digest) {
    throw new PolicyOciError('USAGE', `rollback takes a repository without a tag or digest (got ${opened.display}); name the version with --to`);
  }
  const repository = opened.repository;
  const client = KubeClient.fromKubeconfig(options.kube);
  try {
    const toDigest = options.to !== undefined && DIGEST_RE.test(options.to) ? options.to : undefined;
    const toTag = options.to !== undefined && !toDigest ? options.to : undefined;
    const readOptions = { ...options, store: options.store };
    // --to: the artifact is read and checked before the cluster is contacted, as apply does.
    const read = (reference: string) => readPolicySource({ ...readOptions, reference }, reporter);
    const at = (version: string) => (toTag !== undefined && version === toTag ? `${options.repository}:${version}` : `${options.repository}@${version}`);
    let plan: RollbackPlan;
    let source;
    if (options.to !== undefined) {
      source = await read(at(options.to));
      reporter.progress(`Reading what ${repository} applied in context ${client.contextName}`);
      const live = liveVersions(await liveObjects(client, repository, options.namespace));
      let from: string | undefined;
      try {
        from = previousOf(repository, live, client.contextName).from;
      } catch {
        from = live.length === 1 ? live[0]!.digest : undefined;
      }
      plan = { repository, live, ...(from ? { from } : {}), to: source.digest, ...(toTag ? { toTag } : {}), chosenBy: toTag ? 'to-tag' : 'to-digest' };
    } else {
      reporter.progress(`Reading what ${repository} applied in context ${client.contextName}`);
      const live = liveVersions(await liveObjects(client, repository, options.namespace));
      const { from, to } = previousOf(repository, live, client.contextName);
      plan = { repository, live, from, to, chosenBy: 'previous-digest' };
      try {
        source = await read(at(to));
      } catch (err) {
        if (err instanceof PolicyOciError && err.code === 'NOT_FOUND') {
          throw new PolicyOciError('NOT_FOUND', `the version before, ${to}, is no longer in ${repository}: ${err.message}`, { cause: err });
        }
        throw err;
      }
    }
    reporter.progress(`Rolling ${repository} back to ${plan.to} in context ${client.contextName}`);
    const summary = await applyToCluster(
      source,
      client,
      {
        ...readOptions,
        reference: at(plan.toTag ?? plan.to),
        kube: options.kube,
        ...(options.namespace ? { namespace: options.namespace } : {}),
        createNamespace: false,
        dryRun: options.dryRun,
        forceConflicts: options.forceConflicts,
        prune: true,
        ...(options.wait ? { wait: options.wait } : {}),
      },
      reporter,
    );
    return { ...summary, rollback: plan };
  } finally {
    await client.close();
  }
}

export interface RollbackFleetResult extends FleetResult<RollbackSummary> {
  verb: 'rollback';
  /** REPO as given. */
  repository: string;
}

/**
 * rollback in several contexts: each context is rolled back on its own, to the version before
 * the last apply there (which may differ from context to context), or to --to everywhere. The
 * kubeconfig is read for the contexts first (a wrong name fails before anything is done).
 */
export async function rollbackFleet(options: RollbackOptions, fleet: FleetOptions, reporter: Reporter = silentReporter): Promise<RollbackFleetResult> {
  const contexts = resolveContexts(fleet.selection, options.kube);
  const result = await runFleet(contexts, fleet, reporter, (context, own) => rollback({ ...options, kube: { ...options.kube, context } }, own), applyVerdict);
  return { verb: 'rollback', repository: options.repository, ...result };
}
