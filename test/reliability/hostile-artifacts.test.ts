// Hostile artifacts, crafted here and pushed straight to a real registry (or served by the fault
// proxy where a real registry would refuse to store them). Every one is refused or handled safely
// with a clear message; nothing is ever written outside the output directory.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { constants, createGzip, gzipSync, zstdCompressSync } from 'node:zlib';
import { Header } from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runCli, runOk, type CliResult } from '../support/cli.ts';
import { startFaultProxy } from '../support/fault-proxy.ts';
import { startRegistry, type RunningRegistry } from '../support/registry.ts';
import { clusterPolicyYaml, expectCleanFailure, KYVERNO_TGZ, KYVERNO_YAML, OCI_INDEX, OCI_MANIFEST, pushCrafted, RawRegistry, sha256, snapshot, TITLE, type RawDescriptor } from './helpers.ts';

let reg: RunningRegistry;
let raw: RawRegistry;
let work: string;

beforeAll(async () => {
  reg = await startRegistry('open');
  raw = new RawRegistry(reg.host);
  work = await mkdtemp(join(tmpdir(), 'reliability-hostile-'));
});
afterAll(async () => {
  await raw?.close();
  await reg?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

type EntryType = 'File' | 'Directory' | 'SymbolicLink' | 'Link' | 'CharacterDevice' | 'BlockDevice' | 'FIFO';

/** One raw tar entry: header block and padded content. */
function entry(path: string, type: EntryType = 'File', content: Buffer | string = '', linkpath?: string): Buffer {
  const body = Buffer.from(content);
  const block = Buffer.alloc(512);
  const size = type === 'File' ? body.byteLength : 0;
  new Header({ path, type, size, mode: 0o644, mtime: new Date(0), uid: 0, gid: 0, devmaj: 1, devmin: 3, ...(linkpath ? { linkpath } : {}) }).encode(block, 0);
  if (size === 0) return block;
  return Buffer.concat([block, body, Buffer.alloc((512 - (size % 512)) % 512)]);
}

function tarOf(...entries: Buffer[]): Buffer {
  return Buffer.concat([...entries, Buffer.alloc(1024)]);
}

async function layer(repo: string, bytes: Buffer, mediaType: string, title?: string): Promise<RawDescriptor> {
  return raw.pushBlob(repo, bytes, mediaType, title === undefined ? undefined : { [TITLE]: title });
}

let n = 0;
/** Pulls `ref` into <sandbox>/out; returns the result and everything in the sandbox afterwards. */
async function pullIntoSandbox(ref: string, extra: string[] = []): Promise<{ r: CliResult; sandbox: string; files: Record<string, string> }> {
  const sandbox = await mkdtemp(join(work, `sandbox-${++n}-`));
  const r = await runCli(['pull', ref, '-o', join(sandbox, 'out'), ...extra]);
  return { r, sandbox, files: await snapshot(sandbox) };
}

/** Refused: the expected exit code and message, and nothing at all written. */
async function expectRefused(ref: string, code: number, pattern: RegExp, extra: string[] = []): Promise<CliResult> {
  const { r, files } = await pullIntoSandbox(ref, extra);
  expectCleanFailure(r, code, pattern);
  expect(files).toEqual({});
  return r;
}

const POLICY = clusterPolicyYaml('inside');

describe('tar entries that try to escape or are not plain files', () => {
  const cases: Array<[string, string, Buffer, RegExp]> = [
    ['H01', 'a "../" path', tarOf(entry('../../escape.yaml', 'File', POLICY)), /entry "\.\.\/\.\.\/escape\.yaml" has a path that leaves the archive/],
    ['H02', 'an absolute path', tarOf(entry('/tmp/policyoci-absolute-escape.yaml', 'File', POLICY)), /entry "\/tmp\/policyoci-absolute-escape\.yaml" has a path that leaves/],
    ['H03', 'a symbolic link', tarOf(entry('link.yaml', 'SymbolicLink', '', '/etc/passwd')), /entry "link\.yaml" is a SymbolicLink; only regular files/],
    ['H04', 'a hard link', tarOf(entry('p.yaml', 'File', POLICY), entry('hard.yaml', 'Link', '', 'p.yaml')), /entry "hard\.yaml" is a Link; only regular files/],
    ['H05', 'a character device', tarOf(entry('null.yaml', 'CharacterDevice')), /is a CharacterDevice; only regular files/],
    ['H05', 'a block device', tarOf(entry('sda.yaml', 'BlockDevice')), /is a BlockDevice; only regular files/],
    ['H05', 'a FIFO', tarOf(entry('fifo.yaml', 'FIFO')), /is a FIFO; only regular files/],
  ];
  it.each(cases)('%s a bundle layer with %s: refused, nothing written', async (id, _what, tar, pattern) => {
    const repo = `hostile/${id.toLowerCase()}-${++n}`;
    await pushCrafted(raw, repo, 'v1', [await layer(repo, gzipSync(tar), KYVERNO_TGZ)]);
    await expectRefused(`${reg.host}/${repo}:v1`, 6, pattern);
    expect(existsSync('/tmp/policyoci-absolute-escape.yaml')).toBe(false);
    expect(existsSync(join(work, 'escape.yaml'))).toBe(false);
  });

  it('H03 control, the same kind of bundle with regular files only: read', async () => {
    const repo = 'hostile/control';
    await pushCrafted(raw, repo, 'v1', [await layer(repo, gzipSync(tarOf(entry('dir/p.yaml', 'File', POLICY))), KYVERNO_TGZ)]);
    const { r, files } = await pullIntoSandbox(`${reg.host}/${repo}:v1`);
    expect(r.code, r.stderr).toBe(0);
    expect(Object.keys(files)).toEqual(['out', 'out/inside.yaml']);
  });
});

describe('bombs and sizes', () => {
  it('H06 a gzip bomb (256 MiB of zeros in 256 KB): stopped at --max-uncompressed-size, quickly, nothing written', async () => {
    const gz = await new Promise<Buffer>((resolve, reject) => {
      const z = createGzip({ level: constants.Z_BEST_COMPRESSION });
      const out: Buffer[] = [];
      z.on('data', (c: Buffer) => out.push(c));
      z.on('end', () => resolve(Buffer.concat(out)));
      z.on('error', reject);
      z.write(entry('bomb.yaml', 'File', '').subarray(0, 512)); // a header claiming an empty file, then zeros
      const zeros = Buffer.alloc(1024 * 1024);
      for (let i = 0; i < 256; i++) z.write(zeros);
      z.end();
    });
    expect(gz.byteLength).toBeLessThan(1024 * 1024);
    const repo = 'hostile/gzip-bomb';
    await pushCrafted(raw, repo, 'v1', [await layer(repo, gz, KYVERNO_TGZ)]);
    const t0 = Date.now();
    await expectRefused(`${reg.host}/${repo}:v1`, 6, /decompresses to more than 67108864 bytes \(limit --max-uncompressed-size\)/);
    expect(Date.now() - t0).toBeLessThan(20_000);
  });

  it('H06 a gzip inside the gzip (the tar reader would expand it on its own, past the limit): refused', async () => {
    const payload = Buffer.alloc(100 * 1024 * 1024, 0x61); // 100 MiB behind 2 levels of gzip: a few hundred bytes
    const inner = gzipSync(tarOf(entry('big.yaml', 'File', payload)));
    const repo = 'hostile/nested-gzip';
    await pushCrafted(raw, repo, 'v1', [await layer(repo, gzipSync(inner), KYVERNO_TGZ)]);
    await expectRefused(`${reg.host}/${repo}:v1`, 6, /a compressed archive inside the gzip layer/);
  });

  it('H06 a zstd archive (the tar reader would expand it without our limit): refused', async () => {
    const repo = 'hostile/zstd';
    const zst = zstdCompressSync(tarOf(entry('p.yaml', 'File', POLICY)));
    await pushCrafted(raw, repo, 'v1', [await layer(repo, zst, KYVERNO_TGZ)]);
    await expectRefused(`${reg.host}/${repo}:v1`, 6, /a compressed archive inside a layer/);
  });

  it('H07 a tar of 100,000 entries: stopped at --max-archive-entries, quickly, nothing written', async () => {
    const entries: Buffer[] = [];
    for (let i = 0; i < 100_000; i++) entries.push(entry(`e/${i}.yaml`));
    const repo = 'hostile/many-entries';
    await pushCrafted(raw, repo, 'v1', [await layer(repo, gzipSync(tarOf(...entries)), KYVERNO_TGZ)]);
    const t0 = Date.now();
    await expectRefused(`${reg.host}/${repo}:v1`, 6, /holds more than 20000 entries \(limit --max-archive-entries\)/);
    expect(Date.now() - t0).toBeLessThan(20_000);
  });

  it('H08 a manifest of 50 MB: refused by its announced size before it is downloaded', async () => {
    const big = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: 'x', digest: sha256('x'), size: 1 }, layers: [], annotations: { pad: 'x'.repeat(50 * 1024 * 1024) } }));
    const proxy = await startFaultProxy({ upstream: reg.url });
    try {
      const headers = { 'content-type': OCI_MANIFEST, 'docker-content-digest': sha256(big) };
      proxy.addRule({ name: 'big', path: '/manifests/', fault: { kind: 'respond', headers, body: big } });
      const r = await expectRefused(`${proxy.host}/hostile/big:v1`, 6, /manifest sha256:[0-9a-f]{64} is \d+ bytes, above the limit of 4194304 \(--max-manifest-size\)/);
      // The GET is dropped at its Content-Length (never read); the HEAD names the digest for the message.
      expect(proxy.log.map((e) => e.method)).toEqual(['GET', 'HEAD']);
      expect(r.stderr).not.toContain('xxxx');
    } finally {
      await proxy.stop();
    }
  });

  it('H08 a 50 MB manifest from a registry that does not announce its size: cut off at the limit while reading', async () => {
    const big = Buffer.from(JSON.stringify({ schemaVersion: 2, layers: [], pad: 'x'.repeat(50 * 1024 * 1024) }));
    const proxy = await startFaultProxy({ upstream: reg.url });
    try {
      proxy.addRule({ name: 'no-head', method: 'HEAD', path: '/manifests/', fault: { kind: 'respond', headers: { 'content-type': 'text/plain' }, body: '' } });
      proxy.addRule({ name: 'big', method: 'GET', path: '/manifests/', fault: { kind: 'respond', headers: { 'content-type': OCI_MANIFEST }, body: big } });
      await expectRefused(`${proxy.host}/hostile/big2:v1`, 6, /larger than the limit of 4194304 bytes/);
    } finally {
      await proxy.stop();
    }
  });

  it('H09 a manifest with 100,000 layers, and one with 25,000 small layers: refused by --max-manifest-size and --max-layers, before any layer is fetched', async () => {
    const repo = 'hostile/many-layers';
    const one = await layer(repo, Buffer.from(POLICY), KYVERNO_YAML);
    const config = await raw.pushBlob(repo, Buffer.from('{}'), 'application/vnd.cncf.kyverno.config.v1+json');
    const manifestOf = (count: number) => Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: Array.from({ length: count }, () => one) }));
    const huge = manifestOf(100_000);
    const wide = manifestOf(25_000);
    expect(huge.byteLength).toBeGreaterThan(4 * 1024 * 1024);
    expect(wide.byteLength).toBeLessThan(4 * 1024 * 1024);
    const proxy = await startFaultProxy({ upstream: reg.url });
    try {
      // Served by the proxy, to keep the registry's storage small.
      const serve = (tag: string, body: Buffer) =>
        proxy.addRule({ name: tag, path: new RegExp(`/manifests/(${tag}|${sha256(body)})$`), fault: { kind: 'respond', headers: { 'content-type': OCI_MANIFEST, 'docker-content-digest': sha256(body) }, body } });
      serve('huge', huge);
      serve('wide', wide);
      await expectRefused(`${proxy.host}/${repo}:huge`, 6, /is \d+ bytes, above the limit of 4194304 \(--max-manifest-size\)/);
      await expectRefused(`${proxy.host}/${repo}:wide`, 6, /has 25000 layers, above the limit of 20000 \(--max-layers\)/);
      expect(proxy.log.filter((e) => e.path.includes('/blobs/'))).toEqual([]);
    } finally {
      await proxy.stop();
    }
  });

  it('H18 an index listing 100 manifests: refused', async () => {
    const repo = 'hostile/wide-index';
    const child = await pushCrafted(raw, repo, 'child', [await layer(repo, Buffer.from(POLICY), KYVERNO_YAML)]);
    const size = (await raw.manifest(repo, child)).bytes.byteLength;
    const index = { schemaVersion: 2, mediaType: OCI_INDEX, manifests: Array.from({ length: 100 }, () => ({ mediaType: OCI_MANIFEST, digest: child, size })) };
    await raw.putManifest(repo, 'v1', index, OCI_INDEX);
    await expectRefused(`${reg.host}/${repo}:v1`, 6, /lists 100 manifests; at most 64 are read/);
  });
});

describe('layers that lie about themselves', () => {
  it('H10 a layer whose declared size is smaller than its bytes: refused', async () => {
    const repo = 'hostile/size-small';
    const l = await layer(repo, Buffer.from(POLICY), KYVERNO_YAML);
    await pushCrafted(raw, repo, 'v1', [{ ...l, size: 20 }]);
    await expectRefused(`${reg.host}/${repo}:v1`, 6, /larger than the limit of 20 bytes|descriptor says 20/);
  });

  it('H11 a layer whose declared size is larger than its bytes: refused', async () => {
    const repo = 'hostile/size-large';
    const l = await layer(repo, Buffer.from(POLICY), KYVERNO_YAML);
    await pushCrafted(raw, repo, 'v1', [{ ...l, size: l.size + 100 }]);
    await expectRefused(`${reg.host}/${repo}:v1`, 6, new RegExp(`is ${l.size} bytes, but its descriptor says ${l.size + 100}`));
  });

  it('H11 a layer declaring 10 GiB: refused by --max-layer-size before it is fetched', async () => {
    const repo = 'hostile/size-huge';
    const l = await layer(repo, Buffer.from(POLICY), KYVERNO_YAML);
    await pushCrafted(raw, repo, 'v1', [{ ...l, size: 10 * 1024 * 1024 * 1024 }]);
    await expectRefused(`${reg.host}/${repo}:v1`, 6, /declares 10737418240 bytes, above the limit of 16777216 \(--max-layer-size\)/);
  });

  it('H12 a layer whose bytes differ from its digest (served by a lying registry): refused', async () => {
    const repo = 'hostile/digest';
    const l = await layer(repo, Buffer.from(POLICY), KYVERNO_YAML);
    await pushCrafted(raw, repo, 'v1', [l]);
    const other = Buffer.from(clusterPolicyYaml('evil!!')); // same length as "inside", other bytes
    expect(other.byteLength).toBe(l.size);
    const proxy = await startFaultProxy({ upstream: reg.url });
    try {
      proxy.addRule({ name: 'swap', method: 'GET', path: l.digest, fault: { kind: 'respond', body: other } });
      await expectRefused(`${proxy.host}/${repo}:v1`, 6, new RegExp(`does not match its digest: expected ${l.digest}, got ${sha256(other)}`));
    } finally {
      await proxy.stop();
    }
  });

  it('H12 a layer descriptor with the digest "sha256:../../../etc/passwd": refused, never requested', async () => {
    const repo = 'hostile/bad-digest';
    const l = await layer(repo, Buffer.from(POLICY), KYVERNO_YAML);
    await pushCrafted(raw, repo, 'v1', [l]);
    const manifest = { schemaVersion: 2, mediaType: OCI_MANIFEST, config: (await raw.manifest(repo, 'v1')).json.config, layers: [{ ...l, digest: 'sha256:../../../etc/passwd' }] };
    const bytes = Buffer.from(JSON.stringify(manifest));
    const proxy = await startFaultProxy({ upstream: reg.url });
    try {
      proxy.addRule({ name: 'm', path: '/manifests/', fault: { kind: 'respond', headers: { 'content-type': OCI_MANIFEST, 'docker-content-digest': sha256(bytes) }, body: bytes } });
      await expectRefused(`${proxy.host}/${repo}:v1`, 6, /malformed digest "sha256:\.\.\/\.\.\/\.\.\/etc\/passwd"/);
      expect(proxy.log.some((e) => e.path.includes('passwd'))).toBe(false);
    } finally {
      await proxy.stop();
    }
  });

  it('H13 a layer whose media type claims YAML but holds binary: refused', async () => {
    const repo = 'hostile/binary';
    const bin = Buffer.concat([Buffer.from('apiVersion: kyverno.io/v1\n'), Buffer.from([0, 1, 2, 0xff, 0xfe, 0x80])]);
    await pushCrafted(raw, repo, 'v1', [await layer(repo, bin, KYVERNO_YAML, 'p.yaml')]);
    await expectRefused(`${reg.host}/${repo}:v1`, 6, /claims YAML\/JSON but the content is binary/);
  });

  it('H13 a manifest that is not JSON: refused', async () => {
    const proxy = await startFaultProxy({ upstream: reg.url });
    try {
      const junk = Buffer.from('\u0000\u0001 not json');
      proxy.addRule({ name: 'm', path: '/manifests/', fault: { kind: 'respond', headers: { 'content-type': OCI_MANIFEST, 'docker-content-digest': sha256(junk) }, body: junk } });
      await expectRefused(`${proxy.host}/hostile/junk:v1`, 6, /is not valid JSON/);
    } finally {
      await proxy.stop();
    }
  });
});

describe('names, titles and collisions', () => {
  it('H14 policy names and titles with /, .., NUL and Windows device names: files get safe names inside the output directory', async () => {
    const repo = 'hostile/names';
    const names = ['../../escape', 'a/b', '..', 'CON', 'nul', 'com1', 'x\u0000y', '.hidden', 'C:\\windows', '/etc/passwd'];
    const titles = ['../../title-escape.yaml', '/tmp/policyoci-title-escape.yaml', 'CON', 'a\u0000b.yaml', '..', 'aux.yaml', 'C:\\evil.yaml', '.', '', 'x/../../y.yaml'];
    const layers: RawDescriptor[] = [];
    for (const [i, name] of names.entries()) layers.push(await layer(repo, Buffer.from(clusterPolicyYaml(name)), KYVERNO_YAML, titles[i]!));
    await pushCrafted(raw, repo, 'v1', layers);
    const { r, sandbox, files } = await pullIntoSandbox(`${reg.host}/${repo}:v1`, ['--format', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const written = Object.keys(files).filter((f) => f !== 'out');
    expect(written).toHaveLength(names.length);
    for (const f of written) {
      expect(f).toMatch(/^out\/_?[a-z0-9][a-z0-9._-]*\.yaml$/);
      expect(f.slice(4)).not.toMatch(/^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\.|$)/i);
    }
    // Each file holds its policy with the name unchanged; nothing named by a title exists anywhere.
    const read = await Promise.all(written.map(async (f) => (parse(await readFile(join(sandbox, f), 'utf8')) as { metadata: { name: string } }).metadata.name));
    expect(read.sort()).toEqual([...names].sort());
    expect(existsSync('/tmp/policyoci-title-escape.yaml')).toBe(false);
    expect(existsSync(join(sandbox, '..', 'title-escape.yaml'))).toBe(false);
  });

  it('H15 two layers mapping to the same file: both kept under distinct names, identical ones written once', async () => {
    const repo = 'hostile/same-file';
    const a = await layer(repo, Buffer.from(clusterPolicyYaml('dup')), KYVERNO_YAML, 'same.yaml');
    const b = await layer(repo, Buffer.from(clusterPolicyYaml('dup').replace('message: denied', 'message: other')), KYVERNO_YAML, 'same.yaml');
    await pushCrafted(raw, repo, 'v1', [a, b, a]);
    const { r, sandbox, files } = await pullIntoSandbox(`${reg.host}/${repo}:v1`);
    expect(r.code, r.stderr).toBe(0);
    const written = Object.keys(files).filter((f) => f !== 'out').sort();
    expect(written).toHaveLength(2);
    const messages = await Promise.all(written.map(async (f) => (parse(await readFile(join(sandbox, f), 'utf8')) as { spec: { rules: Array<{ validate: { message: string } }> } }).spec.rules[0]!.validate.message));
    expect(messages.sort()).toEqual(['denied', 'other']);
  });
});

describe('artifacts that smuggle other kinds', () => {
  const smuggled: Array<[string, string]> = [
    ['Secret', 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: stolen\n  namespace: default\nstringData:\n  password: hunter2\n'],
    ['ClusterRoleBinding', 'apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n  name: pwned\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: cluster-admin\nsubjects:\n  - kind: User\n    name: eve\n    apiGroup: rbac.authorization.k8s.io\n'],
    ['ValidatingWebhookConfiguration', 'apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\nmetadata:\n  name: intercept\nwebhooks: []\n'],
  ];

  it('H16 a Secret, a ClusterRoleBinding and a ValidatingWebhookConfiguration beside a policy: the pull is refused as a whole, each named', async () => {
    const repo = 'hostile/smuggle';
    const layers = [await layer(repo, Buffer.from(POLICY), KYVERNO_YAML, 'ok.yaml')];
    for (const [kind, text] of smuggled) layers.push(await layer(repo, Buffer.from(text), KYVERNO_YAML, `${kind}.yaml`));
    await pushCrafted(raw, repo, 'v1', layers);
    const r = await expectRefused(`${reg.host}/${repo}:v1`, 6, /refused the artifact: 3 problems/);
    for (const kind of ['v1/Secret', 'rbac.authorization.k8s.io/v1/ClusterRoleBinding', 'admissionregistration.k8s.io/v1/ValidatingWebhookConfiguration']) {
      expect(r.stderr).toContain(`(${kind}) is not a policy of a known engine`);
    }
    expect(r.stderr).not.toContain('hunter2');
  });

  it('H16 the same kinds hidden in a bundle (tar+gzip) layer: refused too', async () => {
    const repo = 'hostile/smuggle-bundle';
    const tar = tarOf(entry('ok.yaml', 'File', POLICY), ...smuggled.map(([kind, text]) => entry(`${kind}.yaml`, 'File', text)));
    await pushCrafted(raw, repo, 'v1', [await layer(repo, gzipSync(tar), KYVERNO_TGZ)]);
    await expectRefused(`${reg.host}/${repo}:v1`, 6, /refused the artifact: 3 problems, first: .*Secret\.yaml\)?: document 0 \(v1\/Secret\) is not a policy/);
  });
});

describe('limits are configurable and documented', () => {
  const FLAGS = ['--max-manifest-size', '--max-layers', '--max-layer-size', '--max-uncompressed-size', '--max-archive-entries'];

  it('H17 the five limits: each is a pull and apply flag, shown by --help and documented in docs/FORMAT.md', async () => {
    const help = (await runOk(['pull', '--help'])).stdout;
    const applyHelp = (await runOk(['apply', '--help'])).stdout;
    const doc = await readFile(join(import.meta.dirname, '..', '..', 'docs', 'FORMAT.md'), 'utf8');
    for (const flag of FLAGS) {
      expect(help).toContain(flag);
      expect(applyHelp).toContain(flag);
      expect(doc).toContain(`\`${flag}\``);
    }
  });

  it('H17 --max-manifest-size above 4 MiB for a registry: a 5 MiB manifest is read when the limit allows it', async () => {
    const repo = 'hostile/raised-limit';
    const l = await layer(repo, Buffer.from(POLICY), KYVERNO_YAML);
    const config = await raw.pushBlob(repo, Buffer.from('{}'), 'application/vnd.cncf.kyverno.config.v1+json');
    const big = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: [l], annotations: { pad: 'x'.repeat(5 * 1024 * 1024) } }));
    const proxy = await startFaultProxy({ upstream: reg.url });
    try {
      proxy.addRule({ name: 'm', path: new RegExp(`/manifests/(v1|${sha256(big)})$`), fault: { kind: 'respond', headers: { 'content-type': OCI_MANIFEST, 'docker-content-digest': sha256(big) }, body: big } });
      const { r } = await pullIntoSandbox(`${proxy.host}/${repo}:v1`, ['--max-manifest-size', String(8 * 1024 * 1024)]);
      expect(r.code, r.stderr).toBe(0);
    } finally {
      await proxy.stop();
    }
  });

  it('H17 each limit lowered below one artifact: refused naming the flag; at the defaults the same artifact is read', async () => {
    const repo = 'hostile/limits';
    const tar = tarOf(...Array.from({ length: 30 }, (_, i) => entry(`p${i}.yaml`, 'File', clusterPolicyYaml(`p${i}`))));
    const layers = [await layer(repo, gzipSync(tar), KYVERNO_TGZ), await layer(repo, Buffer.from(POLICY), KYVERNO_YAML)];
    await pushCrafted(raw, repo, 'v1', layers);
    const ref = `${reg.host}/${repo}:v1`;
    await expectRefused(ref, 6, /\(--max-manifest-size\)/, ['--max-manifest-size', '100']);
    await expectRefused(ref, 6, /has 2 layers, above the limit of 1 \(--max-layers\)/, ['--max-layers', '1']);
    await expectRefused(ref, 6, /above the limit of 500 \(--max-layer-size\)/, ['--max-layer-size', '500']);
    await expectRefused(ref, 6, /\(limit --max-uncompressed-size\)/, ['--max-uncompressed-size', '10000']);
    await expectRefused(ref, 6, /holds more than 10 entries \(limit --max-archive-entries\)/, ['--max-archive-entries', '10']);
    const { r, files } = await pullIntoSandbox(ref);
    expect(r.code, r.stderr).toBe(0);
    expect(Object.keys(files).length).toBe(32);
    expect((await readdir(join(work))).length).toBeGreaterThan(0);
  });
});
