// A repository on an OCI registry as a Target. Every byte read is checked against its descriptor
// (size bound before reading, digest after), every manifest push is checked against the digest the
// registry reports, and blobs go up through the mount-first upload session (src/registry/upload.ts).
import { createHash } from 'node:crypto';
import { verifyContent } from '../oci/digest.ts';
import { MANIFEST_ACCEPT, OCI_INDEX, OCI_MANIFEST } from '../oci/mediatypes.ts';
import { PolicyOciError, isPolicyOciError } from '../errors.ts';
import { isDigest } from '../oci/digest.ts';
import { MAX_MANIFEST_BYTES } from '../oci/limits.ts';
import { isManifestType } from '../oci/manifest.ts';
import { validateRepository, validateTag } from '../reference/reference.ts';
import { RegistryClient, firstHeader, type RegistryClientOptions, type RegistryResponse } from '../registry/client.ts';
import { RegistryHttpError, parseRegistryErrors } from '../registry/errors.ts';
import { pullScope, pushScope } from '../registry/scope.ts';
import { uploadBlob } from '../registry/upload.ts';
import { nextLink, parseTagPage } from '../registry/tags.ts';
import type { Descriptor } from '../oci/types.ts';
import type { Target } from './types.ts';

export interface RemoteOptions extends RegistryClientOptions {
  /** Repository (same registry) to mount blobs from; default: this repository. */
  mountFrom?: string;
  /** Blobs above this many bytes are uploaded in chunks (default 16 MiB). */
  chunkThreshold?: number;
  /** Chunk size of chunked uploads (default 8 MiB). */
  chunkSize?: number;
  /** Largest manifest we read (default 4 MiB). */
  maxManifestBytes?: number;
  /** `n` of tag list pages (default 1000). */
  tagPageSize?: number;
  /** Share one client (connection pool, token cache) between repositories of a registry. */
  client?: RegistryClient;
}

const MAX_TAG_PAGES = 10_000;

function checkDescriptor(desc: Descriptor): void {
  if (!isDigest(desc.digest)) throw new PolicyOciError('DIGEST_MISMATCH', `malformed digest "${desc.digest.slice(0, 80)}"`);
  if (!Number.isSafeInteger(desc.size) || desc.size < 0) {
    throw new PolicyOciError('DIGEST_MISMATCH', `descriptor ${desc.digest} has an invalid size ${String(desc.size)}`);
  }
}

function mediaTypeOf(res: RegistryResponse): string | undefined {
  const type = firstHeader(res.headers, 'content-type')?.split(';')[0]?.trim();
  return type === '' ? undefined : type;
}

export class RemoteRepository implements Target {
  readonly name: string;
  readonly registry: string;
  readonly repository: string;
  readonly client: RegistryClient;
  private readonly options: RemoteOptions;
  private readonly ownsClient: boolean;

  constructor(registry: string, repository: string, options: RemoteOptions = {}) {
    validateRepository(repository);
    this.registry = registry;
    this.repository = repository;
    this.options = options;
    if (options.mountFrom !== undefined) validateRepository(options.mountFrom);
    this.name = `${registry}/${repository}`;
    this.ownsClient = options.client === undefined;
    this.client = options.client ?? new RegistryClient(registry, options);
  }

  /** HTTP requests sent to the registry so far (for benchmarks). */
  get requestCount(): number {
    return this.client.requestCount;
  }

  private manifestPath(reference: string): string {
    if (!isDigest(reference)) validateTag(reference);
    return `/v2/${this.repository}/manifests/${reference}`;
  }

  /** `repo:tag` or `repo@sha256:…`, as a user would write the reference. */
  private display(reference: string): string {
    return `${this.name}${isDigest(reference) ? '@' : ':'}${reference}`;
  }

  async resolve(reference: string): Promise<Descriptor> {
    const path = this.manifestPath(reference);
    const scope = [pullScope(this.repository)];
    const headers = { accept: MANIFEST_ACCEPT };
    const head = await this.notFoundAs(this.display(reference), this.client.request({ method: 'HEAD', path, headers, scope }), !isDigest(reference));
    const digest = firstHeader(head.headers, 'docker-content-digest');
    const size = Number(firstHeader(head.headers, 'content-length'));
    const mediaType = mediaTypeOf(head);
    const usable = digest !== undefined && isDigest(digest) && Number.isSafeInteger(size) && size > 0;
    if (usable && mediaType !== undefined && isManifestType(mediaType)) return this.answered(reference, { mediaType, digest, size });
    return (await this.getManifest(reference, this.options.maxManifestBytes ?? MAX_MANIFEST_BYTES)).descriptor;
  }

  async fetchReference(reference: string, maxBytes: number): Promise<{ descriptor: Descriptor; content: Buffer } | undefined> {
    try {
      return await this.getManifest(reference, Math.min(maxBytes, this.options.maxManifestBytes ?? maxBytes));
    } catch (err) {
      if (isPolicyOciError(err) && err.code === 'LIMIT') return undefined;
      throw err;
    }
  }

  /** The manifest `reference` names, by GET (within `limit` bytes); its digest is that of the bytes received. */
  private async getManifest(reference: string, limit: number): Promise<{ descriptor: Descriptor; content: Buffer }> {
    const request = { method: 'GET' as const, path: this.manifestPath(reference), headers: { accept: MANIFEST_ACCEPT }, scope: [pullScope(this.repository)], maxBytes: limit };
    const res = await this.notFoundAs(this.display(reference), this.client.request(request), !isDigest(reference));
    const descriptor = await this.notJsonAs(res, () => this.describeManifest(res, reference));
    return { descriptor: this.answered(reference, descriptor), content: res.body };
  }

  /** `desc`, unless a digest was asked for and another manifest came back. */
  private answered(reference: string, desc: Descriptor): Descriptor {
    if (isDigest(reference) && desc.digest !== reference) {
      throw new PolicyOciError('DIGEST_MISMATCH', `${this.name} answered ${reference} with a manifest of digest ${desc.digest}`);
    }
    return desc;
  }

  private describeManifest(res: RegistryResponse, reference: string): Descriptor {
    let mediaType = mediaTypeOf(res);
    if (mediaType === undefined || !isManifestType(mediaType)) {
      try {
        const field = (JSON.parse(res.body.toString('utf8')) as { mediaType?: unknown }).mediaType;
        if (typeof field === 'string') mediaType = field;
      } catch {
        throw new PolicyOciError('REGISTRY', `${this.display(reference)} is not a JSON manifest`);
      }
    }
    const algorithm = isDigest(reference) && reference.startsWith('sha512:') ? 'sha512' : 'sha256';
    const digest = `${algorithm}:${createHash(algorithm).update(res.body).digest('hex')}`;
    const claimed = firstHeader(res.headers, 'docker-content-digest');
    if (claimed !== undefined && claimed.startsWith(`${algorithm}:`) && claimed !== digest) {
      throw new PolicyOciError('DIGEST_MISMATCH', `manifest ${this.display(reference)} does not match its digest: the registry says ${claimed}, the bytes hash to ${digest}`);
    }
    return { mediaType: mediaType ?? OCI_MANIFEST, digest, size: res.body.byteLength };
  }

  async fetch(desc: Descriptor): Promise<Buffer> {
    checkDescriptor(desc);
    const manifest = isManifestType(desc.mediaType);
    const limit = this.options.maxManifestBytes ?? MAX_MANIFEST_BYTES;
    if (manifest && desc.size > limit) {
      throw new PolicyOciError('LIMIT', `manifest ${desc.digest} is ${desc.size} bytes, above the limit of ${limit}`);
    }
    const res = await this.notFoundAs(
      `${this.name}@${desc.digest}`,
      this.client.request({
        method: 'GET',
        path: `/v2/${this.repository}/${manifest ? 'manifests' : 'blobs'}/${desc.digest}`,
        headers: manifest ? { accept: MANIFEST_ACCEPT } : {},
        scope: [pullScope(this.repository)],
        maxBytes: desc.size,
        followRedirects: !manifest,
      }),
    );
    verifyContent(desc, res.body, `${this.name}@${desc.digest}`);
    return res.body;
  }

  async exists(desc: Descriptor): Promise<boolean> {
    checkDescriptor(desc);
    const kind = isManifestType(desc.mediaType) ? 'manifests' : 'blobs';
    const res = await this.client.request({
      method: 'HEAD',
      path: `/v2/${this.repository}/${kind}/${desc.digest}`,
      headers: kind === 'manifests' ? { accept: MANIFEST_ACCEPT } : {},
      scope: [pullScope(this.repository)],
      okStatuses: [404],
      followRedirects: true,
    });
    return res.status >= 200 && res.status < 300;
  }

  /** False when the registry already had the blob (learnt from the mount request: one request). */
  async pushBlob(desc: Descriptor, content: Buffer): Promise<boolean> {
    checkDescriptor(desc);
    verifyContent(desc, content, `blob ${desc.digest}`);
    const { mountFrom, chunkThreshold, chunkSize } = this.options;
    const opts = { retry: this.client.retryPolicy, mountFrom, chunkThreshold, chunkSize };
    return (await uploadBlob(this.client, this.repository, desc, content, opts)) === 'uploaded';
  }

  async pushManifest(desc: Descriptor, content: Buffer, tag?: string): Promise<void> {
    await this.pushManifestReportingSubject(desc, content, tag);
  }

  async tag(desc: Descriptor, tag: string): Promise<void> {
    validateTag(tag);
    const content = await this.fetch(desc);
    await this.putManifest(desc, content, tag);
  }

  /** PUT by tag or digest; returns the `OCI-Subject` response header (distribution-spec 1.1). */
  private async putManifest(desc: Descriptor, content: Buffer, reference: string): Promise<string | undefined> {
    const res = await this.client.request({
      method: 'PUT',
      path: this.manifestPath(reference),
      headers: { 'content-type': desc.mediaType },
      body: content,
      scope: [pushScope(this.repository)],
    });
    const stored = firstHeader(res.headers, 'docker-content-digest');
    if (stored !== undefined && stored !== desc.digest) {
      throw new PolicyOciError('DIGEST_MISMATCH', `${this.display(reference)} was stored as ${stored}, not ${desc.digest}`);
    }
    return firstHeader(res.headers, 'oci-subject');
  }

  async listTags(): Promise<string[]> {
    const tags: string[] = [];
    const seen = new Set<string>();
    let path: string | undefined = `/v2/${this.repository}/tags/list?n=${this.options.tagPageSize ?? 1000}`;
    for (let page = 0; path !== undefined && page < MAX_TAG_PAGES; page++) {
      const url = this.client.resolveUrl(path).href;
      if (seen.has(url)) break;
      seen.add(url);
      const res = await this.client.request({ method: 'GET', path: url, scope: [pullScope(this.repository)], okStatuses: [404] });
      if (res.status === 404) {
        await this.client.checkIsRegistry(res);
        if (page === 0 && isNameUnknown(res)) {
          throw new PolicyOciError('NOT_FOUND', `repository ${this.name} not found${registryCodes(res)}: nothing was pushed there; check the name`);
        }
        throw new PolicyOciError('NOT_FOUND', `${this.name}: tag list not found${registryCodes(res)}`);
      }
      tags.push(...(await this.notJsonAs(res, () => parseTagPage(res.body, this.name))));
      path = nextLink(firstHeader(res.headers, 'link'));
    }
    return tags;
  }

  /** An answer that is not the JSON asked for may come from something that is not a registry: say so when it is. */
  private async notJsonAs<T>(res: RegistryResponse, read: () => T): Promise<T> {
    try {
      return read();
    } catch (err) {
      await this.client.checkIsRegistry(res);
      throw err;
    }
  }

  /** Turns a registry 404 into "<what> not found" (HEAD responses carry no error body). */
  private async notFoundAs(what: string, pending: Promise<RegistryResponse>, tagHint = false): Promise<RegistryResponse> {
    try {
      return await pending;
    } catch (err) {
      if (err instanceof RegistryHttpError && err.status === 404) {
        const codes = err.registryErrors.map((e) => e.code).join(', ');
        const hint = tagHint ? `; \`kubectl policyoci tags ${this.name}\` lists its tags` : '';
        throw new PolicyOciError('NOT_FOUND', `${what} not found${codes ? ` (${codes})` : ''}${hint}`, { cause: err });
      }
      throw err;
    }
  }

  /** Closes the connection pool (when this repository made its own client). */
  async close(): Promise<void> {
    if (this.ownsClient) await this.client.close();
  }

  // --- referrers (src/referrers/) ---------------------------------------------------------------

  /**
   * One page of the OCI 1.1 referrers API, `GET /v2/<repo>/referrers/<digest>`, or the next page
   * (`url` from the previous page's Link header). 404/400/405 are handed back, not thrown: the
   * caller decides whether they mean "no referrers API" (src/referrers/client.ts).
   */
  async referrersPage(digest: string, options: { artifactType?: string; url?: string } = {}): Promise<ReferrersPage> {
    if (!isDigest(digest)) throw new PolicyOciError('DIGEST_MISMATCH', `malformed digest "${digest.slice(0, 80)}"`);
    const query = options.artifactType ? `?artifactType=${encodeURIComponent(options.artifactType)}` : '';
    const path = options.url ?? `/v2/${this.repository}/referrers/${digest}${query}`;
    const res = await this.client.request({
      method: 'GET',
      path,
      headers: { accept: OCI_INDEX },
      scope: [pullScope(this.repository)],
      okStatuses: [400, 404, 405],
      maxBytes: this.options.maxManifestBytes ?? MAX_MANIFEST_BYTES,
    });
    const page: ReferrersPage = { status: res.status, body: res.body, nameUnknown: res.status === 404 && parseRegistryErrors(res.body).some((e) => e.code === 'NAME_UNKNOWN') };
    const mediaType = mediaTypeOf(res);
    if (mediaType !== undefined) page.mediaType = mediaType;
    const next = nextLink(firstHeader(res.headers, 'link'));
    if (next !== undefined) page.next = this.client.resolveUrl(next).href;
    const filters = firstHeader(res.headers, 'oci-filters-applied');
    if (filters !== undefined) page.filtersApplied = filters;
    return page;
  }

  /**
   * PUT a manifest (by tag, else by digest) and return the registry's `OCI-Subject` header: set
   * when the registry indexed the manifest's subject itself (distribution-spec 1.1).
   */
  async pushManifestReportingSubject(desc: Descriptor, content: Buffer, tag?: string): Promise<{ ociSubject?: string }> {
    checkDescriptor(desc);
    verifyContent(desc, content, `manifest ${desc.digest}`);
    if (tag !== undefined) validateTag(tag);
    // By tag the registry stores it under its digest as well: one request either way.
    const subject = await this.putManifest(desc, content, tag ?? desc.digest);
    return subject !== undefined && subject !== '' ? { ociSubject: subject } : {};
  }
}

export interface ReferrersPage {
  status: number;
  mediaType?: string;
  body: Buffer;
  /** Absolute URL of the next page (Link header), if any. */
  next?: string;
  /** The `OCI-Filters-Applied` header (e.g. "artifactType"). */
  filtersApplied?: string;
  /** A 404 whose error code is NAME_UNKNOWN: the repository does not exist (API state unknown). */
  nameUnknown: boolean;
}

function registryCodes(res: RegistryResponse): string {
  const codes = parseRegistryErrors(res.body).map((e) => e.code);
  return codes.length ? ` (${codes.join(', ')})` : '';
}

function isNameUnknown(res: RegistryResponse): boolean {
  const errors = parseRegistryErrors(res.body);
  return errors.length === 0 || errors.some((e) => e.code === 'NAME_UNKNOWN');
}
