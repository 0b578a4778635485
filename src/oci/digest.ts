// Digests: compute, describe, verify. Every byte read from a store passes verifyContent.
import { createHash } from 'node:crypto';
import type { Descriptor } from './types.ts';
import { PolicyOciError } from '../errors.ts';

/** A digest we can verify: sha256 or sha512, lower-case hex. */
export const DIGEST_RE = /^(?:sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;

export function isDigest(value: string): boolean {
  return DIGEST_RE.test(value);
}

export function sha256Digest(content: Uint8Array): string {
  return `sha256:${createHash('sha256').update(content).digest('hex')}`;
}

export function describe(mediaType: string, content: Uint8Array, annotations?: Record<string, string>): Descriptor {
  const desc: Descriptor = { mediaType, digest: sha256Digest(content), size: content.byteLength };
  if (annotations && Object.keys(annotations).length > 0) desc.annotations = annotations;
  return desc;
}


/** Throws DIGEST_MISMATCH unless `content` is exactly what `desc` describes. */
export function verifyContent(desc: Descriptor, content: Uint8Array, what = 'content'): void {
  if (!DIGEST_RE.test(desc.digest)) {
    throw new PolicyOciError('DIGEST_MISMATCH', `${what} has an unsupported or malformed digest "${desc.digest.slice(0, 80)}"`);
  }
  if (content.byteLength !== desc.size) {
    throw new PolicyOciError('DIGEST_MISMATCH', `${what} ${desc.digest} is ${content.byteLength} bytes, but its descriptor says ${desc.size}`);
  }
  const [algorithm] = desc.digest.split(':');
  const actual = `${algorithm}:${createHash(algorithm ?? 'sha256').update(content).digest('hex')}`;
  if (actual !== desc.digest) {
    throw new PolicyOciError('DIGEST_MISMATCH', `${what} does not match its digest: expected ${desc.digest}, got ${actual}`);
  }
}
