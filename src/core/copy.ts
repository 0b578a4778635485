// copy: an artifact (or image) from one store to another — registry or OCI image layout, either
// side — byte for byte, so digests and therefore signatures stay valid. With includeReferrers the
// artifacts that refer to it travel too (attached policies, OCI 1.1 signatures, recursively) and
// cosign's `sha256-<hex>.sig/.att/.sbom` tags: what an air-gapped transfer needs.
// Each graph goes through copyGraph (blobs, child manifests, the root, tags last); referrers are
// copied after their subject and indexed on the destination the way it supports (API or tag schema).
import { addCounters, copyGraph, CopySession, type CopyCounters, type CopyGraphResult } from '../content/copy.ts';
import { openTarget, parseLayoutReference, type StoreOptions } from '../content/open.ts';
import { resolveOptional } from '../content/resolve.ts';
import { PolicyOciError } from '../errors.ts';
import { isManifestType } from '../oci/manifest.ts';
import type { Descriptor } from '../oci/types.ts';
import { parseReference } from '../reference/reference.ts';
import { ReferrersClient, type ReferrersMode } from '../referrers/client.ts';
import { cosignTag, referrerDescriptor } from '../referrers/tagschema.ts';
import { type TrustedRootUsed, type TrustPolicy, TrustVerifier } from '../signing/trust.ts';
import { silentReporter, type Reporter } from './reporter.ts';
import { requireTrust, trustPolicyOf, warnShippedRoot } from './verify.ts';

export interface CopyOptions {
  /** A registry reference, or with `sourceStore.ociLayout` a layout `DIR:tag` or `DIR@digest`. */
  source: string;
  sourceStore: StoreOptions;
  /** Where to: without a tag the source's tag is kept (a source named by digest only is copied untagged). */
  destination: string;
  destinationStore: StoreOptions;
  /** Also copy the referrers (attached policies, signatures) and cosign's .sig/.att/.sbom tags, recursively. */
  includeReferrers?: boolean;
  /** How referrers are listed and indexed on a registry side (a layout always uses the tag schema). */
  referrersMode?: ReferrersMode;
  concurrency?: number;
  /** Copy only a source a signature satisfying this policy covers (checked before anything is written). */
  trust?: TrustPolicy;
}

export interface CopiedReferrer {
  digest: string;
  subject: string;
  artifactType?: string;
  /** For cosign's tag-based signatures: the tag. */
  tag?: string;
}

export interface CopyResult extends CopyCounters {
  source: string;
  destination: string;
  digest: string;
  mediaType: string;
  tags: string[];
  referrers: CopiedReferrer[];
  /** True when the source's signature was checked (trust policy given) and satisfied it. */
  verified: boolean;
  /** The Sigstore trusted root used, when a signature needed one. */
  trustedRoot?: TrustedRootUsed;
}

const COSIGN_SUFFIXES = ['sig', 'att', 'sbom'] as const;
/** Referrers of referrers are followed this deep. */
const MAX_REFERRER_DEPTH = 8;

export async function copyArtifact(options: CopyOptions, reporter: Reporter = silentReporter): Promise<CopyResult> {
  const src = await openTarget(options.source, options.sourceStore, { push: false });
  const named = options.destinationStore.ociLayout ? parseLayoutReference(options.destination) : parseReference(options.destination);
  if (named.digest) throw new PolicyOciError('USAGE', `copy writes tags; the destination takes no digest: ${options.destination}`);
  const modeFor = (store: StoreOptions) => (options.referrersMode && !store.ociLayout ? { mode: options.referrersMode } : {});
  const srcReferrers = new ReferrersClient(src.target, modeFor(options.sourceStore));

  // With a trust policy, the source's signature is checked first: nothing is written unless it holds.
  const policy = trustPolicyOf(options);
  const verifier = policy ? new TrustVerifier(policy) : undefined;
  const root = await src.target.resolve(src.reference);
  if (verifier) {
    reporter.progress(`Checking the signatures of ${src.display}`);
    try {
      await requireTrust(src.target, src.display, root.digest, verifier, srcReferrers);
    } finally {
      warnShippedRoot(verifier, reporter);
    }
  }
  const dst = await openTarget(options.destination, options.destinationStore, { push: true });
  // No tag named: keep the source's (a digest-only source is copied untagged).
  const tags = named.tags.length > 0 ? named.tags : src.digest === undefined ? [src.reference] : [];

  const dstReferrers = new ReferrersClient(dst.target, modeFor(options.destinationStore));
  const pushReferrer = async (desc: Descriptor, content: Buffer, tag?: string): Promise<void> => {
    await dstReferrers.push(desc, content, tag);
  };
  const session = new CopySession();
  const totals: CopyCounters = { manifests: 0, blobsCopied: 0, blobsSkipped: 0, bytesCopied: 0 };

  /** One graph; manifests with a subject are indexed as referrers on the destination unless `plain`. */
  const copy = async (desc: Descriptor, graph: { tags?: string[]; plain?: boolean; expectSubject?: string } = {}): Promise<CopyGraphResult> => {
    const copied = await copyGraph(src.target, dst.target, desc, {
      ...(graph.tags ? { tags: graph.tags } : {}),
      ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
      session,
      onBlob: (done, total) => reporter.progress(`Copying ${desc.digest.slice(0, 19)} to ${dst.display}: ${done}/${total} blobs`),
      ...(graph.plain ? {} : { pushReferrer }),
      ...(options.sourceStore.maxManifestBytes !== undefined ? { maxManifestBytes: options.sourceStore.maxManifestBytes } : {}),
      // A registry that lists a referrer whose subject is elsewhere is not trusted blindly.
      ...(graph.expectSubject
        ? {
            checkRoot: (manifest) => {
              if (manifest.subject?.digest !== graph.expectSubject) throw new PolicyOciError('UNSAFE_CONTENT', `${src.display}: referrer ${desc.digest} does not name ${graph.expectSubject} as its subject`);
            },
          }
        : {}),
    });
    addCounters(totals, copied);
    return copied;
  };

  const referrers: CopiedReferrer[] = [];
  /** Referrers of `subject` and cosign's tags next to it, recursively. */
  const copyReferrersOf = async (subject: Descriptor, depth: number): Promise<void> => {
    if (depth > MAX_REFERRER_DEPTH) return;
    for (const r of await srcReferrers.list({ digest: subject.digest })) {
      if (session.manifests.has(r.digest)) continue;
      const { manifest } = await copy(r, { expectSubject: subject.digest });
      const entry: CopiedReferrer = { digest: r.digest, subject: subject.digest };
      const artifactType = referrerDescriptor(r, manifest).artifactType;
      if (artifactType) entry.artifactType = artifactType;
      referrers.push(entry);
      await copyReferrersOf(r, depth + 1);
    }
    for (const suffix of COSIGN_SUFFIXES) {
      const tag = cosignTag(subject.digest, suffix);
      const desc = await resolveOptional(src.target, tag);
      if (!desc) continue;
      await copy(desc, { tags: [tag], plain: true });
      referrers.push({ digest: desc.digest, subject: subject.digest, tag });
    }
  };

  reporter.progress(`Copying ${src.display} to ${dst.display}`);
  // A root that is itself a referrer (an attached artifact copied by digest) is indexed too.
  const { manifest } = await copy(root, { tags });
  if (options.includeReferrers) {
    reporter.progress(`Copying the referrers of ${root.digest.slice(0, 19)}`);
    await copyReferrersOf(root, 0);
    // Referrers of an index's children (per-platform signatures, per-engine policies) too.
    for (const child of Array.isArray(manifest.manifests) ? manifest.manifests : []) if (isManifestType(child.mediaType)) await copyReferrersOf(child, 0);
  }
  return {
    source: src.display,
    destination: dst.repository,
    digest: root.digest,
    mediaType: root.mediaType,
    tags,
    ...totals,
    referrers,
    verified: verifier !== undefined,
    ...(verifier?.trustedRoot ? { trustedRoot: verifier.trustedRoot } : {}),
  };
}
