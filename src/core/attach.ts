// attach: push policies as artifacts whose `subject` is an image's manifest, so they travel with
// the image they protect (one manifest per engine, each a referrer of the image). Every document
// is read and validated before anything is sent, as push does; each artifact goes up through
// copyGraph and is indexed as a referrer (the registry's API, or the tag schema).
import { stagePacked } from '../artifact/publish.ts';
import { copyGraph, CopySession } from '../content/copy.ts';
import { openTarget, type StoreOptions } from '../content/open.ts';
import { loadEngines } from '../engines/index.ts';
import { PolicyOciError } from '../errors.ts';
import { ANNOTATION_CREATED, KYVERNO_BUNDLE_CONFIG } from '../oci/mediatypes.ts';
import type { Descriptor } from '../oci/types.ts';
import { ReferrersClient, type PushReferrerResult, type ReferrersMode } from '../referrers/client.ts';
import { preparePush } from './push.ts';
import { silentReporter, type Reporter } from './reporter.ts';
import type { SignatureFormat } from './sign.ts';

export interface AttachOptions {
  /** The image (tag or digest) the policies protect; with `store.ociLayout` a layout `DIR:tag` or `DIR@digest`. */
  reference: string;
  store: StoreOptions;
  /** Policy files or directories; "-" reads `readStdin`. */
  paths: string[];
  readStdin?: () => Promise<string>;
  /** One tar+gzip layer per engine instead of one layer per policy. */
  bundle?: boolean;
  /** Manifest annotations; `org.opencontainers.image.created` defaults to now, and "" means none. */
  annotations?: Record<string, string>;
  /** Do not check policies against their CRD schemas. */
  skipValidation?: boolean;
  /** Also sign each attached artifact with this key (cosign.key, password in $COSIGN_PASSWORD, or PEM). */
  signKeyPath?: string;
  /** Format of those signatures (as sign: default 'sigstore-bundle'); only with signKeyPath. */
  signFormat?: SignatureFormat;
  referrersMode?: ReferrersMode;
  concurrency?: number;
}

export interface AttachedArtifact {
  engine: string;
  digest: string;
  artifactType: string;
  policies: number;
  indexedBy: 'api' | 'tag';
  indexTag?: string;
  /** When signed (--sign-key): the format, and the manifest holding the signature. */
  signatureFormat?: SignatureFormat;
  signature?: string;
  /** cosign-simplesigning: the `sha256-<hex>.sig` tag. */
  signatureTag?: string;
}

export interface AttachResult {
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

/** The user's annotations, with the creation time (now) unless given; an empty one means none (a reproducible digest). */
function withCreated(annotations: Record<string, string> = {}): Record<string, string> {
  const given = { [ANNOTATION_CREATED]: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'), ...annotations };
  return Object.fromEntries(Object.entries(given).filter(([k, v]) => !(k === ANNOTATION_CREATED && v === '')));
}

export async function attachPolicies(options: AttachOptions, reporter: Reporter = silentReporter): Promise<AttachResult> {
  if (options.signFormat && !options.signKeyPath) throw new PolicyOciError('USAGE', '--new-bundle-format chooses the format of the signatures --sign-key writes: give --sign-key, or leave it out');
  const opened = await openTarget(options.reference, options.store, { push: false });
  // A wrong key or password stops here, before the registry is contacted.
  const key = options.signKeyPath ? await (await import('../signing/keys.ts')).loadPrivateKey(options.signKeyPath) : undefined;
  const subject = await opened.target.resolve(opened.reference);
  // Read, validated and packed as push does, with the image as the manifests' subject.
  const prepared = await preparePush({ ...options, annotations: withCreated(options.annotations), subject }, reporter);
  const { packed, warnings } = prepared;
  const staged = stagePacked(packed);
  const referrers = new ReferrersClient(opened.target, options.referrersMode ? { mode: options.referrersMode } : {});
  const session = new CopySession();
  const signing = key ? { key, dockerReference: (await import('../signing/identity.ts')).signingIdentity(opened) } : undefined;
  let blobsUploaded = 0;
  const artifacts: AttachedArtifact[] = [];
  for (const m of packed.manifests) {
    let pushed: PushReferrerResult | undefined;
    const copied = await copyGraph(staged, opened.target, m.descriptor, {
      ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
      session,
      onBlob: (done, total) => reporter.progress(`Attaching ${m.engine} policies to ${opened.display}: ${done}/${total} blobs`),
      pushReferrer: async (desc, content, tag) => {
        pushed = await referrers.push(desc, content, tag);
      },
    });
    blobsUploaded += copied.blobsCopied;
    if (!pushed) throw new Error(`attach: the ${m.engine} manifest was not pushed as a referrer`);
    const entry: AttachedArtifact = { engine: m.engine, digest: m.descriptor.digest, artifactType: m.manifest.config.mediaType, policies: m.policies.length, indexedBy: pushed.indexedBy };
    if (pushed.indexTag) entry.indexTag = pushed.indexTag;
    if (signing) {
      reporter.progress(`Signing ${m.descriptor.digest.slice(0, 19)}`);
      const { signDescriptor } = await import('./sign.ts');
      // As sign: a Sigstore bundle unless the legacy format is asked for.
      const signed = await signDescriptor(opened.target, m.descriptor, signing.key, referrers, { format: options.signFormat ?? 'sigstore-bundle', dockerReference: signing.dockerReference });
      entry.signatureFormat = signed.format;
      entry.signature = signed.signatureManifest;
      if (signed.signatureTag) entry.signatureTag = signed.signatureTag;
    }
    artifacts.push(entry);
  }
  return { image: opened.display, subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size }, artifacts, blobsUploaded, warnings };
}
