import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  engineForMediaType,
  findEngine,
  findKind,
  loadEngines,
  loadSchema,
  resolveKind,
  splitApiVersion,
} from '../../../src/engines/index.ts';
import { schemaLoaders } from '../../../src/engines/schemas.generated.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');

describe('engine plugins', () => {
  it('declares the engines, Kyverno and KubeArmor with the kinds of their CRDs', () => {
    const engines = loadEngines();
    expect(engines.map((e) => e.name)).toEqual(['kyverno', 'kubearmor', 'kubernetes', 'gatekeeper']);
    const kyverno = findEngine('kyverno')!;
    expect(kyverno.kinds.map((k) => `${k.group}/${k.kind}`).sort()).toEqual(
      [
        'kyverno.io/CleanupPolicy', 'kyverno.io/ClusterCleanupPolicy', 'kyverno.io/ClusterPolicy',
        'kyverno.io/GlobalContextEntry', 'kyverno.io/Policy', 'kyverno.io/PolicyException',
        'policies.kyverno.io/DeletingPolicy', 'policies.kyverno.io/GeneratingPolicy',
        'policies.kyverno.io/ImageValidatingPolicy', 'policies.kyverno.io/MutatingPolicy',
        'policies.kyverno.io/NamespacedDeletingPolicy', 'policies.kyverno.io/NamespacedGeneratingPolicy',
        'policies.kyverno.io/NamespacedImageValidatingPolicy', 'policies.kyverno.io/NamespacedMutatingPolicy',
        'policies.kyverno.io/NamespacedValidatingPolicy', 'policies.kyverno.io/PolicyException',
        'policies.kyverno.io/ValidatingPolicy',
      ].sort(),
    );
    const cp = kyverno.kinds.find((k) => k.kind === 'ClusterPolicy')!;
    expect(cp).toMatchObject({ versions: ['v1', 'v2beta1'], storageVersion: 'v1', namespaced: false, plural: 'clusterpolicies' });
    const gce = kyverno.kinds.find((k) => k.kind === 'GlobalContextEntry')!;
    expect(gce).toMatchObject({ versions: ['v2', 'v2beta1', 'v2alpha1'], storageVersion: 'v2beta1', deprecatedVersions: ['v2alpha1'] });
    const ka = findEngine('kubearmor')!;
    expect(ka.kinds.map((k) => [k.kind, k.namespaced])).toEqual([
      ['KubeArmorPolicy', true],
      ['KubeArmorClusterPolicy', false],
      ['KubeArmorHostPolicy', false],
      ['KubeArmorNetworkPolicy', false],
    ]);
  });

  it('applies context entries and exceptions before the policies that use them', () => {
    const order = (kind: string, group = 'kyverno.io') =>
      findEngine('kyverno')!.kinds.find((k) => k.kind === kind && k.group === group)!.applyOrder;
    expect(order('GlobalContextEntry')).toBeLessThan(order('PolicyException'));
    expect(order('PolicyException', 'policies.kyverno.io')).toBeLessThan(order('ValidatingPolicy', 'policies.kyverno.io'));
    expect(order('PolicyException')).toBeLessThan(order('ClusterPolicy'));
  });

  it('uses exactly the media types of the proposals', () => {
    const k = findEngine('kyverno')!.mediaTypes;
    expect([k.config, k.layerYaml, k.layerJson, k.layerTarGzip]).toEqual([
      'application/vnd.cncf.kyverno.config.v1+json',
      'application/vnd.cncf.kyverno.policy.layer.v1+yaml',
      'application/vnd.cncf.kyverno.policy.layer.v1+json',
      'application/vnd.cncf.kyverno.policy.layer.v1.tar+gzip',
    ]);
    const a = findEngine('kubearmor')!.mediaTypes;
    expect([a.config, a.layerYaml, a.layerJson, a.layerTarGzip]).toEqual([
      'application/vnd.cncf.kubearmor.config.v1+json',
      'application/vnd.cncf.kubearmor.policy.layer.v1.yaml',
      'application/vnd.cncf.kubearmor.policy.layer.v1.json',
      'application/vnd.cncf.kubearmor.policy.layer.v1.tar+gzip',
    ]);
    expect(a.acceptedLayers).toContain('application/vnd.cncf.kubearmor.policy.layer.v1+yaml');
    expect(findEngine('kyverno')!.layerAnnotations).toEqual({
      'io.kyverno.image.apiVersion': 'apiVersion',
      'io.kyverno.image.kind': 'kind',
      'io.kyverno.image.name': 'name',
    });
  });

  it('finds the engine of a media type, in any accepted spelling', () => {
    expect(engineForMediaType('application/vnd.cncf.kubearmor.policy.layer.v1+yaml')?.name).toBe('kubearmor');
    expect(engineForMediaType('application/vnd.cncf.kubearmor.policy.layer.v1.yaml')?.name).toBe('kubearmor');
    expect(engineForMediaType('application/vnd.cncf.kyverno.config.v1+json; charset=utf-8')?.name).toBe('kyverno');
    expect(engineForMediaType('application/yaml')).toBeUndefined();
  });
});

describe('kinds', () => {
  it('splits apiVersions', () => {
    expect(splitApiVersion('kyverno.io/v1')).toEqual({ group: 'kyverno.io', version: 'v1' });
    expect(splitApiVersion('v1')).toEqual({ group: '', version: 'v1' });
  });

  it('finds served kinds only, and says why not', () => {
    expect(findKind('kyverno.io/v2beta1', 'ClusterPolicy')).toMatchObject({ version: 'v2beta1', engine: { name: 'kyverno' } });
    expect(findKind('policies.kyverno.io/v1', 'PolicyException')?.kind.group).toBe('policies.kyverno.io');
    expect(findKind('kyverno.io/v9', 'ClusterPolicy')).toBeUndefined();
    expect(resolveKind('kyverno.io/v9', 'ClusterPolicy')).toMatchObject({ status: 'unserved-version', version: 'v9' });
    expect(resolveKind('kyverno.io/v1', 'UpdateRequest')).toMatchObject({ status: 'unknown-kind', group: 'kyverno.io' });
    expect(resolveKind('v1', 'Secret')).toEqual({ status: 'unknown-group' });
    expect(resolveKind('kyverno.io/v1beta1', 'UpdateRequest').status).toBe('unknown-kind');
  });
});

describe('schemas', () => {
  it('has a loader for every served version of every kind', () => {
    const keys = loadEngines().flatMap((e) => [
      ...e.kinds.flatMap((k) => k.versions.map((v) => `${k.group}/${v}/${k.kind}`)),
      ...(e.dynamicKinds ?? []).flatMap((d) => d.versions.map((v) => `${d.group}/${v}/*`)),
    ]);
    expect(Object.keys(schemaLoaders).sort()).toEqual(keys.sort());
  });

  it('loads a schema lazily, once', async () => {
    const m = findKind('kyverno.io/v1', 'ClusterPolicy')!;
    const a = await loadSchema(m.engine, m.kind, 'v1');
    expect(a).toMatchObject({ type: 'object', properties: { spec: { type: 'object' } } });
    expect(JSON.stringify(a)).not.toContain('"description"');
    expect(await loadSchema('kyverno', m.kind, 'v1')).toBe(a);
    await expect(loadSchema(m.engine, m.kind, 'v9')).rejects.toThrow(/no schema/);
  });

  it('is up to date with the corpus CRDs (scripts/import-crds.mjs --check)', async () => {
    const run = promisify(execFile);
    const { stderr } = await run(process.execPath, [join(ROOT, 'scripts/import-crds.mjs'), '--check'], { cwd: ROOT });
    expect(stderr).toMatch(/0 out of date/);
  });
});
