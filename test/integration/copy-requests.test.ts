// The requests publish and copyGraph send to a real registry (Debian's docker-registry): a push
// through the copy costs what it did before (a fresh push 2 per new blob + the manifests + one
// check and one write per tag; unchanged, one request): staged content costs no HEAD; any other
// source is not read for what the destination has.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packPolicies, type PackedArtifact } from '../../src/artifact/pack.ts';
import { publish } from '../../src/artifact/publish.ts';
import { copyGraph } from '../../src/content/copy.ts';
import { OciLayout } from '../../src/content/layout.ts';
import { RemoteRepository } from '../../src/content/remote.ts';
import { loadEngines } from '../../src/engines/index.ts';
import { loadPolicies } from '../../src/policy/load.ts';
import { REPO_ROOT } from '../support/cli.ts';
import { startRegistry, type RunningRegistry } from '../support/registry.ts';

const EXAMPLES = join(REPO_ROOT, 'examples', 'policies');
const anonymous = { credentials: () => Promise.resolve(undefined) };

async function counted<T>(repo: RemoteRepository, op: () => Promise<T>): Promise<{ result: T; requests: number }> {
  const before = repo.requestCount;
  const result = await op();
  return { result, requests: repo.requestCount - before };
}

describe('requests of publish and copyGraph', () => {
  let registry: RunningRegistry;
  let packed: PackedArtifact;
  let blobs: number;
  let manifests: number;
  const repos: RemoteRepository[] = [];
  const open = (name: string): RemoteRepository => {
    const repo = new RemoteRepository(registry.host, name, anonymous);
    repos.push(repo);
    return repo;
  };
  beforeAll(async () => {
    registry = await startRegistry('open');
    const docs = await loadPolicies([join(EXAMPLES, 'kyverno'), join(EXAMPLES, 'kubearmor')]);
    packed = packPolicies(docs, loadEngines());
    blobs = packed.manifests.reduce((n, m) => n + m.blobs.length, 0);
    manifests = packed.manifests.length; // plus the index
  });
  afterAll(async () => {
    await Promise.all(repos.map((r) => r.close()));
    await registry?.stop();
  });

  it('a fresh push: one check per tag, 2 per blob, the manifests, one write per tag; again: one request', async () => {
    const repo = open('requests/push');
    const fresh = await counted(repo, () => publish(repo, packed, ['v1', 'latest']));
    expect(fresh.result).toMatchObject({ unchanged: false, blobsUploaded: blobs, blobsTotal: blobs });
    expect(fresh.requests).toBe(2 + 2 * blobs + manifests + 2);
    const again = await counted(repo, () => publish(repo, packed, ['v1']));
    expect(again).toMatchObject({ result: { unchanged: true }, requests: 1 });
    // A new tag on content that is there: each blob is offered once (the mount answers 201).
    const retag = await counted(repo, () => publish(repo, packed, ['v2']));
    expect(retag.result).toMatchObject({ unchanged: false, blobsUploaded: 0 });
    expect(retag.requests).toBe(1 + blobs + manifests + 1);
  });

  it('registry → registry: the destination is asked first, and only what it lacks is read', async () => {
    const src = open('requests/push');
    const dst = open('requests/copied');
    const root = await src.resolve('v1');
    const srcBefore = src.requestCount;
    const first = await counted(dst, () => copyGraph(src, dst, root, { tags: ['v1'] }));
    expect(first.result).toMatchObject({ blobsCopied: blobs, blobsSkipped: 0, manifests: manifests + 1 });
    expect(first.requests).toBe(3 * blobs + manifests + 1); // HEAD, POST, PUT per blob
    expect(src.requestCount - srcBefore).toBe(manifests + 1 + blobs);

    const srcAgain = src.requestCount;
    const second = await counted(dst, () => copyGraph(src, dst, root, { tags: ['v1'] }));
    expect(second.result).toMatchObject({ blobsCopied: 0, blobsSkipped: blobs });
    expect(second.requests).toBe(blobs + manifests + 1);
    expect(src.requestCount - srcAgain).toBe(manifests + 1); // the manifests only
  });

  it('layout → registry: the destination is asked first, so a repeated copy sends no bytes', async () => {
    const layout = new OciLayout(await mkdtemp(join(tmpdir(), 'requests-')));
    await publish(layout, packed, ['v1']);
    const root = await layout.resolve('v1');
    const dst = open('requests/from-layout');
    const first = await counted(dst, () => copyGraph(layout, dst, root, { tags: ['v1'] }));
    expect(first.requests).toBe(3 * blobs + manifests + 1);
    const second = await counted(dst, () => copyGraph(layout, dst, root, { tags: ['v1'] }));
    expect(second.result).toMatchObject({ blobsCopied: 0, blobsSkipped: blobs });
    expect(second.requests).toBe(blobs + manifests + 1);
  });
});
