// cosign's legacy simple-signing signatures of any manifest (policy artifacts, images), key-based
// (what `sign --new-bundle-format=false` writes; the default bundle is bundle-sign.ts):
//  - written as cosign v2 writes them by default: an OCI image tagged `sha256-<hex>.sig` next to the
//    signed manifest, one layer per signature (media type simplesigning, the payload as the blob,
//    the base64 signature in the layer annotation `dev.cosignproject.cosign/signature`); a new
//    signature is appended to the layers already there;
//  - and, where the registry has the referrers API, also as cosign's OCI 1.1 referrer
//    (artifactType application/vnd.dev.cosign.artifact.sig.v1+json, subject = the signed manifest).
// Reading accepts both. A signature counts only when it verifies with the key AND its payload
// names the very digest being checked; docker-reference is not compared (as cosign does not), so
// signatures stay valid after a copy to another registry.
import type { KeyObject } from 'node:crypto';
import { describe as describeBlob } from '../oci/digest.ts';
import { OCI_IMAGE_CONFIG, OCI_MANIFEST } from '../oci/mediatypes.ts';
import { MAX_MANIFEST_BYTES } from '../oci/limits.ts';
import { jsonBytes } from '../oci/manifest.ts';
import type { Descriptor, ImageManifest } from '../oci/types.ts';
import type { Target } from '../content/types.ts';
import { PolicyOciError } from '../errors.ts';
import type { ReferrersClient } from '../referrers/client.ts';
import { cosignTag } from '../referrers/tagschema.ts';
import { signPayload, verifyPayload } from './keys.ts';
import { BUNDLE_ANNOTATION, buildPayload, CERTIFICATE_ANNOTATION, CHAIN_ANNOTATION, COSIGN_SIG_ARTIFACT_TYPE, parsePayload, SIGNATURE_ANNOTATION, SIMPLE_SIGNING_MEDIA_TYPE } from './simplesigning.ts';
import { resolveOptional } from '../content/resolve.ts';

const MAX_PAYLOAD = 256 * 1024;
const MAX_SIGNATURES = 500;
const ZERO_TIME = '0001-01-01T00:00:00Z';

export interface SignManifestOptions {
  /** docker-reference in the payload (the repository, as cosign writes it). */
  dockerReference: string;
  /** Also push an OCI 1.1 signature referrer when the registry has the referrers API (default true). */
  referrer?: boolean;
  annotations?: Record<string, string>;
}

export interface SignedManifest {
  digest: string;
  signatureTag: string;
  signatureManifest: string;
  /** Digest of the OCI 1.1 referrer, when one was pushed. */
  referrer?: string;
  /** False when an identical signature was already there. */
  added: boolean;
}

/** The image config cosign's signature images carry (go-containerregistry's, one diff_id per layer). */
function signatureConfig(layers: Descriptor[]): Buffer {
  return jsonBytes({
    architecture: '',
    created: ZERO_TIME,
    history: layers.map(() => ({ created: ZERO_TIME })),
    os: '',
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
    config: {},
  });
}

async function fetchManifest(target: Target, desc: Descriptor): Promise<ImageManifest> {
  if (desc.size > MAX_MANIFEST_BYTES) throw new PolicyOciError('LIMIT', `signature manifest ${desc.digest} is ${desc.size} bytes`);
  const parsed = JSON.parse((await target.fetch(desc)).toString('utf8')) as ImageManifest;
  if (!parsed || !Array.isArray(parsed.layers)) throw new PolicyOciError('UNSAFE_CONTENT', `signature manifest ${desc.digest} has no layers`);
  return parsed;
}

export async function signManifest(target: Target, subject: Descriptor, key: KeyObject, referrers: ReferrersClient, options: SignManifestOptions): Promise<SignedManifest> {
  const payload = buildPayload(options.dockerReference, subject.digest, options.annotations);
  const signature = signPayload(key, payload).toString('base64');
  const layer = describeBlob(SIMPLE_SIGNING_MEDIA_TYPE, payload, { [SIGNATURE_ANNOTATION]: signature });
  await target.pushBlob(layer, payload);

  // The .sig tag: append to what is there (re-checked just before the PUT).
  const tag = cosignTag(subject.digest, 'sig');
  let added = false;
  let manifestDigest = '';
  for (let attempt = 1; ; attempt++) {
    const current = await resolveOptional(target, tag);
    const existing = current ? (await fetchManifest(target, current)).layers : [];
    if (existing.some((l) => l.digest === layer.digest && l.annotations?.[SIGNATURE_ANNOTATION] === signature)) {
      manifestDigest = current!.digest;
      break;
    }
    const layers = [...existing, layer];
    const config = signatureConfig(layers);
    const configDesc = describeBlob(OCI_IMAGE_CONFIG, config);
    await target.pushBlob(configDesc, config);
    const manifest: ImageManifest = { schemaVersion: 2, mediaType: OCI_MANIFEST, config: configDesc, layers };
    const content = jsonBytes(manifest);
    const desc = describeBlob(OCI_MANIFEST, content);
    if ((await resolveOptional(target, tag))?.digest !== current?.digest) {
      if (attempt >= 10) throw new PolicyOciError('REGISTRY', `${target.name}:${tag} keeps changing under concurrent signers`);
      continue;
    }
    await target.pushManifest(desc, content, tag);
    added = true;
    manifestDigest = desc.digest;
    break;
  }
  const result: SignedManifest = { digest: subject.digest, signatureTag: tag, signatureManifest: manifestDigest, added };

  // OCI 1.1: the same signature as a referrer, where the registry indexes subjects itself.
  if (options.referrer !== false && (await referrers.usesApi())) {
    const config = signatureConfig([layer]);
    const configDesc = describeBlob(COSIGN_SIG_ARTIFACT_TYPE, config);
    await target.pushBlob(configDesc, config);
    const manifest = { schemaVersion: 2, mediaType: OCI_MANIFEST, config: configDesc, layers: [layer], subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size }, artifactType: COSIGN_SIG_ARTIFACT_TYPE };
    const content = jsonBytes(manifest);
    const desc = describeBlob(OCI_MANIFEST, content);
    await referrers.push(desc, content);
    result.referrer = desc.digest;
  }
  return result;
}

export interface FoundSignature {
  /** Where it was found: the cosign tag, or a referrer manifest. */
  source: 'tag' | 'referrer';
  manifest: string;
  layer: string;
  /** Size of the payload blob, as the signature manifest declares it. */
  size: number;
  signature: string;
  /** Keyless (cosign v2): the Fulcio certificate (PEM), its chain, the Rekor bundle (JSON), from the layer's annotations. */
  certificate?: string;
  chain?: string;
  rekorBundle?: string;
}

export interface CheckedSignature extends FoundSignature {
  valid: boolean;
  /** When it does not count: the check that failed, and why. */
  failedCheck?: 'signature' | 'artifact-digest';
  reason?: string;
  dockerReference?: string;
  /** The payload's signed annotations (`sign --annotation`), when it has any. */
  annotations?: Record<string, unknown>;
}

/** Every cosign signature layer of `digest`: from its `.sig` tag and from its signature referrers. */
export async function findSignatures(target: Target, digest: string, referrers: ReferrersClient): Promise<FoundSignature[]> {
  const found: FoundSignature[] = [];
  const collect = (source: FoundSignature['source'], manifestDigest: string, layers: Descriptor[]) => {
    for (const l of layers) {
      const signature = l.annotations?.[SIGNATURE_ANNOTATION];
      if (l.mediaType !== SIMPLE_SIGNING_MEDIA_TYPE || typeof signature !== 'string') continue;
      const sig: FoundSignature = { source, manifest: manifestDigest, layer: l.digest, size: l.size, signature };
      const [certificate, chain, rekorBundle] = [CERTIFICATE_ANNOTATION, CHAIN_ANNOTATION, BUNDLE_ANNOTATION].map((k) => l.annotations?.[k]);
      if (certificate) sig.certificate = certificate;
      if (chain) sig.chain = chain;
      if (rekorBundle) sig.rekorBundle = rekorBundle;
      found.push(sig);
    }
  };
  const tagged = await resolveOptional(target, cosignTag(digest, 'sig'));
  if (tagged) collect('tag', tagged.digest, (await fetchManifest(target, tagged)).layers);
  for (const r of await referrers.list({ digest }, [COSIGN_SIG_ARTIFACT_TYPE])) {
    collect('referrer', r.digest, (await fetchManifest(target, r)).layers);
  }
  if (found.length > MAX_SIGNATURES) throw new PolicyOciError('LIMIT', `${digest} has ${found.length} signatures; at most ${MAX_SIGNATURES} are checked`);
  return found;
}

/** The payload blob of a found signature (declared size bounded; fetch verifies size and digest). */
export async function fetchPayload(target: Target, sig: FoundSignature): Promise<Buffer> {
  if (sig.size > MAX_PAYLOAD) throw new PolicyOciError('LIMIT', `signature payload ${sig.layer} is ${sig.size} bytes`);
  return target.fetch({ mediaType: SIMPLE_SIGNING_MEDIA_TYPE, digest: sig.layer, size: sig.size });
}

/** What a verified payload says: whom it names, and whether that is `digest` (key-based and keyless alike). */
export function payloadClaims(payload: Buffer, digest: string): Pick<CheckedSignature, 'valid' | 'failedCheck' | 'reason' | 'dockerReference' | 'annotations'> {
  const parsed = parsePayload(payload);
  const named = parsed.critical.image['docker-manifest-digest'];
  const claims: ReturnType<typeof payloadClaims> = { valid: named === digest, dockerReference: parsed.critical.identity['docker-reference'] };
  if (named !== digest) Object.assign(claims, { failedCheck: 'artifact-digest', reason: `the signed payload names ${named}, not ${digest}` });
  const signed = parsed.optional;
  if (signed && typeof signed === 'object' && !Array.isArray(signed) && Object.keys(signed).length > 0) claims.annotations = signed;
  return claims;
}

/** Checks each signature of `digest` against `key` (each payload fetched once). */
export async function checkSignatures(target: Target, digest: string, key: KeyObject, referrers: ReferrersClient, found?: FoundSignature[]): Promise<CheckedSignature[]> {
  found ??= await findSignatures(target, digest, referrers);
  const payloads = new Map<string, Buffer>();
  const out: CheckedSignature[] = [];
  for (const sig of found) {
    let payload = payloads.get(sig.layer);
    try {
      if (!payload) {
        payload = await fetchPayload(target, sig);
        payloads.set(sig.layer, payload);
      }
      if (!verifyPayload(key, payload, Buffer.from(sig.signature, 'base64'))) {
        out.push({ ...sig, valid: false, failedCheck: 'signature', reason: 'the signature does not verify with this key' });
        continue;
      }
      out.push({ ...sig, ...payloadClaims(payload, digest) });
    } catch (err) {
      out.push({ ...sig, valid: false, failedCheck: 'signature', reason: err instanceof Error ? err.message : String(err) });
    }
  }
  return out;
}
