// cosign's signature payload: the "simple signing" JSON of containers/image, as sigstore's
// payload.Cosign marshals it (Go's encoding/json: fields in declaration order, no spaces).
import { PolicyOciError } from '../errors.ts';
import { isDigest } from '../oci/digest.ts';
import { COSIGN_SIG_ARTIFACT_TYPE, COSIGN_SIMPLE_SIGNING } from '../oci/mediatypes.ts';
import { compareCodeUnits } from '../util/compare.ts';

export const COSIGN_SIGNATURE_TYPE = 'cosign container image signature';
export const SIMPLE_SIGNING_MEDIA_TYPE = COSIGN_SIMPLE_SIGNING;
export const SIGNATURE_ANNOTATION = 'dev.cosignproject.cosign/signature';
export const CERTIFICATE_ANNOTATION = 'dev.sigstore.cosign/certificate';
export const CHAIN_ANNOTATION = 'dev.sigstore.cosign/chain';
export const BUNDLE_ANNOTATION = 'dev.sigstore.cosign/bundle';
/** artifactType of cosign's OCI 1.1 signature referrers (`--registry-referrers-mode=oci-1-1`). */
export { COSIGN_SIG_ARTIFACT_TYPE };

export interface SimpleSigning {
  critical: {
    identity: { 'docker-reference': string };
    image: { 'docker-manifest-digest': string };
    type: string;
  };
  optional: Record<string, unknown> | null;
}

/** `docker-reference` as go-containerregistry names a repository (Docker Hub is index.docker.io). */
export function dockerReference(registry: string, repository: string): string {
  return `${registry === 'docker.io' ? 'index.docker.io' : registry}/${repository}`;
}

export function buildPayload(reference: string, digest: string, annotations?: Record<string, string>): Buffer {
  const payload: SimpleSigning = {
    critical: { identity: { 'docker-reference': reference }, image: { 'docker-manifest-digest': digest }, type: COSIGN_SIGNATURE_TYPE },
    optional: annotations && Object.keys(annotations).length > 0 ? Object.fromEntries(Object.entries(annotations).sort(([a], [b]) => compareCodeUnits(a, b))) : null,
  };
  return Buffer.from(JSON.stringify(payload), 'utf8');
}

/** Parses and checks the shape of a payload; the digest comparison is the caller's. */
export function parsePayload(content: Buffer): SimpleSigning {
  let value: SimpleSigning;
  try {
    value = JSON.parse(content.toString('utf8')) as SimpleSigning;
  } catch {
    throw new PolicyOciError('UNSAFE_CONTENT', 'the signature payload is not JSON');
  }
  const digest = value?.critical?.image?.['docker-manifest-digest'];
  if (value?.critical?.type !== COSIGN_SIGNATURE_TYPE) {
    throw new PolicyOciError('UNSAFE_CONTENT', `the signature payload is of type "${String(value?.critical?.type).slice(0, 80)}", not "${COSIGN_SIGNATURE_TYPE}"`);
  }
  if (typeof digest !== 'string' || !isDigest(digest)) throw new PolicyOciError('UNSAFE_CONTENT', 'the signature payload names no valid manifest digest');
  return value;
}
