// Key-based signatures as cosign v3 writes them by default (`cosign sign --key … --tlog-upload=false`):
//  - a Sigstore bundle v0.3 whose content is a DSSE envelope (payload type
//    application/vnd.in-toto+json) over an in-toto statement v1: one subject, the signed manifest's
//    digest, carrying the signed annotations (`sign -a`); predicate type
//    https://sigstore.dev/cosign/sign/v1 and an empty predicate;
//  - verification material: the public key's hint (base64 SHA-256 of its SPKI DER, as cosign
//    writes it); no transparency-log entry and no timestamp (there is no Rekor here), so cosign
//    verifies it with `--insecure-ignore-tlog`;
//  - stored as an OCI 1.1 referrer of the signed manifest: artifactType and the one layer's media
//    type application/vnd.dev.sigstore.bundle.v0.3+json, the empty config, the annotations cosign
//    sets (content, predicate type, creation time); indexed by the referrers API or, without one,
//    by the `sha256-<hex>` tag-schema index (ReferrersClient.push).
// The bundle is built and serialised by @sigstore/bundle; DSSE's pre-authentication encoding is
// @sigstore/core's; the signature is node:crypto's (keys.ts).
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { BUNDLE_V03_MEDIA_TYPE, bundleToJSON, toDSSEBundle } from '@sigstore/bundle';
import { dsse } from '@sigstore/core';
import { describe as describeBlob } from '../oci/digest.ts';
import { jsonBytes } from '../oci/manifest.ts';
import { ANNOTATION_CREATED, OCI_EMPTY, OCI_MANIFEST } from '../oci/mediatypes.ts';
import type { Descriptor, ImageManifest } from '../oci/types.ts';
import type { Target } from '../content/types.ts';
import { PolicyOciError } from '../errors.ts';
import type { ReferrersClient } from '../referrers/client.ts';
import { signPayload } from './keys.ts';
import { compareCodeUnits } from '../util/compare.ts';

/** Media type of the bundle layer and artifactType of its referrer manifest. */
export const SIGSTORE_BUNDLE_ARTIFACT_TYPE = BUNDLE_V03_MEDIA_TYPE;
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
export const IN_TOTO_STATEMENT_V1 = 'https://in-toto.io/Statement/v1';
/** What `cosign sign` states about an image: the predicate type of its signature statements. */
export const COSIGN_SIGN_PREDICATE_TYPE = 'https://sigstore.dev/cosign/sign/v1';
/** Manifest annotations cosign sets on a bundle referrer. */
export const BUNDLE_CONTENT_ANNOTATION = 'dev.sigstore.bundle.content';
export const BUNDLE_PREDICATE_TYPE_ANNOTATION = 'dev.sigstore.bundle.predicateType';

/** The in-toto statement v1 (the fields cosign writes; the spec has no JS type in sigstore-js). */
export interface InTotoStatement {
  _type: string;
  subject: Array<{ name?: string; digest: Record<string, string>; annotations?: Record<string, unknown> }>;
  predicateType: string;
  predicate: Record<string, unknown>;
}

export interface SignBundleOptions {
  /** Signed annotations: the statement subject's annotations (where cosign v3 puts `sign -a`). */
  annotations?: Record<string, string>;
  /** org.opencontainers.image.created of the referrer (default: now, to the second). */
  created?: string;
}

export interface SignedBundle {
  /** Digest of the referrer manifest holding the bundle. */
  manifest: string;
  /** Digest of the bundle blob (its one layer). */
  bundleDigest: string;
  indexedBy: 'api' | 'tag';
  /** The tag-schema index that lists it, when the registry has no referrers API. */
  indexTag?: string;
}

/** The public key's hint in a bundle: base64 SHA-256 of its DER SubjectPublicKeyInfo. */
export function publicKeyHint(key: KeyObject): string {
  const spki = (key.type === 'private' ? createPublicKey(key) : key).export({ format: 'der', type: 'spki' });
  return createHash('sha256').update(spki).digest('base64');
}

export function signStatement(subjectDigest: string, annotations: Record<string, string> = {}): InTotoStatement {
  const at = subjectDigest.indexOf(':');
  if (at < 1) throw new PolicyOciError('DIGEST_MISMATCH', `malformed digest "${subjectDigest.slice(0, 80)}"`);
  const sorted = Object.fromEntries(Object.entries(annotations).sort(([a], [b]) => compareCodeUnits(a, b)));
  return {
    _type: IN_TOTO_STATEMENT_V1,
    subject: [{ digest: { [subjectDigest.slice(0, at)]: subjectDigest.slice(at + 1) }, annotations: sorted }],
    predicateType: COSIGN_SIGN_PREDICATE_TYPE,
    predicate: {},
  };
}

/** The bundle JSON (bytes) signing `subjectDigest` with `key`. */
export function buildSignatureBundle(key: KeyObject, subjectDigest: string, annotations?: Record<string, string>): Buffer {
  const payload = jsonBytes(signStatement(subjectDigest, annotations));
  const signature = signPayload(key, dsse.preAuthEncoding(IN_TOTO_PAYLOAD_TYPE, payload));
  const bundle = toDSSEBundle({ artifact: payload, artifactType: IN_TOTO_PAYLOAD_TYPE, signature, keyHint: publicKeyHint(key) });
  // cosign leaves the envelope signature's keyid empty (the hint is in the verification material).
  for (const sig of bundle.content.dsseEnvelope.signatures) sig.keyid = '';
  return jsonBytes(bundleToJSON(bundle));
}

function createdNow(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Signs `subject` and pushes the bundle as its referrer. */
export async function signManifestBundle(target: Target, subject: Descriptor, key: KeyObject, referrers: ReferrersClient, options: SignBundleOptions = {}): Promise<SignedBundle> {
  const bundle = buildSignatureBundle(key, subject.digest, options.annotations);
  const layer = describeBlob(SIGSTORE_BUNDLE_ARTIFACT_TYPE, bundle);
  const config = Buffer.from('{}');
  const configDesc = describeBlob(OCI_EMPTY, config);
  await target.pushBlob(configDesc, config);
  await target.pushBlob(layer, bundle);
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    artifactType: SIGSTORE_BUNDLE_ARTIFACT_TYPE,
    config: configDesc,
    layers: [layer],
    subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
    annotations: {
      [BUNDLE_CONTENT_ANNOTATION]: 'dsse-envelope',
      [BUNDLE_PREDICATE_TYPE_ANNOTATION]: COSIGN_SIGN_PREDICATE_TYPE,
      [ANNOTATION_CREATED]: options.created ?? createdNow(),
    },
  };
  const content = jsonBytes(manifest);
  const desc = describeBlob(OCI_MANIFEST, content);
  const pushed = await referrers.push(desc, content);
  return { manifest: desc.digest, bundleDigest: layer.digest, indexedBy: pushed.indexedBy, ...(pushed.indexTag ? { indexTag: pushed.indexTag } : {}) };
}
