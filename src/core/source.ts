// Where pull, apply and diff get their policies: the artifact a reference names, or with
// fromReferrers the policy artifacts attached to it; with a trust policy (a key, or a keyless
// identity) only what a signature satisfying it covers. Everything is decided (signatures checked) and read whole before anything is written
// or applied.
import type { ReadLimits } from '../artifact/limits.ts';
import { readArtifact, type FoundPolicy, type ReadOptions } from '../artifact/unpack.ts';
import { openTarget, type OpenedTarget, type StoreOptions } from '../content/open.ts';
import { engineNames } from '../engines/index.ts';
import type { Target } from '../content/types.ts';
import { PolicyOciError } from '../errors.ts';
import { ReferrersClient, type ReferrersMode } from '../referrers/client.ts';
import { atDigest } from '../referrers/display.ts';
import type { TrustedRootUsed, TrustPolicy, TrustVerifier } from '../signing/trust.ts';
import { stringifyCanonical } from '../policy/yaml.ts';
import { compareCodeUnits } from '../util/compare.ts';
import { policyArtifactTypes } from './attach.ts';
import { collectWarnings, type Reporter } from './reporter.ts';
import { trustPolicyOf } from './trust-policy.ts';

/** The trust and selection flags pull, apply and diff share. */
export interface SourceOptions {
  reference: string;
  store: StoreOptions;
  /** Refuse what no signature satisfying this policy (a key, or keyless) covers. */
  trust?: TrustPolicy;
  /** Shorthand for `trust: { keyPath }` (cosign.pub). */
  verifyKeyPath?: string;
  /** Read the policy artifacts attached to the reference (its referrers) instead of it. */
  fromReferrers?: boolean;
  referrersMode?: ReferrersMode;
  limits?: ReadLimits;
  concurrency?: number;
  /** Only these engines' policies (empty: all). */
  engines?: string[];
}

export interface PolicySource {
  opened: OpenedTarget;
  /** What the reference resolved to (the image, with fromReferrers). */
  digest: string;
  /** The artifacts read, oldest first. */
  artifacts: string[];
  /** True when a signature was checked and verified for every artifact read. */
  verified: boolean;
  /** The Sigstore trusted root used, when a signature needed one. */
  trustedRoot?: TrustedRootUsed;
  policies: FoundPolicy[];
  warnings: string[];
}

/** What every result read from a source starts with. */
export interface SourceFields {
  reference: string;
  /** What the reference resolved to (the image, with fromReferrers). */
  digest: string;
  /** The artifacts read, oldest first: [digest] for a plain read. */
  artifacts: string[];
  /** True when every artifact read had a signature that satisfied the trust policy. */
  verified: boolean;
  /** The Sigstore trusted root used, when a signature needed one. */
  trustedRoot?: TrustedRootUsed;
}

export function sourceFields(source: PolicySource): SourceFields {
  return { reference: source.opened.display, digest: source.digest, artifacts: source.artifacts, verified: source.verified, ...(source.trustedRoot ? { trustedRoot: source.trustedRoot } : {}) };
}

/** Refuses engine names no plugin declares: a typo would otherwise select nothing and succeed. */
export function checkEngineNames(names: readonly string[] | undefined, flag = '--engine'): void {
  const known = engineNames();
  const unknown = [...new Set(names ?? [])].filter((n) => !known.includes(n));
  if (unknown.length === 0) return;
  const quoted = unknown.map((n) => `"${n}"`).join(', ');
  throw new PolicyOciError('USAGE', `${flag}: unknown engine ${quoted}; the known engines are ${known.join(', ')}`);
}

/**
 * Reading nothing is not a success: an artifact without a single policy layer (a container image,
 * say) is an error, and so is an --engine the artifact holds no policy of. A policy artifact that
 * holds no policy at all (an export of an empty cluster) reads as empty.
 */
function checkFound(found: FoundPolicy[], recognised: boolean, options: SourceOptions, where: string): void {
  if (found.length === 0 && !recognised) {
    const hint = options.fromReferrers ? '' : ' (did you mean --from-referrers? It reads the policy artifacts attached to an image)';
    throw new PolicyOciError('INVALID_INPUT', `no policy layers in ${where}: it is not a policy artifact${hint}`);
  }
  const held = [...new Set(found.map((p) => p.engine))].sort();
  const missing = [...new Set(options.engines ?? [])].filter((e) => !held.includes(e));
  if (missing.length > 0) {
    const holds = held.length ? `it holds ${held.join(' and ')} policies only` : 'it holds no policies';
    throw new PolicyOciError('NOT_FOUND', `${where} holds no ${missing.join(' or ')} policies (${holds}); drop --engine ${missing.join(' --engine ')}`);
  }
}

/**
 * `beforeRead` is called once what may be read is decided (signatures checked) and before it is
 * read: where apply and diff read the kubeconfig, so a refused signature comes before anything of
 * the cluster and a wrong --context still fails before a long download.
 */
export async function readPolicySource(options: SourceOptions, reporter: Reporter, beforeRead?: () => void): Promise<PolicySource> {
  checkEngineNames(options.engines);
  const opened = await openTarget(options.reference, options.store, { push: false });
  const { warnings, warn } = collectWarnings(reporter);
  let reading = `Reading ${opened.display}`;
  const readOptions: ReadOptions = {
    ...(options.limits ? { limits: options.limits } : {}),
    ...(options.concurrency ? { concurrency: options.concurrency } : {}),
    onLayer: (done, total) => reporter.progress(`${reading}: ${done}/${total} layers`),
  };
  const keep = (p: FoundPolicy) => !options.engines?.length || options.engines.includes(p.engine);
  const trust = trustPolicyOf(options);
  if (!trust && !options.fromReferrers) {
    beforeRead?.();
    reporter.progress(reading);
    const read = await readArtifact(opened.target, opened.reference, readOptions);
    checkFound(read.policies, read.manifests.some((m) => m.engine !== undefined), options, atDigest(opened.display, read.root.digest));
    for (const w of read.warnings) warn(w);
    return { opened, digest: read.root.digest, artifacts: [read.root.digest], verified: false, policies: read.policies.filter(keep), warnings };
  }
  reporter.progress(`Checking ${opened.display}`);
  const verifier = trust ? new (await import('../signing/trust.ts')).TrustVerifier(trust) : undefined;
  let selected: SelectedArtifacts;
  try {
    selected = await selectArtifacts(opened.target, opened.display, opened.reference, {
      ...(verifier ? { verifier } : {}),
      fromReferrers: options.fromReferrers ?? false,
      ...(options.referrersMode ? { mode: options.referrersMode } : {}),
      onWarning: warn,
    });
  } finally {
    if (verifier) (await import('./verify.ts')).warnShippedRoot(verifier, { warn, progress: () => undefined });
  }
  beforeRead?.();
  reading = `Reading ${selected.digests.length} artifact(s) of ${opened.display}`;
  reporter.progress(reading);
  const read = await readArtifacts(opened.target, selected.digests, readOptions);
  const where = options.fromReferrers ? `the artifacts attached to ${atDigest(opened.display, selected.subject)}` : atDigest(opened.display, selected.subject);
  checkFound(read.policies, read.recognised, options, where);
  for (const w of read.warnings) warn(w);
  return {
    opened,
    digest: selected.subject,
    artifacts: selected.digests,
    verified: selected.verified,
    ...(verifier?.trustedRoot ? { trustedRoot: verifier.trustedRoot } : {}),
    policies: read.policies.filter(keep),
    warnings,
  };
}

export interface SelectOptions {
  /** Only what a signature satisfying its policy covers. */
  verifier?: TrustVerifier;
  fromReferrers?: boolean;
  mode?: ReferrersMode;
  onWarning?: (message: string) => void;
}

export interface SelectedArtifacts {
  /** Digests to read, oldest first (so the newest wins where attached artifacts overlap). */
  digests: string[];
  /** The manifest the reference names (the image, with fromReferrers). */
  subject: string;
  verified: boolean;
}

/**
 * What may be read, decided before anything is read: the reference's digest (signature-checked
 * against the trust policy), or with fromReferrers the policy artifacts attached to it — with a
 * policy, only the signed ones (unsigned or badly signed ones are skipped with a warning; none left is an error).
 */
export async function selectArtifacts(target: Target, display: string, reference: string, options: SelectOptions): Promise<SelectedArtifacts> {
  const verifier = options.verifier;
  const requireTrust = verifier ? (await import('./verify.ts')).requireTrust : undefined;
  const subject = await target.resolve(reference);
  const referrers = new ReferrersClient(target, options.mode ? { mode: options.mode } : {});
  if (!options.fromReferrers) {
    if (verifier) await requireTrust!(target, display, subject.digest, verifier, referrers);
    return { digests: [subject.digest], subject: subject.digest, verified: verifier !== undefined };
  }
  const attached = await referrers.list(subject, policyArtifactTypes());
  if (attached.length === 0) throw new PolicyOciError('NOT_FOUND', `no policy artifact is attached to ${atDigest(display, subject.digest)}`);
  const created = (d: (typeof attached)[number]) => d.annotations?.['org.opencontainers.image.created'] ?? '';
  const ordered = [...attached].sort((a, b) => compareCodeUnits(created(a), created(b)) || compareCodeUnits(a.digest, b.digest));
  if (!verifier) return { digests: ordered.map((d) => d.digest), subject: subject.digest, verified: false };
  const digests: string[] = [];
  for (const d of ordered) {
    try {
      await requireTrust!(target, display, d.digest, verifier, referrers);
      digests.push(d.digest);
    } catch (err) {
      if (!(err instanceof PolicyOciError) || err.code !== 'UNSAFE_CONTENT') throw err;
      options.onWarning?.(`skipped attached artifact ${d.digest}: ${err.message}`);
    }
  }
  if (digests.length === 0) throw new PolicyOciError('UNSAFE_CONTENT', `none of the ${attached.length} policy artifact(s) attached to ${atDigest(display, subject.digest)} is signed ${verifier.policy.keyless ? 'by that identity' : 'with the key'}; refused`);
  return { digests, subject: subject.digest, verified: true };
}

/**
 * Reads several artifacts (oldest first) into one set of policies: the same object twice is kept
 * once; where two artifacts hold different versions of one policy (kind, namespace, name), the
 * later artifact's wins, with a warning.
 */
export async function readArtifacts(target: Target, digests: string[], options: ReadOptions = {}): Promise<{ policies: FoundPolicy[]; warnings: string[]; recognised: boolean }> {
  const byId = new Map<string, { policy: FoundPolicy; yaml: string; from: string }>();
  const warnings: string[] = [];
  let recognised = false;
  for (const digest of digests) {
    const read = await readArtifact(target, digest, options);
    warnings.push(...read.warnings);
    recognised ||= read.manifests.some((m) => m.engine !== undefined);
    for (const p of read.policies) {
      const id = `${p.object.apiVersion.split('/')[0]}/${p.object.kind}/${p.object.metadata.namespace ?? ''}/${p.object.metadata.name}`;
      const yaml = p.canonical ?? stringifyCanonical(p.object);
      const before = byId.get(id);
      if (before && before.yaml !== yaml && before.from !== digest) warnings.push(`${p.object.kind} ${p.object.metadata.namespace ? `${p.object.metadata.namespace}/` : ''}${p.object.metadata.name}: taken from ${digest} (newer) over ${before.from}`);
      byId.set(id, { policy: p, yaml, from: digest });
    }
  }
  return { policies: [...byId.values()].map((v) => v.policy), warnings, recognised };
}
