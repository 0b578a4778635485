// The content-store contract, after oras-go's Target: every operation is keyed by an OCI
// descriptor, so one copy/pack/unpack routine works against a remote repository, an OCI image
// layout directory and an in-memory store alike.

import type { Descriptor } from '../oci/types.ts';

export interface Target {
  /** Human-readable name for messages, e.g. "localhost:5000/policies" or "oci-layout:./out". */
  readonly name: string;
  /** Tag or digest → descriptor of the manifest/index. Throws PolicyOciError NOT_FOUND. */
  resolve(reference: string): Promise<Descriptor>;
  /**
   * Optional (registries): the manifest a tag or digest names with its bytes, in one exchange
   * instead of resolve + fetch (oras-go's FetchReference). The digest is that of the bytes
   * received. undefined when the manifest is larger than `maxBytes`: resolve + fetch then say so.
   */
  fetchReference?(reference: string, maxBytes: number): Promise<{ descriptor: Descriptor; content: Buffer } | undefined>;
  /** Bytes of a blob or manifest; implementations verify digest and size before returning. */
  fetch(desc: Descriptor): Promise<Buffer>;
  /** True when the store already has this blob (manifests: use resolve). */
  exists(desc: Descriptor): Promise<boolean>;
  /**
   * Store a blob (config or layer). Must verify the bytes match desc. Returns false when the store
   * already had it (nothing uploaded), true when the bytes were sent. Remote stores should learn
   * "already there" in the same request that would start the upload (cross-repo mount POST).
   */
  pushBlob(desc: Descriptor, content: Buffer): Promise<boolean>;
  /** Store a manifest or index under `tag` when given (one request), else under its digest. */
  pushManifest(desc: Descriptor, content: Buffer, tag?: string): Promise<void>;
  /** Point `tag` at an existing manifest. */
  tag(desc: Descriptor, tag: string): Promise<void>;
  /** All tags, sorted as the store returns them (remote: paginated). */
  listTags(): Promise<string[]>;
}
