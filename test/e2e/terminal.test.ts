// Issue 13, items 1 and 2 (and the --quiet / --[no-]progress flags): the executable on a real
// terminal. Each run gets a pty from script(1) (`script -q -e -c CMD /dev/null`, its exit status is
// the command's, 128+N when a signal N killed it); Ctrl-C is the byte 0x03 typed into that
// terminal, which the terminal turns into SIGINT for its foreground process group (unless the
// program put it in raw mode: the bug of item 1). Run from this non-terminal, script's pty has the
// size 0 0 (the terminal of item 2); `stty cols 120 rows 40` first gives it a width.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXECUTABLE, REPO_ROOT, runCli, runOk } from '../support/cli.ts';
import { startRegistry, type RunningRegistry } from '../support/registry.ts';

const ESC = '\u001b[';
const HIDE_CURSOR = '\u001b[?25l';
const SHOW_CURSOR = '\u001b[?25h';
const CTRL_C = '\u0003';
/** Enough policies that pushing their blobs takes seconds, so there is time to interrupt it. */
const MANY = 600;

let reg: RunningRegistry;
let work: string;
let many: string;
let few: string;

beforeAll(async () => {
  reg = await startRegistry('open');
  work = await mkdtemp(join(tmpdir(), 'policyoci-terminal-'));
  const template = await readFile(join(REPO_ROOT, 'examples', 'policies', 'kyverno', 'disallow-latest-tag-vpol.yaml'), 'utf8');
  many = join(work, 'many');
  await mkdir(many);
  for (let i = 0; i < MANY; i++) await writeFile(join(many, `p${i}.yaml`), template.replace(/^( {2}name: )disallow-latest-tag$/m, `$1disallow-latest-tag-${i}`));
  // One policy with a warning (a namespace on a cluster-scoped kind), for --quiet.
  few = join(work, 'few');
  await mkdir(few);
  const labels = await readFile(join(REPO_ROOT, 'examples', 'policies', 'kyverno', 'require-labels.yaml'), 'utf8');
  await writeFile(join(few, 'require-labels.yaml'), labels.replace(/^metadata:\n/m, 'metadata:\n  namespace: team-a\n'));
});

afterAll(async () => {
  await reg?.stop();
});

interface Pty {
  child: ChildProcess;
  /** Everything the terminal showed so far. */
  output(): string;
  /** Resolves once the output matches. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** Types into the terminal. */
  type(text: string): void;
  exited: Promise<{ code: number | null; at: number }>;
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** The executable on a fresh pty; `columns` undefined leaves it at script's 0 0. */
function onTerminal(args: string[], options: { columns?: number; env?: NodeJS.ProcessEnv } = {}): Pty {
  const size = options.columns === undefined ? '' : `stty cols ${options.columns} rows 40; `;
  const command = `${size}exec ${[EXECUTABLE, ...args].map(quote).join(' ')}`;
  // Not in CI unless a test says so (chalk, under ora, also reads a CI that is set but empty).
  const { CI: _ci, NO_COLOR: _noColor, FORCE_COLOR: _force, ...inherited } = process.env;
  const child = spawn('script', ['-q', '-e', '-c', command, '/dev/null'], {
    cwd: REPO_ROOT,
    env: { ...inherited, SHELL: '/bin/sh', TERM: 'xterm-256color', POLICYOCI_CACHE_DIR: 'off', ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  const waiters: Array<() => void> = [];
  const collect = (chunk: Buffer) => {
    out += chunk.toString('utf8');
    for (const w of waiters.splice(0)) w();
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<{ code: number | null; at: number }>((resolve) => child.on('close', (code) => resolve({ code, at: Date.now() })));
  return {
    child,
    output: () => out,
    type: (text) => child.stdin!.write(text),
    exited,
    async waitFor(pattern, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      let done = false;
      void exited.then(() => {
        done = true;
      });
      while (!pattern.test(out)) {
        if (done) throw new Error(`the command ended before ${pattern}:\n${out}`);
        if (Date.now() > deadline) throw new Error(`no ${pattern} within ${timeoutMs} ms:\n${out.slice(-2000)}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 200);
        });
      }
    },
  };
}

/** The tags of a repository; [] when the registry knows no such repository. */
async function tags(repo: string): Promise<string[]> {
  const res = await fetch(`${reg.url}/v2/${repo}/tags/list`);
  if (res.status === 404) return [];
  return ((await res.json()) as { tags?: string[] | null }).tags ?? [];
}

/** The pid of the executable script(1) runs (script's only child: `exec` replaced the shell). */
function toolPid(scriptPid: number): number {
  const pid = Number(execFileSync('pgrep', ['-P', String(scriptPid)], { encoding: 'utf8' }).trim().split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`no child of script ${scriptPid}`);
  return pid;
}

describe('item 1: Ctrl-C on a terminal', () => {
  it('stops a push at once (exit 130), with the spinner running, and leaves no tag', async () => {
    const t = onTerminal(['push', `${reg.host}/interrupted:v1`, many], { columns: 120 });
    await t.waitFor(/Pushing blobs to [^\n]*: [1-9]\d*\/\d+/);
    expect(t.output(), 'the spinner is on (it hides the cursor)').toContain(HIDE_CURSOR);
    const typed = Date.now();
    t.type(CTRL_C);
    const { code, at } = await t.exited;
    expect(code, t.output()).toBe(130);
    expect(at - typed, 'stops at once').toBeLessThan(3000);
    expect(t.output().lastIndexOf(SHOW_CURSOR), 'the cursor is shown again').toBeGreaterThan(t.output().lastIndexOf(HIDE_CURSOR));
    expect(t.output()).not.toMatch(/^Pushed /m);
    expect(await tags('interrupted')).toEqual([]);
  });

  it('stops a pull while it writes (exit 130): no output directory, no temp directory, not even the parents it made', async () => {
    await runOk(['push', `${reg.host}/many:v1`, many]);
    const parent = join(work, 'pull-parent');
    const out = join(parent, 'sub', 'out');
    const t = onTerminal(['pull', `${reg.host}/many:v1`, '-o', out], { columns: 120 });
    // Interrupt once the files are being written: the temp directory beside the target has some.
    let staged = 0;
    const started = Date.now();
    while (staged === 0) {
      const dir = join(parent, 'sub');
      const temp = existsSync(dir) ? readdirSync(dir).find((n) => n.startsWith('.out.policyoci-')) : undefined;
      if (temp) staged = readdirSync(join(dir, temp)).length;
      if (Date.now() - started > 60_000) throw new Error(`the pull never started writing:\n${t.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    t.type(CTRL_C);
    const { code } = await t.exited;
    expect(code, `interrupted with ${staged} of ${MANY} files written\n${t.output()}`).toBe(130);
    // Whole or not at all: a Ctrl-C that lands while the finished files are moved in is held
    // until they are all in place (on a loaded machine the pty can deliver it that late).
    const left = existsSync(parent) ? readdirSync(parent, { recursive: true }).map(String).sort() : [];
    expect(left.filter((n) => n.includes('.policyoci-')), 'no temp directory is left').toEqual([]);
    if (left.length > 0) {
      expect(readdirSync(out).length, `a partial output is left: ${left.slice(0, 10).join(', ')}`).toBe(MANY);
    }
  });
});

describe('item 2: terminals that cannot redraw a line', () => {
  it('on a terminal of width 0 (script from a non-terminal), push prints plain lines, never a cursor escape, and finishes', async () => {
    const t = onTerminal(['push', `${reg.host}/narrow:v1`, many]);
    const timer = setTimeout(() => t.child.kill('SIGKILL'), 120_000);
    const { code } = await t.exited;
    clearTimeout(timer);
    expect(code, t.output().slice(-2000)).toBe(0);
    expect(t.output()).toMatch(/^Pushing blobs to [^\n]*: \d+\/\d+\r?$/m);
    expect(t.output()).not.toContain(ESC);
    expect(t.output().length, 'a few lines per step, not one per blob').toBeLessThan(8 * 1024);
    expect(await tags('narrow')).toEqual(['v1']);
  });

  it('there, SIGTERM and Ctrl-C stop a push at once (exit 143, 130) and leave no tag', async () => {
    const term = onTerminal(['push', `${reg.host}/narrow-term:v1`, many]);
    await term.waitFor(/Pushing blobs to [^\n]*: [1-9]\d*\/\d+/);
    process.kill(toolPid(term.child.pid!), 'SIGTERM');
    expect((await term.exited).code, term.output()).toBe(143);
    const int = onTerminal(['push', `${reg.host}/narrow-int:v1`, many]);
    await int.waitFor(/Pushing blobs to [^\n]*: [1-9]\d*\/\d+/);
    int.type(CTRL_C);
    expect((await int.exited).code, int.output()).toBe(130);
    expect(await tags('narrow-term')).toEqual([]);
    expect(await tags('narrow-int')).toEqual([]);
  });

  it('TERM=dumb gets plain lines, CI and --no-progress get none, NO_COLOR a spinner without colours', async () => {
    const run = async (name: string, args: string[], env: NodeJS.ProcessEnv = {}) => {
      const t = onTerminal(['push', `${reg.host}/${name}:v1`, few, ...args], { columns: 120, env });
      const { code } = await t.exited;
      expect(code, t.output()).toBe(0);
      return t.output();
    };
    const dumb = await run('dumb', [], { TERM: 'dumb' });
    expect(dumb).toMatch(/^Pushing 1 policy to /m);
    expect(dumb).not.toContain(ESC);
    for (const [name, args, env] of [['ci', [], { CI: 'true' }], ['no-progress', ['--no-progress'], {}]] as const) {
      const out = await run(name, [...args], env);
      expect(out, name).not.toMatch(/Pushing 1 policy to|Checking files/);
      expect(out, name).not.toContain(ESC);
      expect(out, name).toMatch(/^Pushed 1 policy/m);
    }
    const plain = await run('no-color', [], { NO_COLOR: '1' });
    expect(plain).toContain(HIDE_CURSOR);
    expect(plain).not.toMatch(/\u001b\[3\dm/); // no foreground colour
    const coloured = await run('color', []);
    expect(coloured).toMatch(/\u001b\[36m/); // the spinner is cyan otherwise
  });
});

describe('--quiet and --[no-]progress', () => {
  it('--progress prints plain progress lines where there is no terminal; --quiet prints no warning and no progress, errors still', async () => {
    const ref = `${reg.host}/quiet`;
    const plain = await runOk(['push', `${ref}:v1`, few]);
    expect(plain.stderr).toMatch(/^Warning: .*metadata\.namespace "team-a" ignored/m);
    expect(plain.stderr).not.toMatch(/Pushing 1 policy/); // not a terminal: no progress by default
    const progress = await runOk(['push', `${ref}:v2`, few, '--progress']);
    expect(progress.stderr).toMatch(/^Pushing 1 policy to /m);
    expect(progress.stderr).not.toContain(ESC);
    const quiet = await runOk(['push', `${ref}:v3`, few, '--progress', '--quiet']);
    expect(quiet.stderr).toBe('');
    expect(quiet.stdout).toMatch(/^Pushed 1 policy/m);
    const short = await runOk(['push', `${ref}:v4`, few, '-q']);
    expect(short.stderr).toBe('');
    const failed = await runCli(['push', `${ref}:v5`, join(work, 'missing'), '--quiet']);
    expect(failed.code).toBe(3);
    expect(failed.stderr).toMatch(/^Error: .*missing: no such file or directory/);
  });
});
