// Kyverno CEL Policy Bundle 1.0 through a real registry with the executable: push/inspect/pull/copy
// round trip with the files byte for byte, reproducible digests (SOURCE_DATE_EPOCH), a mixed set
// refused, bundles crafted by hand (pushed with oras) refused as a conformant reader must (exit 6,
// nothing written), and what the Kyverno CLI 1.19 does with a 1.0 bundle (why it is opt-in).
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256, splitDocuments } from '../../src/artifact/kyverno-bundle.ts';
import { createTarGz } from '../../src/artifact/tarball.ts';
import { runCli, runOk } from '../support/cli.ts';
import { startRegistry, type RunningRegistry } from '../support/registry.ts';
import { runTool } from '../support/tools.ts';

const VPOL = (name: string) => `# ${name}: kept byte for byte, comment included
apiVersion: policies.kyverno.io/v1
kind: ValidatingPolicy
metadata:
  name: ${name}
spec:
  validationActions: [Audit]
  matchConstraints:
    resourceRules:
      - apiGroups: ['']
        apiVersions: [v1]
        operations: [CREATE]
        resources: [pods]
  validations:
    - expression: "has(object.metadata.labels)"   # trailing comment
`;
const PEX = `apiVersion: policies.kyverno.io/v1beta1
kind: PolicyException
metadata:
  name: team-a
  namespace: team-a
spec:
  policyRefs:
    - name: require-labels
      kind: ValidatingPolicy
  matchConditions:
    - name: always
      expression: "true"
`;

describe('Kyverno CEL Policy Bundle 1.0 with the executable', () => {
  let reg: RunningRegistry;
  let work: string;
  let root: string;
  beforeAll(async () => {
    reg = await startRegistry('open');
    work = await mkdtemp(join(tmpdir(), 'kbundle-e2e-'));
    root = join(work, 'root');
    await mkdir(join(root, 'policies'), { recursive: true });
    await mkdir(join(root, 'exceptions'));
    await mkdir(join(root, '.github'));
    await writeFile(join(root, 'policies', 'require-labels.yaml'), `${VPOL('require-labels')}---\n${VPOL('second')}`);
    await writeFile(join(root, 'exceptions', 'team-a.yml'), PEX);
    await writeFile(join(root, 'README.md'), '# not archived\n');
    await writeFile(join(root, '.github', 'ci.yaml'), 'on: push\n');
    await writeFile(join(root, 'kyverno-bundle.yaml'), 'apiVersion: cli.kyverno.io/v1alpha1\nkind: PolicyBundle\nmetadata:\n  name: baseline\nspec:\n  version: 1.0.0\n');
  });
  afterAll(async () => reg?.stop());

  const push = async (ref: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}) =>
    JSON.parse((await runOk(['push', `${reg.host}/${ref}`, root, '--kyverno-format', 'bundle-1.0', '--format', 'json', ...extra], { env })).stdout);

  it('push, inspect, pull --preserve-paths (byte for byte), copy (digest kept)', async () => {
    const pushed = await push('cel:v1');
    expect(pushed.kyvernoFormat).toBe('bundle-1.0');
    expect(pushed.policies).toBe(3);
    const inspected = JSON.parse((await runOk(['inspect', `${reg.host}/cel:v1`, '--format', 'json'])).stdout);
    const m = inspected.manifests[0];
    expect(m.configMediaType).toBe('application/vnd.cncf.kyverno.bundle.config.v1+json');
    expect(m.layers.map((l: { mediaType: string }) => l.mediaType)).toEqual(['application/vnd.cncf.kyverno.bundle.content.v1.tar+gzip']);
    expect(m.kyvernoBundle).toMatchObject({ formatVersion: '1.0.0', name: 'baseline', version: '1.0.0' });
    expect(m.kyvernoBundle.resources).toHaveLength(3);
    expect(inspected.annotations).toMatchObject({ 'io.kyverno.bundle.name': 'baseline', 'org.opencontainers.image.version': '1.0.0' });
    expect(inspected.annotations['org.opencontainers.image.created']).toBeUndefined();
    expect((await runOk(['inspect', `${reg.host}/cel:v1`])).stdout).toMatch(/Kyverno CEL Policy Bundle 1\.0\.0 \(name baseline, version 1\.0\.0\): 3 resources/);

    const out = join(work, 'pulled');
    await runOk(['pull', `${reg.host}/cel:v1`, '-o', out, '--preserve-paths']);
    expect((await readdir(out, { recursive: true })).filter((f) => /\.ya?ml$/.test(f)).sort()).toEqual(['exceptions/team-a.yml', 'policies/require-labels.yaml']);
    for (const f of ['exceptions/team-a.yml', 'policies/require-labels.yaml']) expect((await readFile(join(out, f))).equals(await readFile(join(root, f))), f).toBe(true);

    const copied = JSON.parse((await runOk(['copy', `${reg.host}/cel:v1`, `${reg.host}/mirror/cel:v1`, '--format', 'json'])).stdout);
    expect(copied.digest).toBe(pushed.digest);
    const perPolicy = JSON.parse((await runOk(['pull', `${reg.host}/mirror/cel:v1`, '-o', join(work, 'pp'), '--format', 'json'])).stdout);
    expect(perPolicy.files).toHaveLength(3);
  });

  it('reproducible: the same tree gives the same digest wherever it goes; SOURCE_DATE_EPOCH sets created', async () => {
    const a = await push('repro-a:v1');
    const b = await push('repro-b:other');
    expect(b.digest).toBe(a.digest);
    const e1 = await push('repro-c:v1', [], { SOURCE_DATE_EPOCH: '1700000000' });
    const e2 = await push('repro-d:v1', [], { SOURCE_DATE_EPOCH: '1700000000' });
    expect(e2.digest).toBe(e1.digest);
    expect(e1.digest).not.toBe(a.digest);
    const inspected = JSON.parse((await runOk(['inspect', `${reg.host}/repro-c:v1`, '--format', 'json'])).stdout);
    expect(inspected.annotations['org.opencontainers.image.created']).toBe('2023-11-14T22:13:20Z');
    expect(inspected.manifests[0].kyvernoBundle.created).toBe('2023-11-14T22:13:20Z');
  });

  it('a mixed set (ClusterPolicy next to CEL policies) is refused, nothing pushed; the default format is unchanged', async () => {
    const mixed = join(work, 'mixed');
    await mkdir(mixed);
    await writeFile(join(mixed, 'a.yaml'), VPOL('a'));
    await writeFile(join(mixed, 'cp.yaml'), 'apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata:\n  name: cp\nspec:\n  rules: []\n');
    const refused = await runCli(['push', `${reg.host}/mixed:v1`, mixed, '--kyverno-format', 'bundle-1.0']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/legacy kyverno\.io kind/);
    expect((await runCli(['inspect', `${reg.host}/mixed:v1`])).code).not.toBe(0);
    const plain = JSON.parse((await runOk(['push', `${reg.host}/plain:v1`, join(root, 'policies'), '--format', 'json'])).stdout);
    expect(plain.kyvernoFormat).toBeUndefined();
    const inspected = JSON.parse((await runOk(['inspect', `${reg.host}/plain:v1`, '--format', 'json'])).stdout);
    expect(inspected.manifests[0].configMediaType).toBe('application/vnd.cncf.kyverno.config.v1+json');
  });

  it('the Kyverno CLI 1.19 silently writes nothing from a 1.0 bundle (why the format is opt-in)', async () => {
    const out = join(work, 'by-kyverno');
    runTool('kyverno', ['oci', 'pull', out, '-i', `${reg.host}/cel:v1`], { env: { KYVERNO_EXPERIMENTAL: 'true' } });
    expect(await readdir(out).catch(() => [])).toEqual([]);
  });

  describe('bundles crafted with oras exactly as the spec describes them', () => {
    const files = [{ path: 'policies/require-labels.yaml', content: VPOL('require-labels') }];
    const config = (over: Record<string, unknown> = {}) => ({
      formatVersion: '1.0.0',
      sets: [{ name: 'policies', type: 'policies' }],
      resources: files.map((f) => ({ apiVersion: 'policies.kyverno.io/v1', kind: 'ValidatingPolicy', namespace: '', name: 'require-labels', path: f.path, documentIndex: 0, digest: sha256(splitDocuments(f.content)[0]!), set: 'policies' })),
      ...over,
    });
    const orasPush = async (repo: string, cfg: unknown, layers: Array<{ name: string; content: Buffer; mediaType: string }>) => {
      const stage = await mkdtemp(join(work, 'stage-'));
      await writeFile(join(stage, 'config.json'), JSON.stringify(cfg));
      for (const l of layers) await writeFile(join(stage, l.name), l.content);
      runTool('oras', ['push', '--plain-http', `${reg.host}/${repo}:v1`, '--config', 'config.json:application/vnd.cncf.kyverno.bundle.config.v1+json', ...layers.map((l) => `${l.name}:${l.mediaType}`)], { cwd: stage });
      return `${reg.host}/${repo}:v1`;
    };
    const CONTENT = 'application/vnd.cncf.kyverno.bundle.content.v1.tar+gzip';
    const tar = (fs = files) => createTarGz(fs.map((f) => ({ path: f.path, content: Buffer.from(f.content) })));

    it('a conformant bundle is read by pull, and its files come back byte for byte', async () => {
      const ref = await orasPush('crafted-ok', config(), [{ name: 'content.tar.gz', content: tar(), mediaType: CONTENT }]);
      const out = join(work, 'crafted-ok');
      await runOk(['pull', ref, '-o', out, '--preserve-paths']);
      expect(await readFile(join(out, 'policies/require-labels.yaml'), 'utf8')).toBe(VPOL('require-labels'));
    });

    it.each([
      ['an index digest that does not match', () => config({ resources: [{ ...config().resources[0], digest: sha256('x') }] }), () => [{ name: 'c.tar.gz', content: tar(), mediaType: CONTENT }], /index digest/],
      ['an archived document without an index entry', () => config({ resources: [] }), () => [{ name: 'c.tar.gz', content: tar(), mediaType: CONTENT }], /no index entry/],
      ['two layers', () => config(), () => [{ name: 'c.tar.gz', content: tar(), mediaType: CONTENT }, { name: 'x.yaml', content: Buffer.from(VPOL('x')), mediaType: 'application/yaml' }], /2 layers/],
      ['a legacy per-resource layer', () => config(), () => [{ name: 'x.yaml', content: Buffer.from(VPOL('x')), mediaType: 'application/vnd.cncf.kyverno.policy.layer.v1+yaml' }], /legacy image format/],
      ['format 2.0.0', () => config({ formatVersion: '2.0.0' }), () => [{ name: 'c.tar.gz', content: tar(), mediaType: CONTENT }], /2\.0\.0.*1\.x/],
      ['a v1 List', () => config({ resources: [] }), () => [{ name: 'c.tar.gz', content: tar([{ path: 'l.yaml', content: 'apiVersion: v1\nkind: List\nitems: []\n' }]), mediaType: CONTENT }], /v1 List/],
    ])('refuses %s: exit 6, nothing written', async (name, cfg, layers, pattern) => {
      const ref = await orasPush(`crafted-${name.replace(/[^a-z0-9]+/g, '-')}`, cfg(), layers());
      const out = join(work, `bad-${name.replace(/[^a-z0-9]+/g, '-')}`);
      const res = await runCli(['pull', ref, '-o', out]);
      expect(res.code, res.stderr).toBe(6);
      expect(res.stderr).toMatch(pattern);
      expect(await readdir(out).catch(() => [])).toEqual([]);
    });
  });
});
