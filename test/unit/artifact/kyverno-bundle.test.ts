// Kyverno CEL Policy Bundle 1.0 (kyverno/kyverno docs/dev/oci/bundle-spec.md) against its §9
// checklists: the reference splitter's vectors, every writer MUST, and bundles crafted here exactly
// as the spec describes them (plus each malformed shape a reader MUST refuse) read back through
// readArtifact, the reader every command uses.
import { mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { Header, Parser } from 'tar';
import { describe, expect, it } from 'vitest';
import {
  checkBundleManifest,
  checkDocuments,
  isEmptyDocument,
  KYVERNO_BUNDLE_CONFIG,
  KYVERNO_BUNDLE_CONTENT,
  packKyvernoBundle,
  parseDescriptor,
  sha256,
  splitDocuments,
  type BundleFile,
} from '../../../src/artifact/kyverno-bundle.ts';
import { readBundleRoot } from '../../../src/artifact/kyverno-bundle-input.ts';
import { createTarGz } from '../../../src/artifact/tarball.ts';
import { readArtifact } from '../../../src/artifact/unpack.ts';
import { MemoryStore } from '../../../src/content/memory.ts';
import { PolicyOciError } from '../../../src/errors.ts';
import { describe as describeBlob } from '../../../src/oci/digest.ts';
import { OCI_MANIFEST } from '../../../src/oci/mediatypes.ts';

const VPOL = (name: string, version = 'v1beta1') => `apiVersion: policies.kyverno.io/${version}
kind: ValidatingPolicy
metadata:
  name: ${name} # a comment the bundle keeps
spec:
  validationActions: [Deny]
  matchConstraints:
    resourceRules:
      - apiGroups: ['']
        apiVersions: [v1]
        operations: [CREATE]
        resources: [pods]
  validations:
    - expression: "has(object.metadata.labels)"
`;
const PEX = `apiVersion: policies.kyverno.io/v1beta1
kind: PolicyException
metadata:
  name: check-pod
  namespace: team-a
spec:
  policyRefs:
    - name: require-labels
      kind: ValidatingPolicy
  matchConditions:
    - name: team-a
      expression: "true"
`;
const CLUSTER_POLICY = `apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: legacy
spec:
  rules: []
`;

const file = (path: string, text: string): BundleFile => ({ path, content: Buffer.from(text) });

function pack(files: BundleFile[], options: Parameters<typeof packKyvernoBundle>[2] = {}) {
  const checked = checkDocuments(files, (p) => p, true);
  expect(checked.problems).toEqual([]);
  return packKyvernoBundle(files, checked.documents, options);
}

function writerProblems(files: BundleFile[]): string[] {
  return checkDocuments(files, (p) => p, true).problems;
}

/** Raw tar entries (headers as a tar reader reports them). */
function tarEntries(targz: Buffer): Array<{ path: string; mode: number; uid: number; gid: number; uname: string; gname: string; mtime: number; type: string }> {
  const out: Array<{ path: string; mode: number; uid: number; gid: number; uname: string; gname: string; mtime: number; type: string }> = [];
  const p = new Parser({ onReadEntry: (e) => {
    out.push({ path: e.path, mode: e.mode!, uid: e.uid!, gid: e.gid!, uname: e.uname ?? '', gname: e.gname ?? '', mtime: e.mtime!.getTime(), type: e.type });
    e.resume();
  } });
  p.end(gunzipSync(targz));
  return out;
}

describe('reference splitter (ext/yaml.SplitDocuments)', () => {
  it.each([
    ['enabled: true', ['enabled: true\n']],
    ['enabled: true\n---\ndisabled: false', ['enabled: true\n', 'disabled: false\n']],
    ['enabled: true\n---\n---\ndisabled: false', ['enabled: true\n', '---\ndisabled: false\n']],
    ['', []],
    ['a: 1\r\n---\r\nb: 2\r\n', ['a: 1\n', 'b: 2\n']],
    ['---\na: 1\n', ['---\na: 1\n']],
    ['# only a comment\n---\na: 1\n', ['a: 1\n']],
    ['a: 1\n--- # comment\nb: 2\n', ['a: 1\n', 'b: 2\n']],
  ])('%j → %j', (input, expected) => {
    expect(splitDocuments(input)).toEqual(expected);
  });

  it('refuses an invalid separator', () => {
    expect(() => splitDocuments('enabled: true\n--- oops\ndisabled: false')).toThrow(/separator/);
  });

  it('empty documents: blank, comments, markers', () => {
    expect(isEmptyDocument('---\n# c\n...')).toBe(true);
    expect(isEmptyDocument('---foo')).toBe(false);
    expect(isEmptyDocument('--- # source')).toBe(true);
  });
});

describe('writer MUST (spec §9)', () => {
  const input = [file('policies/require-labels.yaml', `# leading comment\n${VPOL('require-labels')}---\n${VPOL('second', 'v1')}`), file('exceptions/team-a.yaml', PEX)];

  it('1, 2: one OCI manifest, no artifactType/subject, one content layer, a config with formatVersion, sets, resources', () => {
    const { packed, config } = pack(input);
    const m = packed.manifest as unknown as Record<string, unknown>;
    expect(m.mediaType).toBe(OCI_MANIFEST);
    expect(m.artifactType).toBeUndefined();
    expect(m.subject).toBeUndefined();
    expect(packed.manifest.layers.map((l) => l.mediaType)).toEqual([KYVERNO_BUNDLE_CONTENT]);
    expect(packed.manifest.config.mediaType).toBe(KYVERNO_BUNDLE_CONFIG);
    expect(config.formatVersion).toBe('1.0.0');
    expect(config.sets).toEqual([{ name: 'policies', type: 'policies' }, { name: 'exceptions', type: 'exceptions' }]);
    expect(config.resources.map((r) => [r.path, r.documentIndex, r.kind, r.namespace, r.name, r.set])).toEqual([
      ['exceptions/team-a.yaml', 0, 'PolicyException', 'team-a', 'check-pod', 'exceptions'],
      ['policies/require-labels.yaml', 0, 'ValidatingPolicy', '', 'require-labels', 'policies'],
      ['policies/require-labels.yaml', 1, 'ValidatingPolicy', '', 'second', 'policies'],
    ]);
    // The v1 document stays v1 (a writer MUST NOT rewrite apiVersion).
    expect(config.resources[2]!.apiVersion).toBe('policies.kyverno.io/v1');
    // The config blob is that JSON, key order as in the spec's table.
    const blob = JSON.parse(packed.blobs[0]!.content.toString());
    expect(Object.keys(blob)).toEqual(['formatVersion', 'sets', 'resources']);
    expect(packed.manifest.annotations).toEqual({ 'io.kyverno.bundle.format-version': '1.0.0' });
  });

  it('3, 9: files byte for byte at their paths; sorted, regular, 0644, uid/gid 0, no names, mtime 0; gzip mtime 0, no FNAME', () => {
    const { packed } = pack(input);
    const layer = packed.blobs[1]!.content;
    expect(layer.readUInt32LE(4)).toBe(0); // gzip MTIME
    expect(layer[3]! & 0x08).toBe(0); // FLG.FNAME unset
    const entries = tarEntries(layer);
    expect(entries.map((e) => e.path)).toEqual(['exceptions/team-a.yaml', 'policies/require-labels.yaml']);
    for (const e of entries) expect(e).toMatchObject({ type: 'File', mode: 0o644, uid: 0, gid: 0, uname: '', gname: '', mtime: 0 });
  });

  it('9, 13: same input, same digests, whatever the order; nothing from the environment', () => {
    const a = pack(input).packed;
    const b = pack([...input].reverse()).packed;
    expect(a.descriptor.digest).toBe(b.descriptor.digest);
    expect(a.blobs.map((x) => x.descriptor.digest)).toEqual(b.blobs.map((x) => x.descriptor.digest));
  });

  it('10: created only with SOURCE_DATE_EPOCH or spec.created; the same epoch gives the same digest', () => {
    const withEpoch = pack(input, { sourceDateEpoch: '1700000000' });
    expect(withEpoch.config.created).toBe('2023-11-14T22:13:20Z');
    expect(withEpoch.packed.manifest.annotations!['org.opencontainers.image.created']).toBe('2023-11-14T22:13:20Z');
    expect(pack(input, { sourceDateEpoch: '1700000000' }).packed.descriptor.digest).toBe(withEpoch.packed.descriptor.digest);
    expect(pack(input).config.created).toBeUndefined();
    expect(() => pack(input, { sourceDateEpoch: 'yesterday' })).toThrow(/SOURCE_DATE_EPOCH/);
  });

  it('11: index digests and documentIndex from the reference splitter', () => {
    const quirk = file('q.yaml', `${VPOL('a')}---\n---\n${VPOL('b')}`);
    const { config } = pack([quirk]);
    expect(config.resources.map((r) => r.documentIndex)).toEqual([0, 1]);
    expect(config.resources[0]!.digest).toBe(sha256(VPOL('a')));
    expect(config.resources[1]!.digest).toBe(sha256(`---\n${VPOL('b')}`));
  });

  it.each([
    ['4: a cli.kyverno.io document', [file('a.yaml', VPOL('a')), file('t.yaml', 'apiVersion: cli.kyverno.io/v1alpha1\nkind: Test\nmetadata:\n  name: t\n')], /cli\.kyverno\.io/],
    ['5: a legacy kyverno.io kind (a mixed set)', [file('a.yaml', VPOL('a')), file('cp.yaml', CLUSTER_POLICY)], /legacy kyverno\.io kind/],
    ['5: a Kubernetes admission policy', [file('v.yaml', 'apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingAdmissionPolicy\nmetadata:\n  name: v\n')], /admission policy/],
    ['5: v1alpha1', [file('a.yaml', VPOL('a', 'v1alpha1'))], /apiVersion not accepted/],
    ['5: a kustomization.yaml', [file('a.yaml', VPOL('a')), file('kustomization.yaml', 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n')], /not one of the 11/],
    ['6: the same identity twice (v1 and v1beta1)', [file('a.yaml', VPOL('a')), file('b.yaml', VPOL('a', 'v1'))], /already defined/],
    ['7: a v1 List', [file('l.yaml', `apiVersion: v1\nkind: List\nitems:\n  - ${VPOL('x').split('\n').join('\n    ')}`)], /v1 List/],
    ['a document of markers only', [file('a.yaml', `${VPOL('a')}---\n---\n`)], /markers/],
    ['an invalid separator', [file('a.yaml', `${VPOL('a')}--- nope\n`)], /separator/],
  ])('rejects %s', (_name, files, pattern) => {
    const problems = writerProblems(files as BundleFile[]);
    expect(problems.join('\n')).toMatch(pattern as RegExp);
  });

  it('8: absolute, "..", duplicate, hidden and descriptor paths; zero resources', () => {
    const checked = (files: BundleFile[]) => packKyvernoBundle(files, checkDocuments(files, (p) => p, true).documents);
    for (const path of ['/abs.yaml', '../up.yaml', 'a/../b.yaml', '.hidden/a.yaml', 'sub/kyverno-bundle.yaml']) {
      expect(() => checked([file(path, VPOL('a'))]), path).toThrow(PolicyOciError);
    }
    expect(() => checked([file('a.yaml', VPOL('a')), file('a.yaml', VPOL('b'))])).toThrow(/twice/);
    expect(() => checked([])).toThrow(/no resource/);
    expect(() => checked([file('empty.yaml', '# nothing\n')])).toThrow(/no resource/);
  });

  it('descriptor: metadata and sets into the config, annotations agree (15), reserved keys not overridden (14)', () => {
    const descriptor = parseDescriptor(
      Buffer.from(`apiVersion: cli.kyverno.io/v1alpha1
kind: PolicyBundle
metadata:
  name: baseline
spec:
  version: 1.2.0
  description: Baseline policies
  kyvernoVersion: ">=1.20"
  source:
    url: https://github.com/example/policies
    revision: main
  created: "2026-09-28T00:00:00Z"
  sets:
    - name: policies
      type: policies
      paths: ["policies/**"]
    - name: exceptions
      type: exceptions
      paths: ["exceptions/**"]
  annotations:
    example.com/team: team-a
    io.kyverno.bundle.name: not-this
    org.opencontainers.image.version: 9.9.9
`),
      'kyverno-bundle.yaml',
    );
    const { config, packed, warnings } = pack(input, { descriptor, sourceDateEpoch: '0' });
    expect(config).toMatchObject({ name: 'baseline', version: '1.2.0', description: 'Baseline policies', kyvernoVersion: '>=1.20', source: { url: 'https://github.com/example/policies', revision: 'main' }, created: '2026-09-28T00:00:00Z' });
    expect(packed.manifest.annotations).toEqual({
      'example.com/team': 'team-a',
      'io.kyverno.bundle.format-version': '1.0.0',
      'io.kyverno.bundle.kyverno-version': '>=1.20',
      'io.kyverno.bundle.name': 'baseline',
      'io.kyverno.bundle.version': '1.2.0',
      'org.opencontainers.image.created': '2026-09-28T00:00:00Z',
      'org.opencontainers.image.description': 'Baseline policies',
      'org.opencontainers.image.revision': 'main',
      'org.opencontainers.image.source': 'https://github.com/example/policies',
      'org.opencontainers.image.title': 'baseline',
      'org.opencontainers.image.version': '1.2.0',
    });
    expect(warnings.join('\n')).toMatch(/io\.kyverno\.bundle\.name is computed/);
    expect(() => pack(input, { annotations: { 'io.kyverno.bundle.name': 'x' } })).toThrow(/--annotation/);
  });

  it('descriptor: a formatVersion pin must be exactly a version written; unknown fields refused', () => {
    const d = (spec: string) => Buffer.from(`apiVersion: cli.kyverno.io/v1alpha1\nkind: PolicyBundle\nmetadata:\n  name: b\nspec:\n${spec}`);
    expect(parseDescriptor(d('  formatVersion: 1.0.0\n'), 'd').formatVersion).toBe('1.0.0');
    expect(() => parseDescriptor(d('  formatVersion: "1.0"\n'), 'd')).toThrow(/cannot be written/);
    expect(() => parseDescriptor(d('  formatVersion: 2.0.0\n'), 'd')).toThrow(/cannot be written/);
    expect(() => parseDescriptor(d('  colour: red\n'), 'd')).toThrow(/unknown field/);
  });

  it('the bundle root: descriptor taken at the root, refused below it; hidden and non-YAML files skipped; symlinks refused', async () => {
    const root = await mkdtemp(join(tmpdir(), 'kb-root-'));
    await mkdir(join(root, 'policies'));
    await mkdir(join(root, '.git'));
    await writeFile(join(root, 'policies', 'a.yaml'), VPOL('a'));
    await writeFile(join(root, '.git', 'x.yaml'), CLUSTER_POLICY);
    await writeFile(join(root, 'README.md'), '# readme');
    await writeFile(join(root, 'kyverno-bundle.yaml'), 'apiVersion: cli.kyverno.io/v1alpha1\nkind: PolicyBundle\nmetadata:\n  name: b\n');
    const read = await readBundleRoot(root);
    expect(read.files.map((f) => f.path)).toEqual(['policies/a.yaml']);
    expect(read.descriptor?.path).toBe(join(root, 'kyverno-bundle.yaml'));
    await writeFile(join(root, 'policies', 'kyverno-bundle.yaml'), 'x: 1\n');
    await expect(readBundleRoot(root)).rejects.toThrow(/reserved/);
    const other = await mkdtemp(join(tmpdir(), 'kb-link-'));
    await writeFile(join(other, 'a.yaml'), VPOL('a'));
    await symlink(join(other, 'a.yaml'), join(other, 'b.yaml'));
    await expect(readBundleRoot(other)).rejects.toThrow(/symbolic link/);
  });
});

// ---- Reader: bundles crafted by hand, exactly as the spec describes them ----

interface Crafted {
  files?: Array<{ path: string; content: string }>;
  config?: unknown;
  layers?: Array<{ mediaType: string; content: Buffer }>;
  configMediaType?: string;
  rawLayer?: Buffer;
}

const SPEC_FILES = [
  { path: 'policies/require-labels.yaml', content: VPOL('require-labels') },
  { path: 'exceptions/team-a-exceptions.yaml', content: PEX },
];

function specConfig(files = SPEC_FILES): Record<string, unknown> {
  return {
    formatVersion: '1.0.0',
    name: 'baseline',
    version: '1.0.0',
    sets: [{ name: 'policies', type: 'policies' }, { name: 'exceptions', type: 'exceptions' }],
    resources: files.flatMap((f) =>
      splitDocuments(f.content).map((doc, documentIndex) => {
        const kind = /kind: (\w+)/.exec(doc)![1]!;
        return {
          apiVersion: /apiVersion: (\S+)/.exec(doc)![1],
          kind,
          namespace: /namespace: (\S+)/.exec(doc)?.[1] ?? '',
          name: /name: ([\w-]+)/.exec(doc)![1],
          path: f.path,
          documentIndex,
          digest: sha256(doc),
          set: kind === 'PolicyException' ? 'exceptions' : 'policies',
        };
      }),
    ),
  };
}

async function craft(c: Crafted): Promise<MemoryStore> {
  const store = new MemoryStore();
  const files = c.files ?? SPEC_FILES;
  const configContent = Buffer.from(JSON.stringify(c.config ?? specConfig(files)));
  const layers = c.layers ?? [{ mediaType: KYVERNO_BUNDLE_CONTENT, content: c.rawLayer ?? createTarGz(files.map((f) => ({ path: f.path, content: Buffer.from(f.content) }))) }];
  const config = describeBlob(c.configMediaType ?? KYVERNO_BUNDLE_CONFIG, configContent);
  store.blobs.set(config.digest, configContent);
  const layerDescs = layers.map((l) => {
    const d = describeBlob(l.mediaType, l.content);
    store.blobs.set(d.digest, l.content);
    return d;
  });
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers: layerDescs, annotations: { 'io.kyverno.bundle.format-version': '1.0.0' } }));
  const md = describeBlob(OCI_MANIFEST, manifest);
  store.blobs.set(md.digest, manifest);
  store.tags.set('v1', md);
  return store;
}

async function refusal(c: Crafted): Promise<PolicyOciError> {
  const err = await readArtifact(await craft(c), 'v1').then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PolicyOciError);
  expect((err as PolicyOciError).code).toBe('UNSAFE_CONTENT');
  return err as PolicyOciError;
}

function rawTarGz(entries: Array<{ path: string; type?: 'File' | 'SymbolicLink' | 'Link'; content?: string; linkpath?: string }>): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const content = Buffer.from(e.content ?? '');
    const type = e.type ?? 'File';
    const block = Buffer.alloc(512);
    new Header({ path: e.path, type, size: type === 'File' ? content.length : 0, mode: 0o644, mtime: new Date(0), uid: 0, gid: 0, ...(e.linkpath ? { linkpath: e.linkpath } : {}) }).encode(block, 0);
    parts.push(block);
    if (type === 'File') parts.push(content, Buffer.alloc((512 - (content.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(parts));
}

describe('reader MUST (spec §9), through readArtifact', () => {
  it('reads the spec\'s worked example: policies from the archive, the config as metadata', async () => {
    const read = await readArtifact(await craft({}), 'v1');
    expect(read.policies.map((p) => `${p.object.kind}/${p.object.metadata.name}`).sort()).toEqual(['PolicyException/check-pod', 'ValidatingPolicy/require-labels']);
    expect(read.policies.every((p) => p.engine === 'kyverno')).toBe(true);
    expect(read.manifests[0]!.engine).toBe('kyverno');
    expect(read.manifests[0]!.kyvernoBundle).toMatchObject({ formatVersion: '1.0.0', name: 'baseline', version: '1.0.0' });
  });

  it('5, 8: unknown config fields ignored, unknown set types accepted, a minor version read', async () => {
    const config = specConfig();
    config.formatVersion = '1.3.0';
    config.futureField = { anything: true };
    (config.sets as Array<{ type: string }>)[0]!.type = 'some-future-type';
    const read = await readArtifact(await craft({ config }), 'v1');
    expect(read.policies).toHaveLength(2);
    expect(read.manifests[0]!.kyvernoBundle!.sets[0]!.type).toBe('some-future-type');
  });

  it('accepts a manifest with an artifactType (the reader must not require either way)', async () => {
    const store = await craft({});
    const md = store.tags.get('v1')!;
    const m = JSON.parse(store.blobs.get(md.digest)!.toString());
    m.artifactType = KYVERNO_BUNDLE_CONFIG;
    const content = Buffer.from(JSON.stringify(m));
    const d = describeBlob(OCI_MANIFEST, content);
    store.blobs.set(d.digest, content);
    store.tags.set('v2', d);
    expect((await readArtifact(store, 'v2')).policies).toHaveLength(2);
  });

  it('1: zero layers, two layers, a layer of another type, a config of another type', async () => {
    const tar = createTarGz(SPEC_FILES.map((f) => ({ path: f.path, content: Buffer.from(f.content) })));
    expect((await refusal({ layers: [] })).message).toMatch(/0 layers/);
    expect((await refusal({ layers: [{ mediaType: KYVERNO_BUNDLE_CONTENT, content: tar }, { mediaType: 'application/yaml', content: Buffer.from(VPOL('x')) }] })).message).toMatch(/2 layers/);
    expect((await refusal({ layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', content: tar }] })).message).toMatch(/layers\[0\]/);
    expect((await refusal({ configMediaType: 'application/vnd.oci.image.config.v1+json', layers: [{ mediaType: KYVERNO_BUNDLE_CONTENT, content: tar }] })).message).toMatch(/config media type/);
  });

  it('7: the retired media types alongside the bundle ones: the legacy-image error', async () => {
    const err = await refusal({ layers: [{ mediaType: 'application/vnd.cncf.kyverno.policy.layer.v1+yaml', content: Buffer.from(VPOL('x')) }] });
    expect(err.message).toMatch(/legacy image format/);
    expect((await refusal({ configMediaType: 'application/vnd.cncf.kyverno.config.v1+json' })).message).toMatch(/legacy image format/);
  });

  it('6: a major version not supported, naming both', async () => {
    const err = await refusal({ config: { ...specConfig(), formatVersion: '2.0.0' } });
    expect(err.message).toMatch(/2\.0\.0.*1\.x/);
    expect((await refusal({ config: { sets: [], resources: [] } })).message).toMatch(/formatVersion/);
  });

  it('4: the index cross-check: a wrong digest, a missing entry, an entry without a document, a wrong kind, a set not defined', async () => {
    const wrongDigest = specConfig();
    (wrongDigest.resources as Array<{ digest: string }>)[0]!.digest = sha256('something else');
    expect((await refusal({ config: wrongDigest })).message).toMatch(/index digest/);
    const missing = specConfig();
    (missing.resources as unknown[]).pop();
    expect((await refusal({ config: missing })).message).toMatch(/no index entry/);
    const extra = specConfig();
    (extra.resources as unknown[]).push({ ...(extra.resources as object[])[0]!, documentIndex: 7 });
    expect((await refusal({ config: extra })).message).toMatch(/resolves to no archived document/);
    const kind = specConfig();
    (kind.resources as Array<{ kind: string }>)[0]!.kind = 'MutatingPolicy';
    expect((await refusal({ config: kind })).message).toMatch(/index kind/);
    const set = specConfig();
    (set.resources as Array<{ set: string }>)[0]!.set = 'nowhere';
    expect((await refusal({ config: set })).message).toMatch(/set nowhere/);
  });

  it('2: entries that escape, links, duplicates; hidden, non-YAML and descriptor entries', async () => {
    const good = { path: 'a.yaml', content: VPOL('a') };
    const cases: Array<[Array<{ path: string; type?: 'File' | 'SymbolicLink' | 'Link'; content?: string; linkpath?: string }>, RegExp]> = [
      [[good, { path: '../escape.yaml', content: VPOL('b') }], /leaves the archive/],
      [[good, { path: '/abs.yaml', content: VPOL('b') }], /leaves the archive/],
      [[good, { path: 'l.yaml', type: 'SymbolicLink', linkpath: '/etc/passwd' }], /SymbolicLink/],
      [[good, { path: 'h.yaml', type: 'Link', linkpath: 'a.yaml' }], /Link/],
      [[good, { path: 'a.yaml', content: VPOL('b') }], /twice/],
      [[good, { path: '.hidden.yaml', content: VPOL('b') }], /hidden/],
      [[good, { path: 'p.json', content: '{}' }], /only \.yaml/],
      [[good, { path: 'kyverno-bundle.yaml', content: 'x: 1\n' }], /reserved/],
    ];
    for (const [entries, pattern] of cases) {
      const config = specConfig([good]);
      expect((await refusal({ rawLayer: rawTarGz(entries), files: [good], config })).message, JSON.stringify(entries[1])).toMatch(pattern);
    }
  });

  it('3: the writer\'s checks again: a v1 List, a cli.kyverno.io document, a legacy kind, a duplicate identity, no resource', async () => {
    const list = { path: 'l.yaml', content: `apiVersion: v1\nkind: List\nitems: []\n` };
    expect((await refusal({ files: [list], config: { formatVersion: '1.0.0', sets: [], resources: [] } })).message).toMatch(/v1 List/);
    const cli = { path: 't.yaml', content: 'apiVersion: cli.kyverno.io/v1alpha1\nkind: Test\nmetadata:\n  name: t\n' };
    expect((await refusal({ files: [SPEC_FILES[0]!, cli], config: specConfig([SPEC_FILES[0]!]) })).message).toMatch(/cli\.kyverno\.io/);
    const cp = { path: 'cp.yaml', content: CLUSTER_POLICY };
    expect((await refusal({ files: [cp], config: { formatVersion: '1.0.0', sets: [], resources: [] } })).message).toMatch(/legacy kyverno\.io/);
    const dup = [SPEC_FILES[0]!, { path: 'again.yaml', content: VPOL('require-labels', 'v1') }];
    expect((await refusal({ files: dup, config: specConfig(dup) })).message).toMatch(/already defined/);
    const empty = { path: 'e.yaml', content: '# nothing\n' };
    expect((await refusal({ files: [empty], config: { formatVersion: '1.0.0', sets: [], resources: [] } })).message).toMatch(/no resource/);
  });

  it('what our writer writes, our reader reads (and the index survives the cross-check)', async () => {
    const { packed } = pack([file('policies/a.yaml', `${VPOL('a')}---\n---\n${VPOL('b')}`), file('x.yml', PEX)]);
    const store = new MemoryStore();
    for (const b of packed.blobs) store.blobs.set(b.descriptor.digest, b.content);
    store.blobs.set(packed.descriptor.digest, packed.content);
    store.tags.set('v1', packed.descriptor);
    const read = await readArtifact(store, 'v1');
    expect(read.policies.map((p) => p.object.metadata.name).sort()).toEqual(['a', 'b', 'check-pod']);
    expect(() => checkBundleManifest(packed.manifest, packed.descriptor.digest)).not.toThrow();
  });
});
