// What lets a user pin one engine of an index (Flux's ref.digest): push and export name each
// engine's manifest digest under an index, and nothing more for a single engine.
import { describe, expect, it } from 'vitest';
import type { ExportResult } from '../../../src/core/export.ts';
import type { PushResult } from '../../../src/core/push.ts';
import { exportText } from '../../../src/output/export.ts';
import { engineDigestLines, pushText } from '../../../src/output/push.ts';

const digest = (c: string) => `sha256:${c.repeat(64)}`;
const TWO = [
  { engine: 'kubearmor', digest: digest('b'), policies: 2 },
  { engine: 'kyverno', digest: digest('c'), policies: 4 },
];

function pushed(engines: typeof TWO, unchanged = false): PushResult {
  return { reference: 'r/p:v1', dryRun: 'none', digest: digest('a'), mediaType: 'm', size: 1, tags: ['v1'], unchanged, blobsUploaded: 1, blobsTotal: 1, bytesUploaded: 1, policies: 6, engines, warnings: [] };
}

function exported(engines: typeof TWO, unchanged = false): ExportResult {
  return { mode: 'push', context: 'c', apiVersions: {}, defaultsStripped: false, skipped: [], warnings: [], reference: 'r/p:v1', policies: 6, engines, digest: digest('a'), mediaType: 'm', size: 1, tags: ['v1'], unchanged, blobsUploaded: 1, blobsTotal: 1, bytesUploaded: 1 };
}

const LINES = ['Engine manifests (the index lists them; REPO@digest reads one engine):', `  kubearmor  ${digest('b')}`, `  kyverno    ${digest('c')}`];

describe('each engine\'s manifest digest under an index', () => {
  it('push and export print it after the index digest, pushed or unchanged', () => {
    for (const text of [pushText(pushed(TWO)), pushText(pushed(TWO, true)), exportText(exported(TWO)), exportText(exported(TWO, true))]) {
      expect(text.split('\n').slice(-3)).toEqual(LINES);
    }
    expect(pushText(pushed(TWO))).toContain(`Digest: ${digest('a')}\n${LINES[0]}`);
  });

  it('a single engine: its manifest is the digest already printed, no list', () => {
    expect(engineDigestLines(TWO.slice(1))).toEqual([]);
    expect(pushText(pushed(TWO.slice(1)))).not.toMatch(/Engine manifests/);
    expect(exportText(exported(TWO.slice(1)))).not.toMatch(/Engine manifests/);
  });
});
