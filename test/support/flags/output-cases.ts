// The global output flags (--format, -v/--verbose, --progress, -q/--quiet), proven for every
// command that talks to a registry or a cluster. One run without any of them is shared by the
// cases of --format, --verbose and --progress (it is "without" for each); the run with --progress
// is "with" for --progress and "without" for --quiet.
import { expect } from 'vitest';
import type { CliResult } from '../cli.ts';
import { clusterOf, type FlagCase, type FlagContext } from './context.ts';
import { expectExit, isJson, json, plus } from './kit.ts';
import { okOf, REGISTRY_OPS, type RegistryOp } from './registry-ops.ts';

const runs = new WeakMap<FlagContext, Map<string, Promise<CliResult>>>();

/** One run shared by several cases (made once per `key`). */
export function sharedRun(ctx: FlagContext, key: string, make: () => Promise<CliResult>): Promise<CliResult> {
  const byKey = runs.get(ctx) ?? new Map<string, Promise<CliResult>>();
  runs.set(ctx, byKey);
  let run = byKey.get(key);
  if (!run) {
    run = make();
    byKey.set(key, run);
  }
  return run;
}

const plain = (ctx: FlagContext, op: RegistryOp) => sharedRun(ctx, `${op.command} plain`, async () => ctx.kit.run(await op.against(ctx, ctx.open)));
const withProgress = (ctx: FlagContext, op: RegistryOp) => sharedRun(ctx, `${op.command} progress`, async () => ctx.kit.run(plus(await op.against(ctx, ctx.open), '--progress')));

const lines = (text: string) => text.split('\n').filter((line) => line !== '');
/** stderr lines that are progress: not a warning, an error or an HTTP trace line. */
const progressLines = (result: CliResult) => lines(result.stderr).filter((line) => !/^(Warning: |Error: |HTTP )/.test(line));
const traceLines = (result: CliResult) => lines(result.stderr).filter((line) => line.startsWith('HTTP '));

function outputCase(op: RegistryOp, flag: string, how: string, prove: (ctx: FlagContext) => Promise<void>): FlagCase {
  return { command: op.command, flag, cluster: op.cluster ?? false, how, run: prove };
}

function outputCases(op: RegistryOp): FlagCase[] {
  const ok = (result: CliResult, what: string) => expectExit(result, okOf(op), `${op.command} ${what}`);
  return [
    outputCase(op, 'format', `stdout is text without; a JSON object with "${op.jsonKey}" with --format json`, async (ctx) => {
      const text = await plain(ctx, op);
      ok(text, 'without --format');
      expect(isJson(text.stdout), `${op.command} prints text by default: ${text.stdout}`).toBe(false);
      const result = await ctx.kit.run(plus(await op.against(ctx, ctx.open), '--format', 'json'));
      ok(result, '--format json');
      expect(json(result, `${op.command} --format json`)).toHaveProperty(op.jsonKey);
    }),
    outputCase(op, 'verbose', `no "HTTP …" lines on stderr without; with -v one per exchange with the registry${op.cluster ? ' and with the API server' : ''}`, async (ctx) => {
      const quietRun = await plain(ctx, op);
      ok(quietRun, 'without -v');
      expect(traceLines(quietRun)).toEqual([]);
      const traced = await ctx.kit.run(plus(await op.against(ctx, ctx.open), '-v'));
      ok(traced, '-v');
      const urls = traceLines(traced).join('\n');
      expect(urls).toMatch(new RegExp(`^HTTP [A-Z]+ http://${ctx.open.host}/v2/`, 'm'));
      if (op.cluster) expect(urls).toContain(`HTTP GET ${clusterOf(ctx).kube.cluster.server}/`);
    }),
    outputCase(op, 'progress', 'no progress on stderr without (not a terminal, CI); progress lines with --progress', async (ctx) => {
      const silent = await plain(ctx, op);
      ok(silent, 'without --progress');
      expect(progressLines(silent)).toEqual([]);
      const shown = await withProgress(ctx, op);
      ok(shown, '--progress');
      expect(progressLines(shown).length).toBeGreaterThan(0);
    }),
    outputCase(op, 'quiet', 'with --progress: progress lines on stderr without; nothing on stderr with -q', async (ctx) => {
      const shown = await withProgress(ctx, op);
      ok(shown, '--progress');
      expect(progressLines(shown).length).toBeGreaterThan(0);
      const quiet = await ctx.kit.run(plus(await op.against(ctx, ctx.open), '--progress', '-q'));
      ok(quiet, '--progress -q');
      expect(quiet.stderr).toBe('');
    }),
  ];
}

export function globalOutputCases(): FlagCase[] {
  return REGISTRY_OPS.flatMap(outputCases);
}
