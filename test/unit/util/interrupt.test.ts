// Issue 13, item 1: what a signal does (src/util/interrupt.ts), in a child process of its own: the
// clean-ups registered run, the process dies of the signal itself, and a step that holds signals
// (moving finished files into place) finishes first.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const NODE = join(import.meta.dirname, '..', '..', '..', 'node_modules', '.bin', 'node');
const INTERRUPT = pathToFileURL(join(import.meta.dirname, '..', '..', '..', 'src', 'util', 'interrupt.ts')).href;
const TREE = pathToFileURL(join(import.meta.dirname, '..', '..', '..', 'src', 'util', 'tree.ts')).href;

/** Runs `body` (TypeScript, top-level await) in a fresh Node with the interrupt handlers installed. */
function child(body: string): { status: number | null; signal: NodeJS.Signals | null; dir: string; stderr: string } {
  const dir = mkdtempSync(join(tmpdir(), 'policyoci-interrupt-'));
  const script = join(dir, 'child.ts');
  writeFileSync(script, `import { holdingInterrupts, installInterruptHandlers, onInterrupt } from ${JSON.stringify(INTERRUPT)};\nimport { writeTreeAtomically } from ${JSON.stringify(TREE)};\nimport { readdirSync, writeFileSync } from 'node:fs';\nconst dir = ${JSON.stringify(dir)};\ninstallInterruptHandlers();\n${body}\n`);
  const r = spawnSync(NODE, [script], { encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, signal: r.signal, dir, stderr: r.stderr };
}

describe('interrupt handlers', () => {
  it('run the registered clean-ups (not the forgotten ones), then die of the signal', () => {
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      const r = child(`
        onInterrupt(() => writeFileSync(dir + '/cleaned', ''));
        const forget = onInterrupt(() => writeFileSync(dir + '/forgotten', ''));
        forget();
        process.kill(process.pid, '${signal}');
        await new Promise((resolve) => setTimeout(resolve, 2000));
        writeFileSync(dir + '/went-on', '');
      `);
      expect(r.signal, `${signal}: ${r.stderr}`).toBe(signal);
      expect(existsSync(join(r.dir, 'cleaned')), signal).toBe(true);
      expect(existsSync(join(r.dir, 'forgotten')), signal).toBe(false);
      expect(existsSync(join(r.dir, 'went-on')), signal).toBe(false);
    }
  });

  it('hold a signal that arrives during a held step until the step is done', () => {
    const r = child(`
      await holdingInterrupts(async () => {
        process.kill(process.pid, 'SIGINT');
        await new Promise((resolve) => setTimeout(resolve, 300));
        writeFileSync(dir + '/step-done', '');
      });
      writeFileSync(dir + '/after-step', '');
    `);
    expect(r.signal, r.stderr).toBe('SIGINT');
    expect(existsSync(join(r.dir, 'step-done')), 'the held step finished').toBe(true);
    expect(existsSync(join(r.dir, 'after-step')), 'nothing after it ran').toBe(false);
  });

  it('remove a tree half written when the signal came, with the parents the write made', () => {
    // The signal is sent from inside the process once the temp directory holds files, so it
    // lands while files (in nested directories too) are still being written.
    const r = child(`
      const files = Array.from({ length: 2000 }, (_, i) => ({ path: 'd' + (i % 7) + '/e' + (i % 3) + '/f' + i + '.yaml', content: 'x: ' + i + '\\n' }));
      const parent = dir + '/made/by/write';
      const watch = setInterval(() => {
        let names = [];
        try { names = readdirSync(parent); } catch {}
        const temp = names.find((n) => n.startsWith('.out.policyoci-'));
        if (temp && readdirSync(parent + '/' + temp, { recursive: true }).length > 20) {
          clearInterval(watch);
          process.kill(process.pid, 'SIGTERM');
        }
      }, 0);
      await writeTreeAtomically(parent + '/out', files);
      writeFileSync(dir + '/finished', '');
    `);
    expect(r.signal, r.stderr).toBe('SIGTERM');
    expect(existsSync(join(r.dir, 'finished')), 'interrupted before the files were moved in').toBe(false);
    expect(existsSync(join(r.dir, 'made')), 'nothing of the output, its temp directory or its parents is left').toBe(false);
  });
});
