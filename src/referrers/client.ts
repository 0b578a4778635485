// Referrers of a manifest (OCI 1.1): listed by the registry's referrers API where it has one, by
// the tag schema (`sha256-<hex>` index) where it does not. Detection follows oras: a manifest PUT
// answered with `OCI-Subject` proves the API; otherwise a probe of `GET /v2/<repo>/referrers/<d>`
// decides (200 with an image index: API; 404 that is not NAME_UNKNOWN: none). `mode` forces either.
//
// Updating the tag-schema index is a read-modify-write on a tag, which registries cannot do
// atomically. Two concurrent attaches would otherwise lose one entry, so every update:
//   1. reads the index, merges its entry, re-checks just before the PUT that the tag has not
//      moved (else starts again), and PUTs;
//   2. re-reads the tag twice, after a settle delay longer than its own check-to-PUT time, and
//      if its entry is gone (another writer's stale merge overwrote it) merges again.
// Each writer guarantees its own entry; a writer only ever adds to what it read, so no entry
// another writer verified is lost for good. Superseded indexes are not deleted (a DELETE by
// digest would untag every tag pointing at those bytes; oras calls this "skip referrers GC").
import { setTimeout as sleep } from 'node:timers/promises';
import { OCI_EMPTY, OCI_INDEX, OCI_MANIFEST } from '../oci/mediatypes.ts';
import { MAX_MANIFEST_BYTES } from '../oci/limits.ts';
import { RemoteRepository } from '../content/remote.ts';
import type { Descriptor, ImageIndex, ImageManifest } from '../oci/types.ts';
import type { Target } from '../content/types.ts';
import { isPolicyOciError, PolicyOciError } from '../errors.ts';
import { buildReferrersIndex, filterByArtifactType, mergeReferrer, parseReferrersIndex, referrerDescriptor, referrersTag } from './tagschema.ts';

export type ReferrersMode = 'auto' | 'api' | 'tag';
export const REFERRERS_MODES: readonly ReferrersMode[] = ['auto', 'api', 'tag'];

/** The zero digest oras probes with (nothing refers to it; a 200 proves the endpoint). */
const ZERO_DIGEST = `sha256:${'0'.repeat(64)}`;
const MAX_PAGES = 1000;
const MAX_UPDATE_ATTEMPTS = 12;

export interface ReferrersOptions {
  mode?: ReferrersMode;
  /** Lowest settle delay before re-reading the tag-schema index (ms, default 150). */
  settleMs?: number;
  /** For tests: called between the pre-PUT check and the PUT of the tag-schema index. */
  beforeIndexPut?: () => Promise<void>;
  /** Serialise index updates of one tag within this process (default true; tests turn it off to race). */
  serializeLocally?: boolean;
}

export interface PushReferrerResult {
  /** How the registry learnt about the referrer. */
  indexedBy: 'api' | 'tag';
  /** Tag of the tag-schema index, when it was updated. */
  indexTag?: string;
  /** Index writes that had to be redone because another writer moved the tag. */
  retries: number;
}

// One in-flight index update per (store, tag) in this process.
const localLocks = new Map<string, Promise<unknown>>();

async function withLocalLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const prev = localLocks.get(key) ?? Promise.resolve();
  const run = prev.then(fn, fn);
  const tail = run.catch(() => undefined);
  localLocks.set(key, tail);
  try {
    return await run;
  } finally {
    if (localLocks.get(key) === tail) localLocks.delete(key);
  }
}

export class ReferrersClient {
  readonly mode: ReferrersMode;
  private apiState: boolean | undefined;
  private readonly settleMs: number;

  constructor(
    readonly target: Target,
    private readonly options: ReferrersOptions = {},
  ) {
    this.mode = options.mode ?? 'auto';
    this.settleMs = options.settleMs ?? 150;
    if (!(target instanceof RemoteRepository)) {
      if (this.mode === 'api') throw new PolicyOciError('USAGE', `${target.name} is not a registry: it has no referrers API (use --referrers-mode tag or auto)`);
      this.apiState = false;
    } else if (this.mode !== 'auto') {
      this.apiState = this.mode === 'api';
    }
  }

  private get remote(): RemoteRepository | undefined {
    return this.target instanceof RemoteRepository ? this.target : undefined;
  }

  /** Whether referrers go through the registry's API (probing once when the mode is auto). */
  async usesApi(): Promise<boolean> {
    if (this.apiState !== undefined) return this.apiState;
    const page = await this.remote!.referrersPage(ZERO_DIGEST);
    if (page.status === 200) {
      this.apiState = page.mediaType === OCI_INDEX;
      return this.apiState;
    }
    if (page.nameUnknown) return false; // no repository yet: nothing refers to anything; decide later
    this.apiState = false;
    return false;
  }

  /** The descriptors of every manifest whose `subject` is `subject`, optionally of these artifact types. */
  async list(subject: Pick<Descriptor, 'digest'>, artifactTypes?: readonly string[]): Promise<Descriptor[]> {
    if (await this.usesApi()) return filterByArtifactType(await this.listByApi(subject.digest, artifactTypes), artifactTypes);
    return filterByArtifactType((await this.readIndex(referrersTag(subject.digest)))?.entries ?? [], artifactTypes);
  }

  private async listByApi(digest: string, artifactTypes?: readonly string[]): Promise<Descriptor[]> {
    const remote = this.remote!;
    const out: Descriptor[] = [];
    const single = artifactTypes?.length === 1 ? artifactTypes[0] : undefined;
    let page = await remote.referrersPage(digest, single ? { artifactType: single } : {});
    for (let n = 0; ; n++) {
      if (page.status !== 200) {
        if (page.status === 404 && page.nameUnknown) return out;
        throw new PolicyOciError(page.status === 404 ? 'NOT_FOUND' : 'REGISTRY', `${remote.name}: the referrers API answered ${page.status} for ${digest}${this.mode === 'api' ? ' (forced with --referrers-mode api)' : ''}`);
      }
      out.push(...parseReferrersIndex(page.body, `${remote.name} referrers of ${digest}`));
      if (page.next === undefined || n >= MAX_PAGES) return this.repairArtifactTypes(out);
      page = await remote.referrersPage(digest, { url: page.next });
    }
  }

  /**
   * The spec makes artifactType the manifest's own, else its config's media type. Some registries
   * (go-containerregistry's) always report the config's, which for an OCI 1.1 artifact is the
   * empty descriptor's type: such entries are read again from the manifest itself.
   */
  private async repairArtifactTypes(entries: Descriptor[]): Promise<Descriptor[]> {
    const out: Descriptor[] = [];
    for (const d of entries) {
      if ((d.artifactType === undefined || d.artifactType === OCI_EMPTY) && (d.mediaType === OCI_MANIFEST || d.mediaType === OCI_INDEX) && d.size <= MAX_MANIFEST_BYTES) {
        try {
          const manifest = JSON.parse((await this.target.fetch(d)).toString('utf8')) as Partial<ImageManifest & ImageIndex>;
          const repaired = referrerDescriptor(d, manifest);
          out.push({ ...d, ...(repaired.artifactType ? { artifactType: repaired.artifactType } : {}) });
          continue;
        } catch {
          /* keep the registry's answer */
        }
      }
      out.push(d);
    }
    return out;
  }

  /**
   * Pushes a manifest whose `subject` is set and makes it discoverable: through the API when the
   * registry indexes subjects itself, else by adding it to the subject's tag-schema index.
   */
  async push(desc: Descriptor, content: Buffer, tag?: string): Promise<PushReferrerResult> {
    const manifest = JSON.parse(content.toString('utf8')) as Partial<ImageManifest & ImageIndex>;
    const subject = manifest.subject;
    if (!subject || typeof subject.digest !== 'string') throw new PolicyOciError('USAGE', `manifest ${desc.digest} has no subject`);
    const remote = this.remote;
    if (remote) {
      const { ociSubject } = await remote.pushManifestReportingSubject(desc, content, tag);
      if (ociSubject !== undefined && this.mode === 'auto') this.apiState = true;
    } else {
      await this.target.pushManifest(desc, content, tag);
    }
    if (await this.usesApi()) return { indexedBy: 'api', retries: 0 };
    const indexTag = referrersTag(subject.digest);
    const retries = await this.addToIndex(indexTag, referrerDescriptor(desc, manifest));
    return { indexedBy: 'tag', indexTag, retries };
  }

  async readIndex(tag: string): Promise<{ descriptor: Descriptor; entries: Descriptor[] } | undefined> {
    let descriptor: Descriptor;
    try {
      descriptor = await this.target.resolve(tag);
    } catch (err) {
      if (isPolicyOciError(err) && err.code === 'NOT_FOUND') return undefined;
      throw err;
    }
    const content = await this.target.fetch(descriptor);
    return { descriptor, entries: parseReferrersIndex(content, `${this.target.name}:${tag}`) };
  }

  private async currentDigest(tag: string): Promise<string | undefined> {
    try {
      return (await this.target.resolve(tag)).digest;
    } catch (err) {
      if (isPolicyOciError(err) && err.code === 'NOT_FOUND') return undefined;
      throw err;
    }
  }

  private addToIndex(tag: string, entry: Descriptor): Promise<number> {
    const update = async (): Promise<number> => {
      let retries = 0;
      for (let attempt = 1; attempt <= MAX_UPDATE_ATTEMPTS; attempt++) {
        const current = await this.readIndex(tag);
        const entries = current?.entries ?? [];
        let window = 0;
        if (!entries.some((d) => d.digest === entry.digest)) {
          const next = buildReferrersIndex(mergeReferrer(entries, entry));
          const started = Date.now();
          // The tag must not have moved since we read it, or our merge would drop what was added.
          if ((await this.currentDigest(tag)) !== current?.descriptor.digest) {
            retries++;
            await this.backoff(attempt);
            continue;
          }
          await this.options.beforeIndexPut?.();
          await this.target.pushManifest(next.descriptor, next.content, tag);
          window = Date.now() - started;
        }
        // Another writer that read before our PUT may still overwrite it: re-read after longer
        // than such a writer's check-to-PUT window, twice.
        const settle = Math.max(this.settleMs, 3 * window);
        let lost = false;
        for (let check = 0; check < 2 && !lost; check++) {
          await sleep(settle + Math.floor(Math.random() * this.settleMs));
          const after = await this.readIndex(tag);
          lost = !after?.entries.some((d) => d.digest === entry.digest);
        }
        if (!lost) return retries;
        retries++;
      }
      throw new PolicyOciError('REGISTRY', `${this.target.name}:${tag}: could not add ${entry.digest} to the referrers index after ${MAX_UPDATE_ATTEMPTS} attempts (too many concurrent writers)`);
    };
    return this.options.serializeLocally === false ? update() : withLocalLock(`${this.target.name}\u0000${tag}`, update);
  }

  private async backoff(attempt: number): Promise<void> {
    await sleep(Math.floor(Math.random() * this.settleMs * Math.min(attempt, 4)));
  }
}
