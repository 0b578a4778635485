import { describe, expect, it } from 'vitest';
import { assignFileNames, safeNamePart } from '../../../src/policy/naming.ts';
import type { KubeObject } from '../../../src/policy/types.ts';

const obj = (kind: string, name: string, namespace?: string): KubeObject => ({ apiVersion: 'x/v1', kind, metadata: { name, ...(namespace ? { namespace } : {}) } });

describe('file names', () => {
  it('uses the bare name when it is unique', () => {
    expect(assignFileNames([obj('ClusterPolicy', 'a'), obj('ClusterPolicy', 'b')])).toEqual(['a.yaml', 'b.yaml']);
  });
  it('qualifies names that repeat across kinds and namespaces', () => {
    expect(assignFileNames([obj('ClusterPolicy', 'a'), obj('ValidatingPolicy', 'a'), obj('Policy', 'a', 'ns1'), obj('Policy', 'a', 'ns2')])).toEqual([
      'clusterpolicy-a.yaml',
      'validatingpolicy-a.yaml',
      'policy-ns1-a.yaml',
      'policy-ns2-a.yaml',
    ]);
  });
  it('numbers exact repeats, case-insensitively', () => {
    expect(assignFileNames([obj('Policy', 'a', 'ns'), obj('Policy', 'a', 'ns'), obj('Policy', 'A', 'ns')])).toEqual(['policy-ns-a.yaml', 'policy-ns-a-2.yaml', 'policy-ns-a-3.yaml']);
  });
  it.each([
    ['../../etc/passwd', 'etc_passwd'],
    ['a/b', 'a_b'],
    ['nul\u0000x', 'nul_x'],
    ['CON', '_con'],
    ['lpt1.txt', '_lpt1.txt'],
    ['.hidden', 'hidden'],
    ['', 'unnamed'],
  ])('makes %j a safe file name', (raw, safe) => {
    expect(safeNamePart(raw)).toBe(safe);
  });
});
