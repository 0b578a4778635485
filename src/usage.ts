// What the tool says when the words are wrong: yargs' messages (unknown flag, missing argument,
// bad choice) said in the tool's words with the command's usage, an unknown command with the list
// of commands, a hint when a path sits where the reference goes. cli.ts turns the errors into exit
// codes and writes them; nothing here writes.
import { existsSync } from 'node:fs';
import { isPolicyOciError, PolicyOciError } from './errors.ts';

export const PROGRAM = 'kubectl policyoci';

export interface CommandModule {
  command: string;
  describe: string;
}

/** What an error message may use to explain itself: the words, the command, what yargs parsed. */
export interface RunContext {
  argv: string[];
  json: boolean;
  debug: boolean;
  commands: CommandModule[];
  /** The command the words name, when they name one. */
  command?: CommandModule;
  /** The arguments as yargs parsed them (before its validation). */
  parsed?: Record<string, unknown>;
}

/** Arguments that look swapped say so, with the command's usage. */
export function explained(err: unknown, ctx: RunContext): unknown {
  if (!isPolicyOciError(err) || !ctx.command) return err;
  if (!['USAGE', 'INVALID_REFERENCE', 'INVALID_INPUT', 'IO', 'NOT_FOUND'].includes(err.code)) return err;
  const swapped = swapHint(ctx);
  if (!swapped) return err;
  // The hint goes before the usage lines (a parser error has them already).
  const at = err.details.findIndex((d) => d.startsWith('Usage: '));
  const details = at < 0 ? [...err.details, swapped, ...usageLines(ctx.command)] : [...err.details.slice(0, at), swapped, ...err.details.slice(at)];
  return new PolicyOciError(err.code, err.message, { cause: err.cause, details });
}

function usageLines(command: CommandModule): string[] {
  const name = commandName(command);
  return [`Usage: ${PROGRAM} ${command.command} [options]`, `Run '${PROGRAM} ${name} --help' for its flags and examples.`];
}

/** yargs' own messages (English, see .locale), said the way this tool says things, with the command's usage. */
export function usageFromYargs(msg: string, ctx: RunContext, y: unknown): PolicyOciError {
  const err = fromYargs(msg, ctx, y);
  if (!ctx.command) return err;
  return new PolicyOciError('USAGE', err.message, { details: [...err.details, ...usageLines(ctx.command)] });
}

function fromYargs(msg: string, ctx: RunContext, y: unknown): PolicyOciError {
  const command = ctx.command;
  const where = command ? `${commandName(command)} ` : '';
  let m: RegExpExecArray | null;
  if ((m = /^Unknown arguments?: (.+)$/s.exec(msg))) {
    const keys = m[1]!.split(', ');
    const flags = keys.map((k) => flagAsTyped(k, ctx.argv)).filter((t): t is string => t !== undefined);
    if (flags.length > 0) {
      const suggestion = flags.length === 1 ? closestFlag(flags[0]!, y) : undefined;
      return new PolicyOciError('USAGE', `unknown flag${flags.length > 1 ? 's' : ''} ${flags.join(', ')}${command ? ` for ${commandName(command)}` : ''}`, {
        details: suggestion ? [`Did you mean ${suggestion}?`] : [],
      });
    }
    return new PolicyOciError('USAGE', `unexpected argument${keys.length > 1 ? 's' : ''} ${keys.map((k) => `"${k}"`).join(', ')}${command ? ` for ${commandName(command)}` : ''}`);
  }
  if ((m = /^Not enough non-option arguments: got (\d+), need at least (\d+)$/.exec(msg)) && command) {
    const missing = requiredPositionals(command).slice(Number(m[1]));
    return new PolicyOciError('USAGE', `${where}needs ${listOf(missing.map((p) => `<${p}>`))}`);
  }
  if ((m = /^Missing required arguments?: (.+)$/.exec(msg))) {
    const names = m[1]!.split(', ').map((k) => (command && requiredPositionals(command).includes(k) ? `<${k}>` : `--${k}`));
    return new PolicyOciError('USAGE', `${where}needs ${listOf(names)}`);
  }
  if ((m = /^Invalid values?:\n([\s\S]+)$/.exec(msg))) {
    const lines = [...m[1]!.matchAll(/Argument: ([^,]+), Given: (.+?), Choices: (.+)/g)].map((a) => {
      const key = a[1]!;
      const shown = command && [...requiredPositionals(command), ...optionalPositionals(command)].includes(key) ? `<${key}>` : `--${key}`;
      const choices = a[3]!.split(', ').map((c) => c.replace(/^"(.*)"$/, '$1'));
      return `${shown} takes ${listOf(choices, 'or')}, got ${a[2]}`;
    });
    if (lines.length > 0) return new PolicyOciError('USAGE', lines.join('; '));
  }
  if ((m = /^Not enough arguments following: (.+)$/.exec(msg))) return new PolicyOciError('USAGE', `--${m[1]} needs a value`);
  if ((m = /^Too many non-option arguments: got (\d+), maximum of (\d+)$/.exec(msg))) return new PolicyOciError('USAGE', `${where}takes at most ${m[2]} argument(s), got ${m[1]}`);
  return new PolicyOciError('USAGE', msg);
}

/** The flag the user typed for a key yargs calls unknown (`--no-x` for x…); undefined for a plain word. */
function flagAsTyped(key: string, argv: string[]): string | undefined {
  const typed = argv.find((a) => {
    const name = a.replace(/=.*$/s, '');
    return name === `--${key}` || name === `--no-${key}` || name === `-${key}` || (/^-[^-]/.test(name) && key.length === 1 && name.includes(key));
  });
  if (typed !== undefined) return typed.replace(/=.*$/s, '');
  return argv.includes(key) ? undefined : `--${key}`;
}

/** The flag of the failing command nearest the one typed; `usage` is what yargs hands .fail() (its usage instance). */
function closestFlag(typed: string, usage: unknown): string | undefined {
  const described = (usage as { getDescriptions?: () => Record<string, unknown> } | undefined)?.getDescriptions?.();
  if (!described) return undefined;
  const name = typed.replace(/^-+(no-)?/, '');
  const best = closest(name, Object.keys(described).filter((k) => k.length > 1));
  return best ? `--${best}` : undefined;
}

/** `kubectl policyoci push ./policies ghcr.io/acme/p:v1`: the reference slot holds a path, a later word is a reference. */
function swapHint(ctx: RunContext): string | undefined {
  const command = ctx.command;
  // copy takes two references; with a layout flag the reference slot holds a directory.
  if (!command || commandName(command) === 'copy' || ctx.argv.some((a) => /^--(from-)?oci-layout(=|$)/.test(a))) return undefined;
  const words = positionalWords(command, ctx);
  const [first, ...rest] = words;
  if (first === undefined || looksLikeRemoteReference(first) || !looksLikePath(first)) return undefined;
  const reference = rest.find(looksLikeRemoteReference);
  if (reference === undefined) return undefined;
  return `"${first}" is a path and "${reference}" a reference: did you swap them? The reference comes first.`;
}

function positionalWords(command: CommandModule, ctx: RunContext): string[] {
  const parsed = ctx.parsed;
  if (parsed) {
    const named = [...requiredPositionals(command), ...optionalPositionals(command)].flatMap((k) => {
      const v = parsed[k];
      return v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)];
    });
    const extra = ((parsed._ as unknown[] | undefined) ?? []).slice(1).map(String);
    return [...named, ...extra];
  }
  const name = commandName(command);
  return ctx.argv.slice(ctx.argv.indexOf(name) + 1).filter((a) => !a.startsWith('-'));
}

function looksLikeRemoteReference(word: string): boolean {
  const m = /^(?:oci:\/\/)?([a-z0-9][a-z0-9.-]*(?::\d+)?)\/[^\s]+$/i.exec(word);
  return m !== null && (/[.:]/.test(m[1]!) || m[1] === 'localhost');
}

function looksLikePath(word: string): boolean {
  return /^(?:\.{1,2}(?:\/|$)|\/|~)/.test(word) || existsSync(word);
}

// ---------------------------------------------------------------------------------------------
// Commands

function commandName(command: CommandModule): string {
  return command.command.split(' ')[0]!;
}

function requiredPositionals(command: CommandModule): string[] {
  return [...command.command.matchAll(/<([\w-]+)(?:\.\.)?>/g)].map((m) => m[1]!);
}

function optionalPositionals(command: CommandModule): string[] {
  return [...command.command.matchAll(/\[([\w-]+)(?:\.\.)?\]/g)].map((m) => m[1]!);
}

/** The command the words name; none given or an unknown one is a usage error listing them all. */
export function commandNamed(ctx: RunContext): CommandModule | undefined {
  const word = firstWord(ctx.argv);
  const names = ctx.commands.map(commandName);
  const listed = [`Commands: ${names.join(', ')}`, `Run '${PROGRAM} --help' for what each does.`];
  if (word === undefined) {
    if (ctx.argv.includes('--help') || ctx.argv.includes('-h')) return undefined;
    throw new PolicyOciError('USAGE', 'name a command', { details: listed });
  }
  const found = ctx.commands.find((c) => commandName(c) === word);
  if (found) return found;
  const suggestion = closest(word, names);
  throw new PolicyOciError('USAGE', `unknown command "${word}" for "${PROGRAM}"`, { details: [...(suggestion ? [`Did you mean ${suggestion}?`] : []), ...listed] });
}

/** The first word that is not a flag (nor --format's value). */
export function firstWord(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') return argv[i + 1];
    if (a === '--format') i++;
    else if (!a.startsWith('-')) return a;
  }
  return undefined;
}

/** --format's value as given (the last one wins, as in yargs): text, json, or invalid. */
export function formatIn(argv: string[]): 'text' | 'json' | 'invalid' {
  let value: string | undefined = 'text';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') break;
    if (a === '--format') value = argv[++i];
    else if (a.startsWith('--format=')) value = a.slice('--format='.length);
  }
  return value === 'json' || value === 'text' ? value : 'invalid';
}

export function withoutFormat(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--format') i++;
    else if (!argv[i]!.startsWith('--format=')) out.push(argv[i]!);
  }
  return out;
}

function listOf(items: string[], last = 'and'): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} ${last} ${items.at(-1)!}`;
}

/**
 * The candidate nearest `word` (edit distance at most a third of its length, and 2), or one it
 * begins. Hand-written (ten lines): yargs' own suggestion has no useful threshold ("bogus" → login).
 */
function closest(word: string, candidates: string[]): string | undefined {
  const limit = Math.min(2, Math.max(1, Math.floor(word.length / 3)));
  let best: { name: string; d: number } | undefined;
  for (const name of candidates) {
    const d = name.startsWith(word) && word.length >= 2 ? 0 : distance(word, name);
    if (d <= limit && (!best || d < best.d)) best = { name, d };
  }
  return best?.name;
}

/** Levenshtein distance with transpositions (optimal string alignment). */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}
