// The Flux objects of core/flux.ts for artifacts pushed by core/push.ts into OCI layouts on disk,
// read back as every command reads them: their shape, the YAML parsed back with the yaml library,
// and RBAC allowing exactly the policy kinds of the artifact.
import { cp, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { readArtifact } from '../../../src/artifact/unpack.ts';
import { openTarget } from '../../../src/content/open.ts';
import { exactly, fluxObjects, oidcIdentity, type FluxObjectOptions, type FluxSource, type KubeManifest } from '../../../src/core/flux.ts';
import { push } from '../../../src/core/push.ts';
import { PolicyOciError } from '../../../src/errors.ts';
import { fluxText } from '../../../src/output/flux.ts';
import { CORPUS } from '../../support/cli.ts';

const EXAMPLES = join(import.meta.dirname, '..', '..', '..', 'examples', 'policies');
const GATEKEEPER_LIBRARY = join(CORPUS, 'others', 'gatekeeper-library', 'library', 'general');
const KYVERNO_TGZ = 'application/vnd.cncf.kyverno.policy.layer.v1.tar+gzip';
const KUBEARMOR_TGZ = 'application/vnd.cncf.kubearmor.policy.layer.v1.tar+gzip';
const BUNDLE_1_0 = 'application/vnd.cncf.kyverno.bundle.content.v1.tar+gzip';
const BASE: FluxObjectOptions = { namespace: 'flux-system', interval: '5m', pin: { by: 'reference' } };

/** Pushes `paths` into a new layout at tag v1 and reads it back as a FluxSource of `url`. */
async function pushed(work: string, name: string, paths: string[], options: { bundle?: boolean; kyvernoFormat?: 'bundle-1.0' } = {}): Promise<FluxSource & { rootDigest: string }> {
  const dir = join(work, name);
  const result = await push({ reference: `${dir}:v1`, store: { ociLayout: true }, paths, ...options });
  if (!('digest' in result)) throw new Error('not a single push');
  const opened = await openTarget(`${dir}:v1`, { ociLayout: true }, { push: false });
  const read = await readArtifact(opened.target, opened.reference);
  return { display: `registry.example/acme/${name}:v1`, url: `oci://registry.example/acme/${name}`, tag: 'v1', insecure: false, read, rootDigest: result.digest };
}

const ofKind = (items: KubeManifest[], kind: string) => items.filter((i) => i.kind === kind);
const spec = (item: KubeManifest | undefined) => (item as { spec: Record<string, unknown> } | undefined)?.spec ?? {};
/** `group/plural` of every rule of the ClusterRoles named. */
function granted(items: KubeManifest[], role: string): string[] {
  const rules = (items.find((i) => i.kind === 'ClusterRole' && i.metadata.name === role) as { rules?: Array<{ apiGroups: string[]; resources: string[]; verbs: string[] }> } | undefined)?.rules ?? [];
  for (const r of rules) expect(r.verbs).toEqual(['get', 'list', 'watch', 'create', 'update', 'patch', 'delete']);
  return rules.flatMap((r) => r.apiGroups.flatMap((g) => r.resources.map((p) => `${g}/${p}`))).sort();
}

describe('flux objects', () => {
  let work: string;
  let kyverno: FluxSource & { rootDigest: string };
  let mixed: FluxSource & { rootDigest: string };
  let perLayer: FluxSource;
  let cel: FluxSource;
  let unnamespaced: FluxSource;
  let defining: FluxSource;
  let definedOnly: FluxSource;
  const cacheSetting = process.env.POLICYOCI_CACHE_DIR;

  beforeAll(async () => {
    process.env.POLICYOCI_CACHE_DIR = 'off';
    work = await mkdtemp(join(tmpdir(), 'core-flux-'));
    const celDir = join(work, 'cel');
    await mkdir(celDir);
    await cp(join(EXAMPLES, 'kyverno', 'disallow-latest-tag-vpol.yaml'), join(celDir, 'disallow-latest-tag-vpol.yaml'));
    // A KubeArmorPolicy without metadata.namespace.
    const loose = join(work, 'loose.yaml');
    const ksp = await readFile(join(EXAMPLES, 'kubearmor', 'ksp-nginx-hardening-rule-monitor-cache-access.yaml'), 'utf8');
    await writeFile(loose, ksp.replace(/^\s+namespace: default\s*$/m, ''));
    // A ConstraintTemplate and a constraint of the kind it defines; and such a constraint alone.
    const template = join(GATEKEEPER_LIBRARY, 'requiredlabels', 'template.yaml');
    const constraint = join(GATEKEEPER_LIBRARY, 'requiredlabels', 'samples', 'all-must-have-owner', 'constraint.yaml');
    [kyverno, mixed, perLayer, cel, unnamespaced, defining, definedOnly] = await Promise.all([
      pushed(work, 'kyverno-policies', [join(EXAMPLES, 'kyverno')], { bundle: true }),
      pushed(work, 'policies', [EXAMPLES], { bundle: true }),
      pushed(work, 'layers', [join(EXAMPLES, 'kyverno')]),
      pushed(work, 'cel-policies', [celDir], { kyvernoFormat: 'bundle-1.0' }),
      pushed(work, 'loose', [loose], { bundle: true }),
      pushed(work, 'gk', [template, constraint], { bundle: true }),
      pushed(work, 'gk-constraint', [constraint], { bundle: true }),
    ]);
  });

  afterAll(() => {
    if (cacheSetting === undefined) delete process.env.POLICYOCI_CACHE_DIR;
    else process.env.POLICYOCI_CACHE_DIR = cacheSetting;
  });

  it('one engine: a ServiceAccount, RBAC for exactly its kinds, an OCIRepository following the tag and a pruning Kustomization', () => {
    const items = fluxObjects(kyverno, BASE);
    expect(items.map((i) => `${i.kind}/${i.metadata.name}`)).toEqual([
      'ServiceAccount/kyverno-policies',
      'ClusterRole/policyoci-flux:flux-system:kyverno-policies',
      'ClusterRoleBinding/policyoci-flux:flux-system:kyverno-policies',
      'OCIRepository/kyverno-policies',
      'Kustomization/kyverno-policies',
    ]);
    // The kinds the artifact holds (3 ClusterPolicies, 1 ValidatingPolicy), and nothing else.
    expect(new Set(kyverno.read.policies.map((p) => p.object.kind))).toEqual(new Set(['ClusterPolicy', 'ValidatingPolicy']));
    expect(granted(items, 'policyoci-flux:flux-system:kyverno-policies')).toEqual(['kyverno.io/clusterpolicies', 'policies.kyverno.io/validatingpolicies']);
    const binding = ofKind(items, 'ClusterRoleBinding')[0] as unknown as { roleRef: { name: string }; subjects: unknown[] };
    expect(binding.roleRef.name).toBe('policyoci-flux:flux-system:kyverno-policies');
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'kyverno-policies', namespace: 'flux-system' }]);
    expect(ofKind(items, 'OCIRepository')[0]).toMatchObject({
      apiVersion: 'source.toolkit.fluxcd.io/v1',
      metadata: { namespace: 'flux-system' },
      spec: { interval: '5m', url: 'oci://registry.example/acme/kyverno-policies', ref: { tag: 'v1' }, layerSelector: { mediaType: KYVERNO_TGZ, operation: 'extract' } },
    });
    expect(spec(ofKind(items, 'OCIRepository')[0])).not.toHaveProperty('insecure');
    expect(spec(ofKind(items, 'OCIRepository')[0])).not.toHaveProperty('verify');
    expect(ofKind(items, 'Kustomization')[0]).toEqual({
      apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
      kind: 'Kustomization',
      metadata: { name: 'kyverno-policies', namespace: 'flux-system' },
      spec: { interval: '5m', sourceRef: { kind: 'OCIRepository', name: 'kyverno-policies' }, path: './', prune: true, serviceAccountName: 'kyverno-policies' },
    });
  });

  it('the YAML stream parses back (yaml library) into the same objects; JSON is a v1 List of them', () => {
    const items = fluxObjects(kyverno, { ...BASE, verify: { keyless: { identity: 'ci@acme.example', issuer: 'https://issuer.example' } } });
    const docs = parseAllDocuments(fluxText({ apiVersion: 'v1', kind: 'List', items }));
    expect(Array.isArray(docs)).toBe(true);
    const parsed = (docs as Array<{ errors: unknown[]; toJS(): unknown }>).map((d) => {
      expect(d.errors).toEqual([]);
      return d.toJS();
    });
    expect(parsed).toEqual(items);
  });

  it('an index of two engines: one set of objects per engine, each pinned to its manifest digest, namespaced kinds bound only where the policies live', () => {
    const warnings: string[] = [];
    const items = fluxObjects(mixed, BASE, (w) => warnings.push(w));
    expect(warnings).toEqual([expect.stringMatching(/is an index of 2 engines \(kubearmor, kyverno\) and Flux reads only an index's first manifest.*--split-engines/)]);
    const repos = ofKind(items, 'OCIRepository');
    expect(repos.map((r) => r.metadata.name)).toEqual(['policies-kubearmor', 'policies-kyverno']);
    const children = mixed.read.manifests.map((m) => ({ engine: m.engine, digest: m.descriptor.digest, layer: m.manifest.layers[0]!.mediaType }));
    expect(repos.map((r) => spec(r).ref)).toEqual(children.map((c) => ({ digest: c.digest })));
    expect(repos.map((r) => (spec(r).layerSelector as { mediaType: string }).mediaType)).toEqual([KUBEARMOR_TGZ, KYVERNO_TGZ]);
    expect(children.map((c) => c.engine)).toEqual(['kubearmor', 'kyverno']);
    // KubeArmor: the host policy cluster-wide, the namespaced one in its namespace ("default") only.
    expect(granted(items, 'policyoci-flux:flux-system:policies-kubearmor')).toEqual(['security.kubearmor.com/kubearmorhostpolicies']);
    expect(granted(items, 'policyoci-flux:flux-system:policies-kubearmor:namespaced')).toEqual(['security.kubearmor.com/kubearmorpolicies']);
    expect(ofKind(items, 'RoleBinding')).toEqual([
      expect.objectContaining({ metadata: { name: 'policyoci-flux:flux-system:policies-kubearmor', namespace: 'default' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'policyoci-flux:flux-system:policies-kubearmor:namespaced' } }),
    ]);
    expect(granted(items, 'policyoci-flux:flux-system:policies-kyverno')).toEqual(['kyverno.io/clusterpolicies', 'policies.kyverno.io/validatingpolicies']);
    // Every kind granted, across both engines, is a kind of the artifact.
    const all = ofKind(items, 'ClusterRole').flatMap((r) => granted(items, r.metadata.name));
    expect(all.map((g) => g.split('/')[1]).sort()).toEqual(['clusterpolicies', 'kubearmorhostpolicies', 'kubearmorpolicies', 'validatingpolicies']);
    expect(() => fluxObjects(mixed, { ...BASE, pin: { by: 'semver', range: '>=1.0.0' } })).toThrow(/--semver cannot apply; push with --split-engines/);
  });

  it('with verification of an index, says that each engine manifest must be signed', () => {
    const warnings: string[] = [];
    fluxObjects(mixed, { ...BASE, verify: { secretName: 'cosign-pub' } }, (w) => warnings.push(w));
    expect(warnings[1]).toMatch(new RegExp(`sign each \\(sign registry.example/acme/policies@${mixed.read.manifests[0]!.descriptor.digest}; sign registry.example/acme/policies@sha256:`));
  });

  it('refuses a per-layer artifact (exit 6), telling to push with --bundle', () => {
    const run = () => fluxObjects(perLayer, BASE);
    expect(run).toThrow(PolicyOciError);
    expect(run).toThrow(/has 4 layers, one per policy: Flux extracts exactly one tar\+gzip layer.*push it with --bundle/);
    try {
      run();
    } catch (err) {
      expect((err as PolicyOciError).code).toBe('UNSAFE_CONTENT');
    }
  });

  it('a Kyverno CEL Policy Bundle 1.0: its content layer is selected', () => {
    const items = fluxObjects(cel, BASE);
    expect(spec(ofKind(items, 'OCIRepository')[0]).layerSelector).toEqual({ mediaType: BUNDLE_1_0, operation: 'extract' });
    expect(granted(items, 'policyoci-flux:flux-system:cel-policies')).toEqual(['policies.kyverno.io/validatingpolicies']);
  });

  it('a namespaced policy without a namespace needs --target-namespace, which binds that namespace only', () => {
    expect(() => fluxObjects(unnamespaced, BASE)).toThrow(/KubeArmorPolicy ksp-nginx-hardening-rule-monitor-cache-access has no namespace.*--target-namespace/);
    const items = fluxObjects(unnamespaced, { ...BASE, targetNamespace: 'team-a' });
    expect(ofKind(items, 'ClusterRoleBinding')).toEqual([]);
    expect(ofKind(items, 'RoleBinding').map((b) => b.metadata.namespace)).toEqual(['team-a']);
    expect(spec(ofKind(items, 'Kustomization')[0]).targetNamespace).toBe('team-a');
    // With a target namespace, the policies' own namespaces are not bound.
    expect(ofKind(fluxObjects(mixed, { ...BASE, targetNamespace: 'team-b' }), 'RoleBinding').map((b) => b.metadata.namespace)).toEqual(['team-b']);
  });

  it('pinning: the reference\'s digest, the digest now (pin digest), or a semver range', () => {
    const repo = (options: Partial<FluxObjectOptions>, source: FluxSource = kyverno) => spec(ofKind(fluxObjects(source, { ...BASE, ...options }), 'OCIRepository')[0]).ref;
    expect(repo({ pin: { by: 'digest' } })).toEqual({ digest: kyverno.rootDigest });
    expect(repo({ pin: { by: 'semver', range: '>=1.0.0 <2.0.0' } })).toEqual({ semver: '>=1.0.0 <2.0.0' });
    const { tag: _tag, ...byDigest } = kyverno;
    expect(repo({}, { ...byDigest, digest: kyverno.rootDigest })).toEqual({ digest: kyverno.rootDigest });
  });

  it('registry access and verification: insecure for plain HTTP, pull secret, key Secret, existing Secret, keyless identities', () => {
    const repoSpec = (options: Partial<FluxObjectOptions>, source: FluxSource = kyverno) => spec(ofKind(fluxObjects(source, { ...BASE, ...options }), 'OCIRepository')[0]);
    expect(repoSpec({}, { ...kyverno, insecure: true }).insecure).toBe(true);
    expect(repoSpec({ pullSecret: 'regcred' }).secretRef).toEqual({ name: 'regcred' });
    const pem = '-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----\n';
    const withKey = fluxObjects(kyverno, { ...BASE, verify: { publicKeyPem: pem } });
    expect(withKey[0]).toEqual({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'kyverno-policies-cosign-pub', namespace: 'flux-system' }, type: 'Opaque', stringData: { 'cosign.pub': pem } });
    expect(spec(ofKind(withKey, 'OCIRepository')[0]).verify).toEqual({ provider: 'cosign', secretRef: { name: 'kyverno-policies-cosign-pub' } });
    expect(repoSpec({ verify: { secretName: 'keys' } }).verify).toEqual({ provider: 'cosign', secretRef: { name: 'keys' } });
    expect(repoSpec({ verify: { keyless: { identityRegexp: '^https://github.com/acme/', issuer: 'https://token.actions.githubusercontent.com' } } }).verify).toEqual({
      provider: 'cosign',
      matchOIDCIdentity: [{ issuer: '^https://token\\.actions\\.githubusercontent\\.com$', subject: '^https://github.com/acme/' }],
    });
  });

  it('an exact identity becomes a regular expression matching that text only', () => {
    const text = 'https://github.com/acme/p/.github/workflows/release.yml@refs/tags/v1.2.3+build(1)[x]{2}|$^*?\\';
    const re = new RegExp(exactly(text));
    expect(re.test(text)).toBe(true);
    expect(re.test(`${text}x`)).toBe(false);
    expect(re.test(text.replace('.', 'X'))).toBe(false);
    expect(() => oidcIdentity({ identity: 'a' })).toThrow(/needs --certificate-oidc-issuer/);
    expect(() => oidcIdentity({ identity: 'a', identityRegexp: 'b', issuer: 'c' })).toThrow(/--certificate-identity and --certificate-identity-regexp exclude each other/);
  });

  it('names and durations are checked before anything is made', () => {
    expect(() => fluxObjects(kyverno, { ...BASE, interval: '5 minutes' })).toThrow(/--interval takes a Flux duration/);
    expect(() => fluxObjects(kyverno, { ...BASE, name: 'Policies_1' })).toThrow(/--name takes a Kubernetes name/);
    expect(() => fluxObjects(kyverno, { ...BASE, namespace: '' })).toThrow(/--namespace takes a Kubernetes name/);
    expect(ofKind(fluxObjects(kyverno, { ...BASE, name: 'baseline', namespace: 'gitops', interval: '1h30m' }), 'Kustomization')[0]).toMatchObject({ metadata: { name: 'baseline', namespace: 'gitops' }, spec: { interval: '1h30m', serviceAccountName: 'baseline' } });
  });

  it('a manifest holding a definition and objects of the kind it defines: two Kustomizations over one OCIRepository, the defined kinds\' objects applied second', () => {
    const items = fluxObjects(defining, BASE);
    expect(items.map((i) => `${i.kind}/${i.metadata.name}`)).toEqual([
      'ServiceAccount/gk',
      'ClusterRole/policyoci-flux:flux-system:gk',
      'ClusterRoleBinding/policyoci-flux:flux-system:gk',
      'OCIRepository/gk',
      'Kustomization/gk',
      'Kustomization/gk-constraints',
    ]);
    // RBAC: exactly the kinds of the artifact, for the one ServiceAccount both Kustomizations impersonate.
    expect(granted(items, 'policyoci-flux:flux-system:gk')).toEqual(['constraints.gatekeeper.sh/k8srequiredlabels', 'templates.gatekeeper.sh/constrainttemplates']);
    const deletes = (group: string) => ({ patch: '$patch: delete\napiVersion: v1\nkind: Any\nmetadata:\n  name: any\n', target: { group } });
    const common = { interval: '5m', sourceRef: { kind: 'OCIRepository', name: 'gk' }, path: './', prune: true, serviceAccountName: 'gk' };
    const [first, second] = ofKind(items, 'Kustomization');
    expect(spec(first)).toEqual({ ...common, patches: [deletes('constraints\\.gatekeeper\\.sh')] });
    expect(spec(second)).toEqual({ ...common, dependsOn: [{ name: 'gk' }], retryInterval: '30s', patches: [deletes('templates\\.gatekeeper\\.sh')] });
    // The targets are Go regular expressions kustomize anchors: each matches its group only.
    const selects = (target: string, group: string) => new RegExp(`^(?:${target})$`).test(group);
    expect(selects('constraints\\.gatekeeper\\.sh', 'constraints.gatekeeper.sh')).toBe(true);
    expect(selects('constraints\\.gatekeeper\\.sh', 'constraintsXgatekeeper.sh')).toBe(false);
    // A shorter interval is the retry interval too; the YAML stream parses back to the same objects.
    expect(spec(ofKind(fluxObjects(defining, { ...BASE, interval: '10s' }), 'Kustomization')[1]).retryInterval).toBe('10s');
    expect(spec(ofKind(fluxObjects(defining, { ...BASE, interval: '1m30s' }), 'Kustomization')[1]).retryInterval).toBe('30s');
    const docs = parseAllDocuments(fluxText({ apiVersion: 'v1', kind: 'List', items })) as Array<{ toJS(): unknown }>;
    expect(docs.map((d) => d.toJS())).toEqual(items);
    // The defined kinds without their definition: one Kustomization (the kind must exist already).
    expect(ofKind(fluxObjects(definedOnly, BASE), 'Kustomization').map((k) => [k.metadata.name, spec(k).patches, spec(k).dependsOn])).toEqual([['gk-constraint', undefined, undefined]]);
    // The second name must stay a label value (Flux labels what it applies with it).
    expect(() => fluxObjects(defining, { ...BASE, name: 'g'.repeat(55) })).toThrow(/longer than 63 characters.*give a shorter --name/);
  });
});
