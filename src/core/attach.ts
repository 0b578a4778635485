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

export interface ReadAttachedOptions {
  limits?: import('../artifact/limits.ts').ReadLimits;
  concurrency?: number;
  engines?: string[];
}

/**
 * Reads several artifacts (oldest first) into one set of policies: the same object twice is kept
 * once; where two artifacts hold different versions of one policy (kind, namespace, name), the
 * later artifact's wins, with a warning.
 */
export async function readArtifacts(target: Target, digests: string[], options: ReadAttachedOptions = {}): Promise<{ policies: import('../artifact/unpack.ts').FoundPolicy[]; warnings: string[] }> {
  const { readArtifact } = await import('../artifact/unpack.ts');
  const { stringifyCanonical } = await import('../policy/yaml.ts');
  const byId = new Map<string, { policy: import('../artifact/unpack.ts').FoundPolicy; yaml: string; from: string }>();
  const warnings: string[] = [];
  for (const digest of digests) {
    const read = await readArtifact(target, digest, { ...(options.limits ? { limits: options.limits } : {}), ...(options.concurrency ? { concurrency: options.concurrency } : {}) });
    warnings.push(...read.warnings);
    for (const p of read.policies) {
      if (options.engines?.length && !options.engines.includes(p.engine)) continue;
      const id = `${p.object.apiVersion.split('/')[0]}/${p.object.kind}/${p.object.metadata.namespace ?? ''}/${p.object.metadata.name}`;
      const yaml = p.canonical ?? stringifyCanonical(p.object);
      const before = byId.get(id);
      if (before && before.yaml !== yaml && before.from !== digest) warnings.push(`${p.object.kind} ${p.object.metadata.namespace ? `${p.object.metadata.namespace}/` : ''}${p.object.metadata.name}: taken from ${digest} (newer) over ${before.from}`);
      byId.set(id, { policy: p, yaml, from: digest });
    }
  }
  return { policies: [...byId.values()].map((v) => v.policy), warnings };
}

export interface PullAttachedSummary {
  reference: string;
  digest: string;
  artifacts: string[];
  verified: boolean;
  directory: string;
  files: import('./pull.ts').PulledFile[];
  warnings: string[];
}

/** pull --from-referrers / --verify-key: reads the selected artifacts whole, then writes all files at once. */
export async function pullSelected(
  target: Target,
  display: string,
  selected: { digests: string[]; subject: string; verified: boolean },
  options: ReadAttachedOptions & { dir: string; force?: boolean },
): Promise<PullAttachedSummary> {
  const { writePolicies } = await import('./pull.ts');
  const read = await readArtifacts(target, selected.digests, options);
  return {
    reference: display,
    digest: selected.subject,
    artifacts: selected.digests,
    verified: selected.verified,
    directory: options.dir,
    files: await writePolicies(options.dir, read.policies, options.force ?? false),
    warnings: read.warnings,
  };
}

/** apply --from-referrers / --verify-key: reads the selected artifacts whole, then applies. */
export async function applySelected(
  target: Target,
  display: string,
  selected: { digests: string[]; subject: string },
  client: import('../kube/client.ts').KubeClient,
  options: import('./apply.ts').ApplyArtifactOptions,
): Promise<import('./apply.ts').ApplySummary> {
  const [{ applyObjects, summarise }, { hasFailures }] = await Promise.all([import('./apply.ts'), import('../kube/apply.ts')]);
  const read = await readArtifacts(target, selected.digests, { ...(options.limits ? { limits: options.limits } : {}), ...(options.engines ? { engines: options.engines } : {}) });
  for (const w of read.warnings) process.stderr.write(`Warning: ${w}\n`);
  const results = await applyObjects(client, read.policies.map((p) => p.object), options);
  return { reference: display, digest: selected.subject, context: client.contextName, server: client.server, dryRun: options.dryRun, results, counts: summarise(results), failed: hasFailures(results) };
}
