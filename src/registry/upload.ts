// Blob uploads per the OCI distribution spec. The session opens with a mount request
// (`POST …/blobs/uploads/?mount=<digest>&from=<repo>`): 201 means the registry already has the blob
// (one request in all); 202 opens an upload we finish with one monolithic PUT, or with PATCH chunks
// and a final PUT above the chunk threshold. A retryable failure restarts the whole session from a
// new POST: a half-used upload location cannot be trusted.
import type { Descriptor } from '../oci/types.ts';
import { PolicyOciError } from '../errors.ts';
import { firstHeader, type RegistryClient, type RegistryResponse } from './client.ts';
import type { RetryPolicy } from './retry.ts';
import { pullScope, pushScope } from './scope.ts';

export const DEFAULT_CHUNK_THRESHOLD = 16 * 1024 * 1024;
export const DEFAULT_CHUNK_SIZE = 8 * 1024 * 1024;

export interface UploadOptions {
  /** Repository to mount from (default: the target repository itself, which answers "already there"). */
  mountFrom?: string;
  /** Blobs larger than this go up in PATCH chunks. */
  chunkThreshold?: number;
  chunkSize?: number;
  /** Restarts the session on retryable failures. */
  retry: RetryPolicy;
}

export type UploadResult = 'mounted' | 'uploaded';

const OCTET = 'application/octet-stream';

function locationOf(res: RegistryResponse, client: RegistryClient, step: string): string {
  const location = firstHeader(res.headers, 'location');
  if (location === undefined || location === '') {
    throw new PolicyOciError('REGISTRY', `${client.registry} answered the blob upload ${step} without a Location header`);
  }
  // Relative locations are resolved against the URL that answered (the registry).
  return new URL(location, res.url).href;
}

function withDigest(location: string, digest: string): string {
  return `${location}${location.includes('?') ? '&' : '?'}digest=${encodeURIComponent(digest)}`;
}

async function session(client: RegistryClient, repository: string, desc: Descriptor, content: Buffer, opts: UploadOptions): Promise<UploadResult> {
  const from = opts.mountFrom ?? repository;
  const scope = from === repository ? [pushScope(repository)] : [pushScope(repository), pullScope(from)];
  const query = new URLSearchParams({ mount: desc.digest, from });
  const started = await client.request({
    method: 'POST',
    path: `/v2/${repository}/blobs/uploads/?${query.toString()}`,
    body: Buffer.alloc(0),
    scope,
    retry: false, // the session as a whole is retried
  });
  if (started.status === 201) return 'mounted';
  if (started.status !== 202) {
    throw new PolicyOciError('REGISTRY', `${client.registry} answered a blob upload start with HTTP ${started.status}`);
  }
  let location = locationOf(started, client, 'start');

  const threshold = opts.chunkThreshold ?? DEFAULT_CHUNK_THRESHOLD;
  const chunkSize = Math.max(1, opts.chunkSize ?? DEFAULT_CHUNK_SIZE);
  let finalBody = content;
  if (content.byteLength > threshold) {
    for (let start = 0; start < content.byteLength; start += chunkSize) {
      const chunk = content.subarray(start, Math.min(content.byteLength, start + chunkSize));
      const res = await client.request({
        method: 'PATCH',
        path: location,
        headers: {
          'content-type': OCTET,
          'content-range': `${start}-${start + chunk.byteLength - 1}`,
        },
        body: chunk,
        scope: [pushScope(repository)],
        retry: false,
      });
      location = locationOf(res, client, 'chunk');
    }
    finalBody = Buffer.alloc(0);
  }
  await client.request({
    method: 'PUT',
    path: withDigest(location, desc.digest),
    headers: { 'content-type': OCTET },
    body: finalBody,
    scope: [pushScope(repository)],
    retry: false,
  });
  return 'uploaded';
}

/** Uploads `content` (already verified against `desc`) unless the registry has it. */
export function uploadBlob(
  client: RegistryClient,
  repository: string,
  desc: Descriptor,
  content: Buffer,
  opts: UploadOptions,
): Promise<UploadResult> {
  return opts.retry.run(
    () => session(client, repository, desc, content, opts),
    () => undefined,
  );
}
