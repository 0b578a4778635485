// The generic reading of an engine's readiness report (engine.json `readiness`) on a live object.
import { describe, expect, it } from 'vitest';
import { findEngine } from '../../../src/engines/index.ts';
import type { EngineReadiness } from '../../../src/engines/types.ts';
import { isIdempotent, mayRetry, ApiError, ConnectionError } from '../../../src/kube/http.ts';
import { evaluate, readinessRule, valuesAt } from '../../../src/kube/readiness.ts';
import type { KubeObject } from '../../../src/policy/types.ts';

const obj = (generation: number, status: unknown): KubeObject => ({ apiVersion: 'x/v1', kind: 'K', metadata: { name: 'n', generation } as KubeObject['metadata'], status } as KubeObject);

describe('valuesAt', () => {
  it('follows dotted paths, [] flattening lists; missing parts give nothing', () => {
    const o = { status: { byPod: [{ errors: [{ message: 'a' }, { message: 'b' }] }, { errors: [] }, {}], created: false } };
    expect(valuesAt(o, 'status.byPod[].errors[].message')).toEqual(['a', 'b']);
    expect(valuesAt(o, 'status.created')).toEqual([false]);
    expect(valuesAt(o, 'status.nothing.here')).toEqual([]);
    expect(valuesAt(o, 'status.created[]')).toEqual([]);
  });
});

describe('evaluate', () => {
  const vap = readinessRule(findEngine('kubernetes')!, 'ValidatingAdmissionPolicy', 'admissionregistration.k8s.io')!;
  const kyverno = readinessRule(findEngine('kyverno')!, 'ClusterPolicy', 'kyverno.io')!;
  const cel = readinessRule(findEngine('kyverno')!, 'ValidatingPolicy', 'policies.kyverno.io')!;

  it('the plugins declare the rules the README lists; kinds without one report nothing', () => {
    expect(vap.observedGeneration).toBe('status.observedGeneration');
    expect(kyverno.condition).toEqual({ path: 'status.conditions', type: 'Ready' });
    expect(cel.allTrue).toEqual(['status.conditionStatus.ready']);
    expect(readinessRule(findEngine('kubernetes')!, 'ValidatingAdmissionPolicyBinding', 'admissionregistration.k8s.io')).toBeUndefined();
    expect(readinessRule(findEngine('kubearmor')!, 'KubeArmorPolicy', 'security.kubearmor.com')).toBeUndefined();
  });

  it('ValidatingAdmissionPolicy: no status is no report; an older generation is pending; the current one is in force, type-checking warnings kept', () => {
    expect(evaluate(obj(2, undefined), vap).state).toBe('unreported');
    expect(evaluate(obj(2, { observedGeneration: 1 }), vap)).toMatchObject({ state: 'pending', message: expect.stringMatching(/has not yet seen generation 2 \(it reports 1\)/) });
    const warned = evaluate(obj(2, { observedGeneration: 2, typeChecking: { expressionWarnings: [{ fieldRef: 'spec.validations[0].expression', warning: 'undefined field' }] } }), vap);
    expect(warned).toEqual({ state: 'ready', warnings: ['spec.validations[0].expression: undefined field'] });
  });

  it('a condition: True in force, False pending with its reason and message, absent no report', () => {
    expect(evaluate(obj(1, { conditions: [{ type: 'Ready', status: 'True' }] }), kyverno).state).toBe('ready');
    expect(evaluate(obj(1, { conditions: [{ type: 'Ready', status: 'False', reason: 'Failed', message: 'webhook not ready' }] }), kyverno)).toMatchObject({ state: 'pending', message: 'Failed: webhook not ready' });
    expect(evaluate(obj(1, { conditions: [{ type: 'Other', status: 'True' }] }), kyverno).state).toBe('unreported');
  });

  it('booleans and a message; errors fail at once, unless the report is of an older generation', () => {
    expect(evaluate(obj(1, { conditionStatus: { ready: false, message: 'RBAC missing' } }), cel)).toMatchObject({ state: 'pending', message: 'RBAC missing' });
    expect(evaluate(obj(1, { conditionStatus: { ready: true } }), cel).state).toBe('ready');
    const template: EngineReadiness = { reporter: 'r', allTrue: ['status.created'], observedGeneration: 'status.byPod[].observedGeneration', errors: ['status.byPod[].errors[].message'] };
    const broken = { created: true, byPod: [{ observedGeneration: 3, errors: [{ code: 'ingest_error', message: 'rego_parse_error: unexpected eof' }] }] };
    expect(evaluate(obj(3, broken), template)).toMatchObject({ state: 'failed', message: 'rego_parse_error: unexpected eof' });
    expect(evaluate(obj(4, broken), template).state).toBe('pending');
    expect(evaluate(obj(3, { created: true, byPod: [] }), template).state).toBe('pending');
  });
});

describe('which API requests are retried', () => {
  it('idempotent: reads, deletes, server-side apply, dry runs, requests marked so; not a create or another patch', () => {
    expect(isIdempotent({ method: 'GET', path: '/' })).toBe(true);
    expect(isIdempotent({ method: 'DELETE', path: '/' })).toBe(true);
    expect(isIdempotent({ method: 'PATCH', path: '/', contentType: 'application/apply-patch+yaml' })).toBe(true);
    expect(isIdempotent({ method: 'PATCH', path: '/', contentType: 'application/json-patch+json' })).toBe(false);
    expect(isIdempotent({ method: 'POST', path: '/' })).toBe(false);
    expect(isIdempotent({ method: 'POST', path: '/', query: { dryRun: 'All' } })).toBe(true);
    expect(isIdempotent({ method: 'POST', path: '/', idempotent: true })).toBe(true);
  });

  it('a non-idempotent request only after a 429 or a connection never made; no request after a timeout', () => {
    const reset = new ConnectionError('other side closed', 'connect', { cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }) });
    const refused = new ConnectionError('ECONNREFUSED', 'connect', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });
    expect(mayRetry(reset, true)).toBe(true);
    expect(mayRetry(reset, false)).toBe(false);
    expect(mayRetry(refused, false)).toBe(true);
    expect(mayRetry(new ApiError(429, {}), false)).toBe(true);
    expect(mayRetry(new ApiError(503, {}), false)).toBe(false);
    expect(mayRetry(new ApiError(503, {}), true)).toBe(true);
    expect(mayRetry(new ConnectionError('no answer within 1000 ms', 'timeout'), true)).toBe(false);
  });
});
