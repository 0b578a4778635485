// sign: a cosign-compatible, key-based signature of a manifest (a policy artifact or an image), in
// one of the two formats cosign writes:
//  - 'sigstore-bundle' (the default, as cosign v3's): a Sigstore bundle v0.3 pushed as an OCI 1.1
//    referrer of the manifest (referrers API, or the sha256-<hex> tag-schema index);
//  - 'cosign-simplesigning' (cosign v2's, `--new-bundle-format=false`): the `sha256-<hex>.sig`
//    image and, where the registry has the referrers API, also an OCI 1.1 signature referrer.
import type { KeyObject } from 'node:crypto';
import { openTarget, type StoreOptions } from '../content/open.ts';
import type { Target } from '../content/types.ts';
import { PolicyOciError } from '../errors.ts';
import type { Descriptor } from '../oci/types.ts';
import { ReferrersClient, type ReferrersMode } from '../referrers/client.ts';
import { signManifestBundle } from '../signing/bundle-sign.ts';
import { signManifest } from '../signing/cosign.ts';
import { signingIdentity } from '../signing/identity.ts';
import { loadPrivateKey } from '../signing/keys.ts';
import { silentReporter, type Reporter } from './reporter.ts';

export type SignatureFormat = 'sigstore-bundle' | 'cosign-simplesigning';
export const DEFAULT_SIGNATURE_FORMAT: SignatureFormat = 'sigstore-bundle';

export interface SignOptions {
  reference: string;
  store: StoreOptions;
  /** cosign.key (password in $COSIGN_PASSWORD) or a PEM private key. */
  keyPath: string;
  /** Default 'sigstore-bundle'. */
  format?: SignatureFormat;
  /** Signed annotations (bundle: the statement subject's annotations; simple signing: the payload's "optional"). */
  annotations?: Record<string, string>;
  /** cosign-simplesigning only: also write an OCI 1.1 signature referrer where the registry has the API (default true). A bundle is always a referrer. */
  referrer?: boolean;
  referrersMode?: ReferrersMode;
}

/** One signature written, in either format. */
export interface WrittenSignature {
  /** The signed manifest's digest. */
  digest: string;
  format: SignatureFormat;
  /** The manifest holding the signature: the bundle referrer, or the `.sig` image. */
  signatureManifest: string;
  /** False when an identical signature was already there (simple signing; a bundle is always new). */
  added: boolean;
  /** sigstore-bundle: the bundle's version and content. */
  bundleVersion?: 'v0.3';
  content?: 'dsse';
  /** Digest of the referrer manifest, when the signature was stored as one. */
  referrer?: string;
  /** How that referrer was indexed: the registry's API, or the tag schema (indexTag). */
  indexedBy?: 'api' | 'tag';
  indexTag?: string;
  /** cosign-simplesigning: the `sha256-<hex>.sig` tag. */
  signatureTag?: string;
}

export interface SignResult extends WrittenSignature {
  reference: string;
}

export interface SignDigestOptions {
  format: SignatureFormat;
  /** simple signing: docker-reference in the payload. */
  dockerReference: string;
  annotations?: Record<string, string>;
  referrer?: boolean;
}

/** A combination that cannot mean anything is refused before anything is read or written. */
export function checkSignOptions(format: SignatureFormat, referrer: boolean | undefined): void {
  if (format === 'sigstore-bundle' && referrer === false) {
    throw new PolicyOciError('USAGE', '--no-referrer applies to the legacy format (--new-bundle-format=false): a Sigstore bundle is always stored as a referrer');
  }
}

/** Signs the manifest `subject` of `target` with `key` in `options.format` (sign and attach --sign-key). */
export async function signDescriptor(target: Target, subject: Descriptor, key: KeyObject, referrers: ReferrersClient, options: SignDigestOptions): Promise<WrittenSignature> {
  const annotations = options.annotations && Object.keys(options.annotations).length > 0 ? options.annotations : undefined;
  if (options.format === 'sigstore-bundle') {
    const b = await signManifestBundle(target, subject, key, referrers, annotations ? { annotations } : {});
    return {
      digest: subject.digest,
      format: 'sigstore-bundle',
      bundleVersion: 'v0.3',
      content: 'dsse',
      signatureManifest: b.manifest,
      added: true,
      referrer: b.manifest,
      indexedBy: b.indexedBy,
      ...(b.indexTag ? { indexTag: b.indexTag } : {}),
    };
  }
  const s = await signManifest(target, subject, key, referrers, {
    dockerReference: options.dockerReference,
    ...(options.referrer === false ? { referrer: false } : {}),
    ...(annotations ? { annotations } : {}),
  });
  return {
    digest: s.digest,
    format: 'cosign-simplesigning',
    signatureTag: s.signatureTag,
    signatureManifest: s.signatureManifest,
    added: s.added,
    ...(s.referrer ? { referrer: s.referrer, indexedBy: 'api' as const } : {}),
  };
}

export async function signReference(options: SignOptions, reporter: Reporter = silentReporter): Promise<SignResult> {
  const format = options.format ?? DEFAULT_SIGNATURE_FORMAT;
  checkSignOptions(format, options.referrer);
  const opened = await openTarget(options.reference, options.store, { push: false });
  // Before the registry is contacted: a wrong password writes nothing.
  const key = await loadPrivateKey(options.keyPath);
  const referrers = new ReferrersClient(opened.target, options.referrersMode ? { mode: options.referrersMode } : {});
  reporter.progress(`Signing ${opened.display}`);
  const subject = await opened.target.resolve(opened.reference);
  const signed = await signDescriptor(opened.target, subject, key, referrers, {
    format,
    dockerReference: signingIdentity(opened),
    ...(options.referrer === false ? { referrer: false } : {}),
    ...(options.annotations ? { annotations: options.annotations } : {}),
  });
  return { reference: opened.display, ...signed };
}
