// The rule of export --strip-defaults (plugins/README.md, "Schema defaults on export"), on small
// schemas and on the shipped ClusterPolicy schema.
import { describe, expect, it } from 'vitest';
import { findKind } from '../../../src/engines/index.ts';
import { stripDefaults, stripSchemaDefaults } from '../../../src/kube/export-defaults.ts';
import type { KubeObject } from '../../../src/policy/types.ts';

const schema = {
  type: 'object',
  required: ['mode'],
  properties: {
    mode: { type: 'string', default: 'Audit' },
    background: { type: 'boolean', default: true },
    retries: { type: 'integer', default: 3 },
    // An object whose default is {}: the server recreates it, then its own defaults.
    evaluation: { type: 'object', default: {}, properties: { enabled: { type: 'boolean', default: true } } },
    // An object without a default: only its author can have written it.
    admission: { type: 'object', properties: { enabled: { type: 'boolean', default: true } } },
    labels: { type: 'object', additionalProperties: { type: 'string', default: '' } },
    rules: { type: 'array', items: { type: 'object', properties: { skip: { type: 'boolean', default: false }, name: { type: 'string' } } } },
    tags: { type: 'array', default: [], items: { type: 'string', default: '' } },
  },
};

describe('stripDefaults', () => {
  it('drops a property equal to its default, keeps one that differs', () => {
    expect(stripDefaults({ background: true, retries: 4 }, schema)).toEqual({ retries: 4 });
    expect(stripDefaults({ background: false, retries: 3 }, schema)).toEqual({ background: false });
  });

  it('keeps a required property even when it equals its default', () => {
    expect(stripDefaults({ mode: 'Audit', background: true }, schema)).toEqual({ mode: 'Audit' });
  });

  it('drops an object the server recreates from its default ({} then its own defaults), keeps one without a default whole rather than empty', () => {
    expect(stripDefaults({ evaluation: { enabled: true }, admission: { enabled: true } }, schema)).toEqual({ admission: { enabled: true } });
    expect(stripDefaults({ admission: {} }, schema)).toEqual({ admission: {} });
    expect(stripDefaults({ evaluation: { enabled: false } }, schema)).toEqual({ evaluation: { enabled: false } });
  });

  it('never drops map entries or list items, but walks into list items', () => {
    expect(stripDefaults({ labels: { a: '' }, tags: ['', 'x'] }, schema)).toEqual({ labels: { a: '' }, tags: ['', 'x'] });
    expect(stripDefaults({ rules: [{ name: 'a', skip: false }, { name: 'b', skip: true }] }, schema)).toEqual({ rules: [{ name: 'a' }, { name: 'b', skip: true }] });
    expect(stripDefaults({ tags: [] }, schema)).toEqual({});
  });

  it('leaves fields the schema does not describe alone', () => {
    expect(stripDefaults({ other: { background: true } }, schema)).toEqual({ other: { background: true } });
  });

  it('on the shipped ClusterPolicy v1 schema: what the API server fills in goes, what the author chose stays', async () => {
    const match = findKind('kyverno.io/v1', 'ClusterPolicy')!;
    const live: KubeObject = {
      apiVersion: 'kyverno.io/v1',
      kind: 'ClusterPolicy',
      metadata: { name: 'p' },
      spec: {
        admission: true,
        background: true,
        emitWarning: false,
        validationFailureAction: 'Enforce',
        rules: [{ name: 'r', skipBackgroundRequests: true, match: { any: [{ resources: { kinds: ['Pod'] } }] }, validate: { allowExistingViolations: true, pattern: { metadata: { labels: { app: '?*' } } } } }],
      },
    };
    const stripped = await stripSchemaDefaults(live, match.engine, match.kind, 'v1');
    expect(stripped.spec).toEqual({
      validationFailureAction: 'Enforce',
      rules: [{ name: 'r', match: { any: [{ resources: { kinds: ['Pod'] } }] }, validate: { pattern: { metadata: { labels: { app: '?*' } } } } }],
    });
    expect((live.spec as { admission: boolean }).admission).toBe(true); // a copy: the input is untouched
  });
});
