// apply --wait in text: one line per policy with its engine's words (first line only), then the counts.
import { describe, expect, it } from 'vitest';
import { summarizeReadiness, type ReadinessResult } from '../../../src/kube/readiness.ts';
import { readinessLines } from '../../../src/output/readiness.ts';

const vap = { kind: 'ValidatingAdmissionPolicy', apiVersion: 'admissionregistration.k8s.io/v1', name: 'p' };

describe('readinessLines', () => {
  it('nothing without --wait', () => {
    expect(readinessLines(undefined)).toEqual([]);
  });

  it('each outcome in words, the reporter named, multi-line engine messages cut to their first line', () => {
    const results: ReadinessResult[] = [
      { ...vap, outcome: 'ready', reporter: 'kcm', warnings: ['spec.validations[0].expression: ERROR: undefined field\n | object.x\n | ^'] },
      { ...vap, name: 'q', outcome: 'timed-out', reporter: 'kcm', message: 'not in force after 3s: kcm has not yet seen generation 2 (it reports 1)' },
      { kind: 'KubeArmorPolicy', apiVersion: 'security.kubearmor.com/v1', namespace: 'default', name: 'k', outcome: 'not-reported', message: 'KubeArmor reports nothing on KubeArmorPolicy objects' },
      { kind: 'ConstraintTemplate', apiVersion: 'templates.gatekeeper.sh/v1', name: 't', outcome: 'failed', reporter: 'gk', message: 'rego_parse_error: unexpected eof\nmore' },
    ];
    expect(readinessLines(summarizeReadiness(results, 3000))).toEqual([
      'validatingadmissionpolicy/p in force (kcm)',
      '    warning: spec.validations[0].expression: ERROR: undefined field',
      'validatingadmissionpolicy/q not in force in time (kcm): not in force after 3s: kcm has not yet seen generation 2 (it reports 1)',
      'kubearmorpolicy/default/k not reported: KubeArmor reports nothing on KubeArmorPolicy objects',
      'constrainttemplate/t refused by its engine (gk): rego_parse_error: unexpected eof',
      '--wait: 1 in force, 1 not reported, 1 refused, 1 not in force within 3s',
    ]);
    expect(summarizeReadiness(results, 3000).failed).toBe(true);
    expect(summarizeReadiness(results.slice(0, 1), 3000).failed).toBe(false);
  });
});
