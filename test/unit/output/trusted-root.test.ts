// pull, apply (so migrate and pull --apply) and diff in text say which Sigstore trusted root a
// signature was checked against, as verify does, when one was used; nothing when none was. The
// renderers are pure functions of their results: fed each with and without `trustedRoot`.
import { describe, expect, it } from 'vitest';
import type { ApplySummary } from '../../../src/core/apply.ts';
import type { DiffSummary } from '../../../src/core/diff.ts';
import type { PullResult } from '../../../src/core/pull.ts';
import type { VerifyResult } from '../../../src/core/verify.ts';
import { countActions, type ApplyResult } from '../../../src/kube/result.ts';
import type { TrustedRootUsed } from '../../../src/signing/trust.ts';
import { applyText } from '../../../src/output/apply.ts';
import { diffText } from '../../../src/output/diff.ts';
import { pullText } from '../../../src/output/pull.ts';
import { verifyText } from '../../../src/output/verify.ts';

const D = `sha256:${'a'.repeat(64)}`;
const source = { reference: 'r/p:v1', digest: D, artifacts: [D], verified: true };
const created: ApplyResult = { kind: 'ClusterPolicy', apiVersion: 'kyverno.io/v1', name: 'a', action: 'created' };

function texts(trustedRoot?: TrustedRootUsed): Record<string, string[]> {
  const root = trustedRoot ? { trustedRoot } : {};
  const pull: PullResult = { ...source, ...root, directory: 'out', files: [{ file: 'a.yaml', apiVersion: 'kyverno.io/v1', kind: 'ClusterPolicy', name: 'a', engine: 'kyverno' }], warnings: [] };
  const apply: Pick<ApplySummary, 'results' | 'counts' | 'context' | 'dryRunStrategy' | 'trustedRoot'> = { results: [created], counts: countActions([created]), context: 'c', dryRunStrategy: 'none', ...root };
  const diff = { ...source, ...root, context: 'c', server: 's', changed: 0, errors: 0, results: [], warnings: [] } as DiffSummary;
  const verify = { reference: 'r/p', digest: D, policy: 'the key cosign.pub', verified: 0, signatures: [], ...root } as unknown as VerifyResult;
  return { pull: pullText(pull).split('\n'), apply: applyText(apply).split('\n'), diff: diffText(diff).split('\n'), verify: verifyText(verify).split('\n') };
}

describe('the trusted root in text', () => {
  it('each verb ends with the line verify prints, naming the root and where it came from', () => {
    const used: TrustedRootUsed = { source: 'file', detail: '/etc/root.json' };
    for (const [verb, lines] of Object.entries(texts(used))) {
      expect(lines.at(-1), verb).toBe('Trusted root: file (/etc/root.json)');
      expect(lines.filter((l) => l.startsWith('Trusted root')), verb).toHaveLength(1);
    }
    expect(texts({ source: 'shipped', detail: 'the TUF repository could not be reached' }).apply?.at(-1)).toBe('Trusted root: shipped (the TUF repository could not be reached)');
  });

  it('says nothing of a trusted root when none was used', () => {
    const lines = texts();
    for (const [verb, text] of Object.entries(lines)) expect(text.join('\n'), verb).not.toMatch(/trusted root/i);
    expect(lines.pull).toEqual([`Pulled 1 policy from r/p:v1 (${D}), signature verified, into out`, '  a.yaml\tClusterPolicy a']);
    expect(lines.apply).toEqual(['clusterpolicy/a created', '1 created, 0 configured, 0 unchanged, 0 pruned, 0 failed (context c)']);
    expect(lines.diff).toEqual(['0 of 0 objects would change in context c']);
  });
});
