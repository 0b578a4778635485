// Walks the executable's help: the commands `kubectl-policyoci --help` lists, and the flags each
// command's `--help` lists (with their aliases), so a test can demand proof for every one of them.
import { runOk } from './cli.ts';

/** One flag as a command's --help lists it: all its names, and the key cases use for it. */
export interface ListedFlag {
  /** As written, e.g. ['-o', '-d', '--output', '--dir'] or ['--referrer'] */
  names: string[];
  /** The first long name without dashes (and without `[no-]`), e.g. "output". */
  key: string;
}

/** The flags of every command, in the order --help lists them. */
export type HelpWalk = Map<string, ListedFlag[]>;

/** The sections of a yargs help text ("Commands:", "Options:", a group's title…) and their lines. */
function sections(help: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of help.split('\n')) {
    if (/^\S.*:$/.test(line)) {
      current = [];
      out.set(line, current);
    } else {
      current?.push(line);
    }
  }
  return out;
}

function section(help: string, title: string): string[] {
  return sections(help).get(title) ?? [];
}

/** Sections that list no flags (an example's wrapped line may start with "-"). */
const NOT_FLAGS = new Set(['Commands:', 'Positionals:', 'Examples:']);

/** The sub-commands the root help lists ("  kubectl policyoci push [ref] [paths..]  …"). */
export function parseCommands(rootHelp: string): string[] {
  const names: string[] = [];
  for (const line of section(rootHelp, 'Commands:')) {
    const match = /^ {2}kubectl policyoci ([a-z][\w-]*)/.exec(line);
    if (match?.[1]) names.push(match[1]);
  }
  return names;
}

const NAME = String.raw`--\[no-\][\w-]+|--?[\w-]+`;
// yargs starts a flag at column 2 ("  -h, --help") or 6 ("      --format"); wrapped description
// lines are indented further, so a description that happens to begin with "--" is not a flag.
const FLAG_LINE = new RegExp(String.raw`^ {2}(?: {4})?((?:${NAME})(?:, (?:${NAME}))*)(?: {2,}|$)`);

function keyOf(name: string): string {
  return name.replace(/^--?/, '').replace(/^\[no-\]/, '');
}

/** The flags of a command's --help: "Options:" and the groups a command puts its flags in. */
export function parseFlags(help: string): ListedFlag[] {
  const flags: ListedFlag[] = [];
  for (const [title, lines] of sections(help)) {
    if (NOT_FLAGS.has(title)) continue;
    for (const line of lines) {
      const match = FLAG_LINE.exec(line);
      if (!match?.[1]) continue;
      const names = match[1].split(', ');
      const long = names.find((name) => name.startsWith('--')) ?? names[0]!;
      flags.push({ names, key: keyOf(long) });
    }
  }
  return flags;
}

/** True when `name` (with or without dashes) is one of the flag's names. */
export function flagHasName(flag: ListedFlag, name: string): boolean {
  const wanted = keyOf(name);
  return flag.names.some((listed) => keyOf(listed) === wanted);
}

/** Runs `--help` for the root and for every command it lists. */
export async function walkHelp(): Promise<{ commands: string[]; global: ListedFlag[]; flags: HelpWalk }> {
  const root = (await runOk(['--help'])).stdout;
  const commands = parseCommands(root);
  const helps = await Promise.all(commands.map(async (command) => [command, (await runOk([command, '--help'])).stdout] as const));
  return { commands, global: parseFlags(root), flags: new Map(helps.map(([command, help]) => [command, parseFlags(help)])) };
}

/** What a case claims to prove: a flag (any of its names) of a command. */
export interface CaseKey {
  command: string;
  flag: string;
}

export interface Coverage {
  /** Listed flags no case proves: "push --bundle". */
  unproven: string[];
  /** Cases naming a command or flag --help does not list. */
  stale: string[];
}

/**
 * Compares what --help lists with the cases. A flag in `provenOnce` (global flags handled in one
 * place for every command) is proven for all commands by a case for any one of them.
 */
export function coverage(walk: HelpWalk, cases: readonly CaseKey[], provenOnce: readonly string[] = []): Coverage {
  const unproven: string[] = [];
  for (const [command, flags] of walk) {
    for (const flag of flags) {
      const once = provenOnce.includes(flag.key);
      const proven = cases.some((c) => (once || c.command === command) && flagHasName(flag, c.flag));
      if (!proven) unproven.push(`${command} --${flag.key}`);
    }
  }
  const stale = cases
    .filter((c) => !(walk.get(c.command) ?? []).some((flag) => flagHasName(flag, c.flag)))
    .map((c) => `${c.command} --${keyOf(c.flag)}`);
  return { unproven, stale };
}

/** A counting semaphore: at most `size` callers of `run` at a time. */
export function limiter(size: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: Array<() => void> = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    // A finishing task hands its slot straight to the next waiter.
    if (active < size) active++;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else active--;
    }
  };
}
