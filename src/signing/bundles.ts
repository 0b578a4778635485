// Sigstore bundles attached to a manifest, as cosign v3 writes them by default: an OCI 1.1
// referrer of artifactType `application/vnd.dev.sigstore.bundle.v0.3+json` (subject = the signed
// manifest, an empty config) whose one layer of that media type is the bundle's JSON. Found through
// the referrers API or the `sha256-<hex>` tag-schema index (ReferrersClient). Everything is bounded
// and digest-checked (Target.fetch verifies what it returns).
import type { Target } from '../content/types.ts';
import { PolicyOciError } from '../errors.ts';
import { MAX_MANIFEST_BYTES } from '../oci/limits.ts';
import type { Descriptor, ImageManifest } from '../oci/types.ts';
import type { ReferrersClient } from '../referrers/client.ts';
import { CERTIFICATE_ANNOTATION, SIGNATURE_ANNOTATION, SIMPLE_SIGNING_MEDIA_TYPE } from './simplesigning.ts';
import { certificateSigner, summarizeBundle } from './sigstore.ts';

/** artifactType (and layer media type) of cosign v3's bundle referrers. */
export const SIGSTORE_BUNDLE_V03_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';
/** Every spelling of a bundle media type the bundle specification has had. */
export const SIGSTORE_BUNDLE_TYPES: readonly string[] = [
  SIGSTORE_BUNDLE_V03_TYPE,
  'application/vnd.dev.sigstore.bundle.v0.2+json',
  'application/vnd.dev.sigstore.bundle.v0.1+json',
  'application/vnd.dev.sigstore.bundle+json;version=0.3',
  'application/vnd.dev.sigstore.bundle+json;version=0.2',
  'application/vnd.dev.sigstore.bundle+json;version=0.1',
];
/** Largest bundle read: a certificate chain and an in-toto statement fit many times over. */
export const MAX_BUNDLE_BYTES = 1024 * 1024;

export function isBundleMediaType(mediaType: string | undefined): boolean {
  return mediaType !== undefined && SIGSTORE_BUNDLE_TYPES.includes(mediaType);
}

export interface FoundBundle {
  source: 'referrer';
  /** The referrer manifest. */
  manifest: string;
  /** The bundle layer (undefined when the manifest has none it can read). */
  layer?: string;
  /** The bundle's JSON bytes, when it could be read. */
  bytes?: Buffer;
  /** Why it could not be read (it then counts as an invalid signature). */
  problem?: string;
}

/** The bundle referrers of `digest`, each read (or with the reason it could not be). */
export async function findBundles(target: Target, digest: string, referrers: ReferrersClient): Promise<FoundBundle[]> {
  const out: FoundBundle[] = [];
  for (const desc of await referrers.list({ digest }, SIGSTORE_BUNDLE_TYPES)) out.push(await readBundle(target, desc, digest));
  return out;
}

async function readBundle(target: Target, desc: Descriptor, subject: string): Promise<FoundBundle> {
  const found: FoundBundle = { source: 'referrer', manifest: desc.digest };
  if (desc.size > MAX_MANIFEST_BYTES) return { ...found, problem: `the bundle manifest is ${desc.size} bytes` };
  let manifest: ImageManifest;
  try {
    manifest = JSON.parse((await target.fetch(desc)).toString('utf8')) as ImageManifest;
  } catch (err) {
    if (unreachable(err)) throw err;
    return { ...found, problem: `the bundle manifest cannot be read: ${(err as Error).message}` };
  }
  // A registry (or index) listing a referrer of another subject is not trusted blindly.
  if (manifest?.subject?.digest !== subject) return { ...found, problem: `the referrer's subject is ${String(manifest?.subject?.digest)}, not ${subject}` };
  const layer = Array.isArray(manifest.layers) ? manifest.layers.find((l) => isBundleMediaType(l?.mediaType)) : undefined;
  if (!layer || typeof layer.digest !== 'string' || !Number.isSafeInteger(layer.size)) return { ...found, problem: 'the referrer has no Sigstore bundle layer' };
  found.layer = layer.digest;
  if (layer.size > MAX_BUNDLE_BYTES) return { ...found, problem: `the bundle is ${layer.size} bytes (at most ${MAX_BUNDLE_BYTES} are read)` };
  try {
    found.bytes = await target.fetch({ mediaType: layer.mediaType, digest: layer.digest, size: layer.size });
  } catch (err) {
    if (unreachable(err)) throw err;
    return { ...found, problem: `the bundle cannot be read: ${(err as Error).message}` };
  }
  return found;
}

/** Failures of the registry itself (transport, credentials) stop the check; bad content is a verdict. */
function unreachable(err: unknown): boolean {
  return err instanceof PolicyOciError && ['REGISTRY', 'UNAUTHORIZED', 'DENIED', 'IO'].includes(err.code);
}

/** One signature as it describes itself, NOT verified (discover and inspect show these). */
export interface SignatureSummary {
  format: 'cosign-simplesigning' | 'sigstore-bundle';
  bundleVersion?: 'v0.1' | 'v0.2' | 'v0.3';
  content?: 'message-signature' | 'dsse';
  mode?: 'key' | 'keyless';
  /** Keyless: what the certificate says (unverified). */
  identity?: string;
  issuer?: string;
  problem?: string;
}

/**
 * What a signature manifest (a cosign `.sig` image, a cosign signature referrer or a bundle
 * referrer) holds: each signature's format, and for keyless the certificate's identity and issuer,
 * read without any verification. Bounded like the verifier's reads.
 */
export async function summarizeSignatures(target: Target, desc: Descriptor): Promise<SignatureSummary[]> {
  if (desc.size > MAX_MANIFEST_BYTES) return [];
  const manifest = JSON.parse((await target.fetch(desc)).toString('utf8')) as ImageManifest;
  const out: SignatureSummary[] = [];
  for (const layer of Array.isArray(manifest?.layers) ? manifest.layers.slice(0, 500) : []) {
    if (layer?.mediaType === SIMPLE_SIGNING_MEDIA_TYPE && typeof layer.annotations?.[SIGNATURE_ANNOTATION] === 'string') {
      const cert = layer.annotations[CERTIFICATE_ANNOTATION];
      out.push({ format: 'cosign-simplesigning', mode: cert ? 'keyless' : 'key', ...(cert ? certificateSigner(cert) : {}) });
    } else if (isBundleMediaType(layer?.mediaType)) {
      if (layer.size > MAX_BUNDLE_BYTES) {
        out.push({ format: 'sigstore-bundle', problem: `the bundle is ${layer.size} bytes` });
        continue;
      }
      const { problem, tlogEntries: _entries, ...summary } = summarizeBundle(await target.fetch(layer));
      out.push({ format: 'sigstore-bundle', ...summary, ...(problem ? { problem } : {}) });
    }
  }
  return out;
}
