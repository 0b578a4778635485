// attach: push policies as artifacts whose `subject` is an image's manifest, so they travel with
// the image they protect (one manifest per engine, each a referrer of the image). Every document
// is read and validated before anything is sent, as push does.
import type { KeyObject } from 'node:crypto';
import { packPolicies } from '../artifact/pack.ts';
import { ANNOTATION_CREATED, KYVERNO_BUNDLE_CONFIG } from '../oci/mediatypes.ts';
import type { Descriptor } from '../oci/types.ts';
import type { Target } from '../content/types.ts';
import { loadEngines } from '../engines/index.ts';
import { ReferrersClient, type ReferrersMode } from '../referrers/client.ts';
import { mapLimit } from '../util/concurrency.ts';
import { preparePush, type PushInput } from './push.ts';

export interface AttachOptions extends PushInput {
  mode?: ReferrersMode;
  concurrency?: number;
  /** Sign each attached artifact with this key (cosign format), and where to say it lives. */
  sign?: { key: KeyObject; dockerReference: string };
  /** Fixed creation time (RFC 3339); default now. Set `--annotation org.opencontainers.image.created=` to override. */
  now?: Date;
}

export interface AttachedArtifact {
  engine: string;
  digest: string;
  artifactType: string;
  policies: number;
  indexedBy: 'api' | 'tag';
  indexTag?: string;
  signatureTag?: string;
}

export interface AttachSummary {
  image: string;
  subject: Descriptor;
  artifacts: AttachedArtifact[];
  blobsUploaded: number;
  warnings: string[];
}

/** Config media types of policy artifacts: what `discover`/`pull --from-referrers` look for. */
export function policyArtifactTypes(): string[] {
  return [...loadEngines().map((e) => e.mediaTypes.config), KYVERNO_BUNDLE_CONFIG];
}

export async function attachPolicies(target: Target, display: string, reference: string, options: AttachOptions): Promise<AttachSummary> {
  const subject = await target.resolve(reference);
  const given = { [ANNOTATION_CREATED]: (options.now ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z'), ...(options.annotations ?? {}) };
  // An empty created annotation means "none" (a reproducible digest).
  const annotations = Object.fromEntries(Object.entries(given).filter(([k, v]) => !(k === ANNOTATION_CREATED && v === '')));
  const prepared = await preparePush({ ...options, annotations });
  const packed = packPolicies(prepared.documents, loadEngines(), { bundle: options.bundle ?? false, annotations, subject });
  const referrers = new ReferrersClient(target, options.mode ? { mode: options.mode } : {});
  let uploaded = 0;
  await mapLimit(packed.manifests.flatMap((m) => m.blobs), options.concurrency ?? 8, async (blob) => {
    if (await target.pushBlob(blob.descriptor, blob.content)) uploaded++;
  });
  const artifacts: AttachedArtifact[] = [];
  for (const m of packed.manifests) {
    const pushed = await referrers.push(m.descriptor, m.content);
    const entry: AttachedArtifact = { engine: m.engine, digest: m.descriptor.digest, artifactType: m.manifest.config.mediaType, policies: m.policies.length, indexedBy: pushed.indexedBy };
    if (pushed.indexTag) entry.indexTag = pushed.indexTag;
    if (options.sign) {
      const { signManifest } = await import('../signing/cosign.ts');
      const signed = await signManifest(target, m.descriptor, options.sign.key, referrers, { dockerReference: options.sign.dockerReference });
      entry.signatureTag = signed.signatureTag;
    }
    artifacts.push(entry);
  }
  return { image: display, subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size }, artifacts, blobsUploaded: uploaded, warnings: prepared.warnings };
}
