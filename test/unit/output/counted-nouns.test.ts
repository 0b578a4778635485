// Every renderer counts its nouns: "1 policy", "1 manifest", "1 signature", never "1 policies" or
// "object(s)". The renderers are pure functions of their results: fed counts of 1 and of 2.
import { describe, expect, it } from 'vitest';
import type { AttachResult } from '../../../src/core/attach.ts';
import type { CopyResult } from '../../../src/core/copy.ts';
import type { DiffSummary } from '../../../src/core/diff.ts';
import type { ExportResult } from '../../../src/core/export.ts';
import type { PullResult } from '../../../src/core/pull.ts';
import type { PushResult } from '../../../src/core/push.ts';
import type { VerifyResult } from '../../../src/core/verify.ts';
import { attachText } from '../../../src/output/attach.ts';
import { copyText } from '../../../src/output/copy.ts';
import { diffText } from '../../../src/output/diff.ts';
import { exportText } from '../../../src/output/export.ts';
import { pullText } from '../../../src/output/pull.ts';
import { pushText } from '../../../src/output/push.ts';
import { verifyText } from '../../../src/output/verify.ts';

const D = `sha256:${'a'.repeat(64)}`;
const times = <T>(n: number, f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i));
/** Plural mistakes and hedges a renderer must never print. */
const WRONG = /\b1 (policies|manifests|blobs|bytes|artifacts|referrers|objects|signatures|warnings|layers)\b|\(s\)/;

function push(n: number, warnings: number): PushResult {
  return {
    reference: 'r/p:v1', dryRun: 'none', digest: D, mediaType: 'm', size: 1, tags: ['v1'], unchanged: false,
    blobsUploaded: n, blobsTotal: n, bytesUploaded: n, policies: n, engines: [{ engine: 'kyverno', digest: D, policies: n }],
    warnings: times(warnings, (i) => `w${i}`),
  };
}

function texts(n: number): string[] {
  const pull = { reference: 'r/p:v1', digest: D, artifacts: times(n, () => D), verified: false, directory: 'out', files: times(n, () => ({ file: 'a.yaml', kind: 'ClusterPolicy', name: 'a' })), warnings: [] } as unknown as PullResult;
  const attach = { image: 'r/app', subject: { mediaType: 'm', digest: D, size: 1 }, artifacts: [{ engine: 'kyverno', digest: D, artifactType: 't', policies: n, indexedBy: 'api' }], blobsUploaded: 1, warnings: [] } satisfies AttachResult;
  const copy = { source: 'a', destination: 'b', digest: D, mediaType: 'm', tags: [], manifests: n, blobsCopied: n, blobsSkipped: 0, bytesCopied: n, referrers: times(n, () => ({ digest: D, subject: D })) } as unknown as CopyResult;
  const diff = { results: times(n, () => ({ change: 'unchanged' })), changed: 0, context: 'c' } as unknown as DiffSummary;
  const exported = { mode: 'files', context: 'c', directory: 'd', files: times(n, () => ({})) } as unknown as ExportResult;
  const verify = { reference: 'r/p', digest: D, policy: 'the key cosign.pub', verified: n, signatures: times(n, () => ({ valid: true, source: 'tag', manifest: D, layer: D })) } as unknown as VerifyResult;
  return [pushText(push(n, n)), pullText(pull), attachText(attach), copyText(copy), diffText(diff), exportText(exported), verifyText(verify)];
}

describe('renderers count their nouns', () => {
  it('one of each: singular, and no "(s)"', () => {
    const one = texts(1).join('\n');
    expect(one).not.toMatch(WRONG);
    expect(one).toContain('Pushed 1 policy (kyverno: 1)');
    expect(one).toContain('Uploaded 1 of 1 blob (1 byte)');
    expect(one).toContain('1 warning (printed above');
    expect(one).toContain('Pulled 1 policy from');
    expect(one).toContain('Attached 1 policy to');
    expect(one).toContain('1 manifest, 1 blob copied (1 byte)');
    expect(one).toContain('0 of 1 object would change');
    expect(one).toContain('Exported 1 policy from');
    expect(one).toContain('1 of 1 signature verifies');
  });

  it('two of each: plural', () => {
    const two = texts(2).join('\n');
    expect(two).not.toMatch(/\(s\)/);
    expect(two).toContain('Pushed 2 policies');
    expect(two).toContain('2 artifacts attached to');
    expect(two).toContain('2 referrers:');
    expect(two).toContain('2 of 2 signatures verify');
  });

  it('under --quiet the warnings line says they were not printed', () => {
    expect(pushText(push(2, 3), { warningsShown: false }).split('\n').at(-1)).toBe('3 warnings (not printed under --quiet; --format json lists them)');
    expect(pushText(push(2, 0))).not.toMatch(/warning/);
  });
});
