import { describe, expect, it } from 'vitest';
import { PolicyOciError } from '../../../src/errors.ts';
import { compileCrdSchema, toAjvSchema } from '../../../src/policy/crd-schema.ts';
import { formatPath, pointerToPath } from '../../../src/policy/problem.ts';
import type { KubeObject, PolicyDocument } from '../../../src/policy/types.ts';
import { checkPolicy, classify, validatePolicy } from '../../../src/policy/validate.ts';

function clusterPolicy(extra: Record<string, unknown> = {}, meta: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'kyverno.io/v1',
    kind: 'ClusterPolicy',
    metadata: { name: 'require-labels', ...meta },
    spec: {
      rules: [
        {
          name: 'check',
          match: { any: [{ resources: { kinds: ['Pod'] } }] },
          validate: { message: 'label app required', pattern: { metadata: { labels: { app: '?*' } } } },
        },
      ],
      ...extra,
    },
  } as KubeObject;
}

function kubeArmorPolicy(spec: Record<string, unknown>, meta: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'security.kubearmor.com/v1',
    kind: 'KubeArmorPolicy',
    metadata: { name: 'ksp', namespace: 'default', ...meta },
    spec: { selector: { matchLabels: { app: 'x' } }, process: { matchPaths: [{ path: '/bin/sh' }] }, action: 'Block', ...spec },
  } as KubeObject;
}

async function problems(obj: KubeObject): Promise<string[]> {
  const c = classify(obj);
  if (!c.ok) return [c.problem.message];
  return (await checkPolicy(obj, c.match)).problems.map((p) => p.message);
}

describe('classify', () => {
  it('names what a non-policy is', () => {
    const c = classify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' } });
    expect(c).toMatchObject({ ok: false, code: 'INVALID_INPUT' });
    expect(!c.ok && c.problem.message).toBe('v1/Secret ("s") is not a policy of a known engine (kyverno, kubearmor, kubernetes, gatekeeper)');
  });

  it('refuses missing kind, unknown kinds of a known group and unserved versions', () => {
    const msg = (o: unknown) => {
      const c = classify(o);
      return c.ok ? 'ok' : `${c.code} ${c.problem.message}`;
    };
    expect(msg({ apiVersion: 'kyverno.io/v1', metadata: { name: 'x' } })).toBe('INVALID_INPUT kind: required field missing (apiVersion kyverno.io/v1)');
    expect(msg({ kind: 'ClusterPolicy' })).toMatch(/^INVALID_INPUT apiVersion: required field missing/);
    expect(msg({ apiVersion: 'kyverno.io/v9', kind: 'ClusterPolicy' })).toBe(
      'INVALID_POLICY kyverno.io/v9 is not a served version of ClusterPolicy (served: v1, v2beta1)',
    );
    expect(msg({ apiVersion: 'kyverno.io/v2', kind: 'UpdateRequest' })).toMatch(/^INVALID_POLICY kyverno.io\/v2\/UpdateRequest: UpdateRequest is not a Kyverno kind of kyverno.io/);
    expect(msg(['a'])).toBe('INVALID_INPUT the document is a list, not a Kubernetes object');
    expect(msg('text')).toBe('INVALID_INPUT the document is a string, not a Kubernetes object');
  });
});

describe('metadata', () => {
  it('requires a DNS-1123 subdomain name of at most 253 characters', async () => {
    expect(await problems(clusterPolicy({}, { name: undefined }))).toEqual(['metadata.name: required field missing']);
    expect((await problems(clusterPolicy({}, { name: 'Bad_Name' })))[0]).toMatch(/^metadata.name: "Bad_Name" must be a DNS-1123 subdomain/);
    expect(await problems(clusterPolicy({}, { name: `${'a'.repeat(63)}.${'b'.repeat(189)}` }))).toEqual([]);
    expect(await problems(clusterPolicy({}, { name: 'a'.repeat(254) }))).toEqual(['metadata.name: "' + 'a'.repeat(77) + '..." must be at most 253 characters']);
  });

  it('checks namespaces, and drops one set on a cluster-scoped kind with a warning', async () => {
    const ksp = kubeArmorPolicy({}, { namespace: 'Not_A_Label' });
    expect((await problems(ksp))[0]).toMatch(/^metadata.namespace: "Not_A_Label" must be a DNS-1123 label/);
    const c = classify(clusterPolicy({}, { namespace: 'kyverno' }));
    const r = await checkPolicy(clusterPolicy({}, { namespace: 'kyverno' }), c.ok ? c.match : (undefined as never));
    expect(r.problems).toEqual([]);
    expect(r.warnings).toEqual(['metadata.namespace "kyverno" ignored: the kind is cluster-scoped']);
    expect(r.object.metadata.namespace).toBeUndefined();
  });

  it('checks label keys and values, and annotation keys', async () => {
    expect(await problems(clusterPolicy({}, { labels: { 'app.kubernetes.io/name': 'x', ok: '' } }))).toEqual([]);
    expect(await problems(clusterPolicy({}, { labels: { 'bad key': 'x' } }))).toEqual([
      'metadata.labels: key "bad key" must have a name part of 1-63 letters, digits, "-", "_", "." starting and ending with a letter or digit',
    ]);
    expect((await problems(clusterPolicy({}, { labels: { a: 'x'.repeat(64) } })))[0]).toMatch(/^metadata.labels: value "x+" of "a" must be at most 63/);
    expect(await problems(clusterPolicy({}, { labels: { version: 1.5 } }))).toEqual([
      'metadata.labels["version"]: must be a string (got number); quote the value',
    ]);
    expect(await problems(clusterPolicy({}, { annotations: { 'Policies.Kyverno.io/Title': 'ok', 'a/b/c': 'x' } }))).toEqual([
      'metadata.annotations: key "a/b/c" must be [prefix/]name',
    ]);
  });

  it('limits annotations to 256 KiB in total and objects to 1.5 MiB', async () => {
    expect(await problems(clusterPolicy({}, { annotations: { a: 'x'.repeat(262143) } }))).toEqual([]);
    expect(await problems(clusterPolicy({}, { annotations: { a: 'x'.repeat(262144) } }))).toEqual([
      "metadata.annotations: total size 262145 bytes is above the API server's limit of 262144 bytes (256 KiB)",
    ]);
    const big = await problems(clusterPolicy({ rules: [{ name: 'x'.repeat(1_600_000) }] }));
    expect(big[0]).toMatch(/^the object is \d+ bytes as JSON, above the 1572864-byte \(1\.5 MiB\) limit/);
  });

  it('refuses unknown metadata fields', async () => {
    expect(await problems(kubeArmorPolicy({}, { namesapce: 'x' }))).toEqual(['unknown field "metadata.namesapce"']);
  });
});

describe('CRD schema', () => {
  it('accepts a valid policy and returns a copy', async () => {
    const obj = clusterPolicy();
    const doc: PolicyDocument = { object: obj, engine: 'kyverno', source: { file: 'p.yaml', line: 1, index: 0 } };
    const r = await validatePolicy(doc);
    expect(r).toEqual({ object: obj, warnings: [] });
    expect(r.object).not.toBe(obj);
  });

  it('reports schema errors with JSON paths, at most five', async () => {
    expect(await problems(clusterPolicy({ rules: [{ name: 'r', match: 'Pod' }] }))).toEqual(['spec.rules[0].match: must be object (got string)']);
    expect(await problems(kubeArmorPolicy({ action: 'block', severity: 42 }))).toEqual([
      'spec.action: must be one of "Allow", "Audit", "Block" (got "block")',
      'spec.severity: must be <= 10 (got 42)',
    ]);
    const many = await problems(clusterPolicy({ rules: Array.from({ length: 8 }, () => ({ name: 1 })) }));
    expect(many).toHaveLength(6);
    expect(many[5]).toMatch(/^… and \d+ more problems$/);
  });

  it('words oneOf / not of required fields', async () => {
    const both = await problems(clusterPolicy({ rules: [{ name: 'r', match: { any: [], all: [] } }] }));
    expect(both).toEqual(['spec.rules[0].match: any and all must not be set together']);
    const ctx = await problems(clusterPolicy({ rules: [{ name: 'r', match: { any: [{ resources: { kinds: ['Pod'] } }] }, context: [{ name: 'c' }] }] }));
    expect(ctx).toEqual(['spec.rules[0].context[0]: exactly one of configMap, apiCall, imageRegistry, variable, globalReference must be set (none is)']);
  });

  it('refuses unknown fields unless the schema preserves them, or prunes them on request', async () => {
    expect(await problems(clusterPolicy({ foo: 1 }))).toEqual(['unknown field "spec.foo"']);
    expect(await problems(kubeArmorPolicy({ selector: { app: 'x' } }))).toEqual(['unknown field "spec.selector.app"']);
    // validate.pattern is x-kubernetes-preserve-unknown-fields: anything goes below it.
    expect(await problems(clusterPolicy())).toEqual([]);
    const obj = kubeArmorPolicy({ selector: { matchLabels: { a: 'b' }, app: 'x' } });
    const c = classify(obj);
    const r = await checkPolicy(obj, c.ok ? c.match : (undefined as never), { unknownFields: 'prune' });
    expect(r.problems).toEqual([]);
    expect(r.warnings).toEqual(['unknown field "spec.selector.app" dropped']);
    expect((r.object.spec as { selector: unknown }).selector).toEqual({ matchLabels: { a: 'b' } });
  });

  it('prunes explicit nulls in non-nullable fields, as the API server does', async () => {
    const obj = kubeArmorPolicy({ selector: { matchLabels: { a: 'b' }, matchExpressions: null }, file: { severity: null, matchPaths: [{ path: '/x' }] } });
    const c = classify(obj);
    const r = await checkPolicy(obj, c.ok ? c.match : (undefined as never));
    expect(r.problems).toEqual([]);
    expect(r.object.spec).toEqual({ ...(obj.spec as object), selector: { matchLabels: { a: 'b' } }, file: { matchPaths: [{ path: '/x' }] } });
    // The input is not modified.
    expect((obj.spec as { selector: Record<string, unknown> }).selector.matchExpressions).toBeNull();
  });

  it('drops status when the kind has the status subresource', async () => {
    const obj = { ...kubeArmorPolicy({}), status: { PolicyStatus: 'OK' } } as KubeObject;
    const c = classify(obj);
    const r = await checkPolicy(obj, c.ok ? c.match : (undefined as never));
    expect(r.object.status).toBeUndefined();
    expect(r.warnings).toEqual(['status ignored: the cluster sets it']);
  });

  it('refuses repeated keys of x-kubernetes-list-type map lists', async () => {
    const vpol = {
      apiVersion: 'policies.kyverno.io/v1',
      kind: 'ValidatingPolicy',
      metadata: { name: 'v' },
      spec: {
        validations: [{ expression: 'true' }],
        variables: [
          { name: 'a', expression: '1' },
          { name: 'a', expression: '2' },
        ],
      },
    } as KubeObject;
    expect(await problems(vpol)).toEqual(['spec.variables[1]: duplicate entry, the same name as [0] (x-kubernetes-list-type: map)']);
  });

  it('warns about deprecated versions', async () => {
    const obj = { apiVersion: 'policies.kyverno.io/v1alpha1', kind: 'ValidatingPolicy', metadata: { name: 'v' }, spec: { validations: [{ expression: 'true' }] } } as KubeObject;
    const c = classify(obj);
    const r = await checkPolicy(obj, c.ok ? c.match : (undefined as never));
    expect(r.warnings).toEqual(['policies.kyverno.io/v1alpha1 ValidatingPolicy is deprecated; use policies.kyverno.io/v1']);
  });

  it('validatePolicy throws INVALID_POLICY naming the source, the object and each problem', async () => {
    const doc: PolicyDocument = {
      object: kubeArmorPolicy({ action: 'block' }),
      engine: 'kubearmor',
      source: { file: 'p.yaml', line: 3, index: 0 },
    };
    const err = await validatePolicy(doc).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PolicyOciError);
    expect((err as PolicyOciError).code).toBe('INVALID_POLICY');
    expect((err as PolicyOciError).message).toBe('p.yaml:3: KubeArmorPolicy default/ksp: spec.action: must be one of "Allow", "Audit", "Block" (got "block")');
    expect((err as PolicyOciError).details).toEqual(['p.yaml:3: spec.action: must be one of "Allow", "Audit", "Block" (got "block")']);
  });
});

describe('schema transform', () => {
  it('turns Kubernetes keywords into JSON Schema', () => {
    const s = toAjvSchema({
      type: 'object',
      properties: {
        port: { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] },
        mode: { type: 'string', nullable: true, enum: ['a'] },
        n: { type: 'integer', minimum: 0, exclusiveMinimum: true },
        re: { type: 'string', pattern: '(?i)go-only' },
        f: { type: 'string', format: 'date-time', description: 'x', 'x-kubernetes-validations': [{ rule: 'self != ""' }] },
      },
    });
    expect(s.properties).toEqual({
      port: { type: ['integer', 'string'], anyOf: [{ type: 'integer' }, { type: 'string' }] },
      mode: { type: ['string', 'null'], enum: ['a', null] },
      n: { type: 'integer', exclusiveMinimum: 0 },
      re: { type: 'string' },
      f: { type: 'string' },
    });
    const v = compileCrdSchema({ type: 'object', properties: { port: { 'x-kubernetes-int-or-string': true } } });
    expect(v({ port: 8080 }) && v({ port: 'http' })).toBe(true);
    expect(v({ port: true })).toBe(false);
  });

  it('hoists repeated subschemas into definitions', () => {
    const big = { type: 'object', properties: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`f${i}`, { type: 'string', maxLength: i }])) };
    const s = toAjvSchema({ type: 'object', properties: { a: big, b: big } });
    expect(s.properties).toEqual({ a: { $ref: '#/definitions/s0' }, b: { $ref: '#/definitions/s0' } });
    expect(Object.keys(s.definitions as object)).toEqual(['s0']);
  });

  it('formats paths', () => {
    expect(formatPath(['spec', 'rules', 0, 'match'])).toBe('spec.rules[0].match');
    expect(formatPath(['metadata', 'labels', 'app.kubernetes.io/name'])).toBe('metadata.labels["app.kubernetes.io/name"]');
    expect(formatPath([])).toBe('(root)');
    expect(pointerToPath('/a~1b/0/c~0d')).toEqual(['a/b', 0, 'c~d']);
  });
});

describe('missing metadata', () => {
  it('reports the missing name once', async () => {
    const obj = { apiVersion: 'kyverno.io/v1', kind: 'ClusterPolicy', spec: {} } as unknown as KubeObject;
    expect(await problems(obj)).toEqual(['metadata.name: required field missing']);
  });
});
