// attach / discover / pull --from-referrers with the executable, on a registry WITH the referrers
// API (go-containerregistry's, standing in for zot) and one WITHOUT (Debian's docker-registry:
// tag-schema fallback), against a real image pushed by crane; oras discover/attach interop.
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RemoteRepository } from '../../src/content/remote.ts';
import { describe as describeBlob } from '../../src/oci/digest.ts';
import { jsonBytes } from '../../src/oci/manifest.ts';
import { OCI_EMPTY, OCI_MANIFEST } from '../../src/oci/mediatypes.ts';
import { ReferrersClient } from '../../src/referrers/client.ts';
import { referrersTag } from '../../src/referrers/tagschema.ts';
import { REPO_ROOT, runCli, runOk } from '../support/cli.ts';
import { pushTestImage, startTestRegistry, TEST_REGISTRY_KINDS, type TestRegistry } from '../support/referrers-registry.ts';
import { runTool } from '../support/tools.ts';

const EXAMPLES = join(REPO_ROOT, 'examples', 'policies');
const KYVERNO_CONFIG = 'application/vnd.cncf.kyverno.config.v1+json';
const KUBEARMOR_CONFIG = 'application/vnd.cncf.kubearmor.config.v1+json';

interface OrasNode {
  digest: string;
  artifactType?: string;
  referrers?: OrasNode[];
}

describe.each(TEST_REGISTRY_KINDS)('attach, discover, pull --from-referrers on %s', (kind) => {
  let reg: TestRegistry;
  let work: string;
  let image: string;
  let imageDigest: string;
  beforeAll(async () => {
    reg = await startTestRegistry(kind);
    work = await mkdtemp(join(tmpdir(), `attach-${kind}-`));
    image = `${reg.host}/app:v1`;
    imageDigest = await pushTestImage(image);
  });
  afterAll(async () => reg?.stop());

  it('attaches one referrer per engine, listed the same by discover and by oras discover', async () => {
    const attached = JSON.parse((await runOk(['attach', image, join(EXAMPLES, 'kyverno'), join(EXAMPLES, 'kubearmor'), '--format', 'json'])).stdout);
    expect(attached.subject.digest).toBe(imageDigest);
    expect(attached.artifacts.map((a: { engine: string }) => a.engine)).toEqual(['kubearmor', 'kyverno']);
    expect(attached.artifacts.every((a: { indexedBy: string }) => a.indexedBy === (reg.referrersApi ? 'api' : 'tag'))).toBe(true);

    const found = JSON.parse((await runOk(['discover', image, '--format', 'json'])).stdout);
    expect(found.digest).toBe(imageDigest);
    expect(found.referrersBy).toBe(reg.referrersApi ? 'api' : 'tag');
    const ours = found.referrers.map((r: { digest: string; artifactType: string }) => `${r.artifactType} ${r.digest}`).sort();
    expect(ours).toEqual(attached.artifacts.map((a: { artifactType: string; digest: string }) => `${a.artifactType} ${a.digest}`).sort());
    expect((await runOk(['discover', image])).stdout).toContain(`└── `);

    const oras = JSON.parse(runTool('oras', ['discover', '--plain-http', '--format', 'json', image])) as { referrers: OrasNode[] };
    expect(oras.referrers.map((r) => `${r.artifactType} ${r.digest}`).sort()).toEqual(ours);

    // The tag schema's index exists exactly where there is no API.
    const tags = JSON.parse((await runOk(['tags', `${reg.host}/app`, '--format', 'json'])).stdout) as { tags: string[] } | string[];
    const list = Array.isArray(tags) ? tags : tags.tags;
    expect(list.includes(referrersTag(imageDigest))).toBe(!reg.referrersApi);
  });

  it('pull --from-referrers writes the attached policies; a later attach of a changed policy wins', async () => {
    const out = join(work, 'pulled');
    const pulled = JSON.parse((await runOk(['pull', image, '--from-referrers', '-o', out, '--format', 'json'])).stdout);
    const expected = (await readdir(join(EXAMPLES, 'kyverno'))).length + (await readdir(join(EXAMPLES, 'kubearmor'))).length;
    expect(pulled.files).toHaveLength(expected);
    expect(pulled.artifacts).toHaveLength(2);

    // The same policy, changed: attached later, it is the one pulled.
    const src = join(EXAMPLES, 'kyverno', 'require-labels.yaml');
    const changed = join(work, 'require-labels.yaml');
    const text = await readFile(src, 'utf8');
    expect(text).toMatch(/message: /);
    await writeFile(changed, text.replace(/message: .*/, 'message: "changed by the attach test"'));
    await runOk(['attach', image, changed, '--annotation', 'org.opencontainers.image.created=2999-01-01T00:00:00Z']);
    const out2 = join(work, 'pulled2');
    const r = await runOk(['pull', image, '--from-referrers', '-o', out2, '--format', 'json']);
    expect(JSON.parse(r.stdout).files).toHaveLength(expected);
    expect(await readFile(join(out2, 'require-labels.yaml'), 'utf8')).toContain('changed by the attach test');
    expect(r.stderr).toMatch(/require-labels: taken from sha256:[a-f0-9]{64} \(newer\)/);
  });

  it('reads what oras attach writes, and oras discover sees ours', async () => {
    const img = `${reg.host}/oras-img:v1`;
    const digest = await pushTestImage(img, 'oras');
    runTool('oras', ['attach', '--plain-http', '--artifact-type', KYVERNO_CONFIG, img, 'disallow-latest-tag.yaml:application/vnd.cncf.kyverno.policy.layer.v1+yaml'], { cwd: join(EXAMPLES, 'kyverno') });
    const found = JSON.parse((await runOk(['discover', img, '--format', 'json'])).stdout);
    expect(found.referrers.map((r: { artifactType: string }) => r.artifactType)).toEqual([KYVERNO_CONFIG]);
    const pulled = JSON.parse((await runOk(['pull', img, '--from-referrers', '-o', join(work, 'from-oras'), '--format', 'json'])).stdout);
    expect(pulled.files.map((f: { name: string }) => f.name)).toEqual(['disallow-latest-tag']);
    expect(pulled.digest).toBe(digest);

    await runOk(['attach', img, join(EXAMPLES, 'kubearmor')]);
    const ours = JSON.parse((await runOk(['discover', img, '--format', 'json'])).stdout) as { referrers: OrasNode[] };
    expect(ours.referrers.map((r) => r.artifactType).sort()).toEqual([KUBEARMOR_CONFIG, KYVERNO_CONFIG]);
    const oras = JSON.parse(runTool('oras', ['discover', '--plain-http', '--format', 'json', img])) as { referrers: OrasNode[] };
    expect(oras.referrers.map((r) => r.digest).sort()).toEqual(ours.referrers.map((r) => r.digest).sort());
    // go-containerregistry's referrers API reports config.mediaType even where the manifest has an
    // artifactType (oras shows that answer as is; we read the manifest again): only ours is exact there.
    const orasTypes = oras.referrers.map((r) => r.artifactType).sort();
    expect(orasTypes).toEqual(reg.referrersApi ? [KUBEARMOR_CONFIG, 'application/vnd.oci.empty.v1+json'] : [KUBEARMOR_CONFIG, KYVERNO_CONFIG]);
  });

  it('--referrers-mode forces the tag schema, or the API (which fails clearly where there is none)', async () => {
    const img = `${reg.host}/forced:v1`;
    const digest = await pushTestImage(img, 'forced');
    const tagged = JSON.parse((await runOk(['attach', img, join(EXAMPLES, 'kubearmor'), '--referrers-mode', 'tag', '--format', 'json'])).stdout);
    expect(tagged.artifacts[0].indexTag).toBe(referrersTag(digest));
    const viaTags = JSON.parse((await runOk(['discover', img, '--referrers-mode', 'tag', '--format', 'json'])).stdout);
    expect(viaTags.referrers.map((r: { digest: string }) => r.digest)).toEqual([tagged.artifacts[0].digest]);
    const api = await runCli(['discover', img, '--referrers-mode', 'api', '--format', 'json']);
    if (reg.referrersApi) {
      expect(api.code).toBe(0);
      expect(JSON.parse(api.stdout).referrers.map((r: { digest: string }) => r.digest)).toEqual([tagged.artifacts[0].digest]);
    } else {
      expect(api.code).toBe(4);
      expect(api.stderr).toMatch(/referrers API answered 404/);
    }
  });

  it('keeps every entry of the tag-schema index when attaches race (8 processes at once)', async () => {
    const img = `${reg.host}/race:v1`;
    const digest = await pushTestImage(img, 'race');
    const text = await readFile(join(EXAMPLES, 'kyverno', 'require-labels.yaml'), 'utf8');
    const files = await Promise.all(
      Array.from({ length: 8 }, async (_, i) => {
        const f = join(work, `race-${i}.yaml`);
        await writeFile(f, text.replace(/name: require-labels/, `name: require-labels-${i}`));
        return f;
      }),
    );
    expect(new Set(await Promise.all(files.map((f) => readFile(f, 'utf8')))).size).toBe(8);
    const results = await Promise.all(files.map((f) => runOk(['attach', img, f, '--referrers-mode', 'tag', '--format', 'json'])));
    const digests = results.map((r) => JSON.parse(r.stdout).artifacts[0].digest as string).sort();
    const found = JSON.parse((await runOk(['discover', img, '--referrers-mode', 'tag', '--format', 'json'])).stdout);
    expect(found.digest).toBe(digest);
    expect(found.referrers.map((r: { digest: string }) => r.digest).sort()).toEqual(digests);
  }, 180_000);
});

describe('the tag-schema index under a forced lost update', () => {
  let reg: TestRegistry;
  beforeAll(async () => {
    reg = await startTestRegistry('docker-registry');
  });
  afterAll(async () => reg?.stop());

  /** A minimal referrer of `subject` (an OCI 1.1 artifact with the empty config). */
  async function referrer(repo: RemoteRepository, subject: { mediaType: string; digest: string; size: number }, n: number) {
    const empty = Buffer.from('{}');
    const config = describeBlob(OCI_EMPTY, empty);
    await repo.pushBlob(config, empty);
    const layer = Buffer.from(`entry ${n}`);
    const layerDesc = describeBlob('text/plain', layer);
    await repo.pushBlob(layerDesc, layer);
    const content = jsonBytes({ schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: `application/x-test-${n}`, config, layers: [layerDesc], subject });
    return { desc: describeBlob(OCI_MANIFEST, content), content };
  }

  it('re-reads after writing and re-adds an entry another writer overwrote', async () => {
    const img = `${reg.host}/lost:v1`;
    await pushTestImage(img, 'lost');
    const repoA = new RemoteRepository(reg.host, 'lost');
    const repoB = new RemoteRepository(reg.host, 'lost');
    const subject = await repoA.resolve('v1');
    const tag = referrersTag(subject.digest);
    const a = await referrer(repoA, subject, 1);
    const b = await referrer(repoB, subject, 2);
    // A reads the (empty) index and passes its pre-PUT check, then waits until B has written:
    // its PUT then overwrites B's entry, which B must notice and restore.
    let reached!: () => void;
    const aReady = new Promise<void>((resolve) => (reached = resolve));
    let first = true;
    const clientA = new ReferrersClient(repoA, {
      mode: 'tag',
      serializeLocally: false,
      beforeIndexPut: async () => {
        if (!first) return;
        first = false;
        reached();
        for (let i = 0; i < 500; i++) {
          try {
            await repoA.resolve(tag);
            return; // B has written the index
          } catch {
            await new Promise((r) => setTimeout(r, 10));
          }
        }
      },
    });
    const clientB = new ReferrersClient(repoB, { mode: 'tag', serializeLocally: false, settleMs: 400 });
    const pushA = clientA.push(a.desc, a.content);
    await aReady;
    const [resA, resB] = await Promise.all([pushA, clientB.push(b.desc, b.content)]);
    // The lost update really happened (B had to redo its write), and nothing was lost in the end.
    expect(resB.retries).toBeGreaterThanOrEqual(1);
    expect(resA.indexedBy).toBe('tag');
    const entries = (await new ReferrersClient(repoA, { mode: 'tag' }).list(subject)).map((d) => d.digest).sort();
    expect(entries).toEqual([a.desc.digest, b.desc.digest].sort());
    await Promise.all([repoA.close(), repoB.close()]);
  });
});
