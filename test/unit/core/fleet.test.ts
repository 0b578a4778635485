// Fleets: which contexts a selection names, and runFleet's promises (bounded, independent, fail-fast).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isFleetSelection, resolveContexts, runFleet, selectionOf, zeroCounts } from '../../../src/core/fleet.ts';
import { silentReporter } from '../../../src/core/reporter.ts';
import { PolicyOciError } from '../../../src/errors.ts';

const dir = mkdtempSync(join(tmpdir(), 'fleet-unit-'));
const names = ['prod-eu', 'prod-us', 'staging', 'arn:aws:eks:eu-west-1:1:cluster/prod-x'];
const kubeconfig = join(dir, 'config');
writeFileSync(
  kubeconfig,
  `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]\nusers: [{name: u, user: {token: t}}]\ncontexts:\n${names.map((n) => `  - {name: "${n}", context: {cluster: c, user: u}}`).join('\n')}\ncurrent-context: staging\n`,
);
const resolve = (context: string | undefined, all = false) => resolveContexts(selectionOf(context, all), { kubeconfig, env: {} });

describe('which contexts', () => {
  it('one plain name is no fleet; a list, a pattern or --all-contexts is', () => {
    expect(isFleetSelection('prod-eu', false)).toBe(false);
    expect(isFleetSelection(undefined, false)).toBe(false);
    expect(isFleetSelection('a,b', false)).toBe(true);
    expect(isFleetSelection('prod-*', false)).toBe(true);
    expect(isFleetSelection(undefined, true)).toBe(true);
  });

  it('lists in the order given, patterns as shell globs where * also matches /, each context once', () => {
    expect(resolve('staging,prod-*')).toEqual(['staging', 'prod-eu', 'prod-us']);
    expect(resolve('prod-?s,prod-*')).toEqual(['prod-us', 'prod-eu']);
    expect(resolve('*prod-*')).toEqual(['prod-eu', 'prod-us', 'arn:aws:eks:eu-west-1:1:cluster/prod-x']);
    expect(resolve('prod-[!e]*')).toEqual(['prod-us']);
    expect(resolve(undefined, true)).toEqual(names);
  });

  it('a missing name or a pattern matching none is a usage error naming what exists', () => {
    expect(() => resolve('prod-eu,nope')).toThrow(/context "nope" not found .*available: prod-eu, prod-us, staging/);
    expect(() => resolve('dev-*')).toThrow(PolicyOciError);
  });
});

describe('runFleet', () => {
  const verdict = (r: { failed?: boolean }) => ({ counts: zeroCounts(), ...(r.failed ? { failure: 'objects failed' } : {}) });

  it('runs at most `parallel` at once; a throw or a failure stays that context\'s', async () => {
    let running = 0;
    let most = 0;
    const result = await runFleet(['a', 'b', 'c', 'd', 'e'], { parallel: 2, failFast: false }, silentReporter, async (c) => {
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, 10));
      running--;
      if (c === 'b') throw new PolicyOciError('CLUSTER', 'b is down');
      return { failed: c === 'd' };
    }, verdict);
    expect(most).toBe(2);
    expect(result.contexts.map((o) => [o.context, o.status])).toEqual([['a', 'ok'], ['b', 'failed'], ['c', 'ok'], ['d', 'failed'], ['e', 'ok']]);
    expect(result.contexts[1]!.error).toMatchObject({ code: 'CLUSTER', exitCode: 8, message: 'b is down' });
    expect(result.totals).toEqual({ contexts: 5, ok: 3, failed: 2, skipped: 0, differ: 0 });
  });

  it('--fail-fast starts nothing after the first failure', async () => {
    const started: string[] = [];
    const result = await runFleet(['a', 'b', 'c'], { parallel: 1, failFast: true }, silentReporter, async (c) => {
      started.push(c);
      if (c === 'a') throw new Error('down');
      return {};
    }, verdict);
    expect(started).toEqual(['a']);
    expect(result.contexts.map((o) => o.status)).toEqual(['failed', 'skipped', 'skipped']);
  });
});
