// The examples every `--help` of the executable prints, found without listing them: the commands
// come from the root --help, the examples of each from its --help "Examples:" section. yargs wraps
// that section in two columns, which cannot be cut back into examples reliably, so each example is
// taken from what the command module declares (its builder, with .example() recorded) and checked
// against the printed section: the same text, character for character apart from line breaks.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, runOk } from './cli.ts';

export interface HelpExample {
  /** The command whose --help prints it. */
  command: string;
  /** As printed: `$0` is "kubectl policyoci". */
  text: string;
  description: string;
}

const PROGRAM = 'kubectl policyoci';

/** Lines of a top-level section ("Commands:", "Examples:") of a yargs help text, up to a blank line or the next section. */
export function helpSection(help: string, title: string): string[] {
  const lines = help.split('\n');
  const start = lines.findIndex((line) => line.trim() === title);
  if (start < 0) return [];
  const out: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.trim() === '' || /^\S.*:$/.test(line)) break;
    out.push(line);
  }
  return out;
}

/** The sub-commands the root --help lists. */
export function listedCommands(rootHelp: string): string[] {
  return helpSection(rootHelp, 'Commands:')
    .map((line) => new RegExp(`^ {2}${PROGRAM} ([a-z][\\w-]*)`).exec(line)?.[1])
    .filter((name): name is string => name !== undefined);
}

/**
 * The left column (the examples) of an "Examples:" section, without any whitespace. The right
 * column starts at the same place on every line that has both: where the text resumes after two
 * or more spaces.
 */
export function exampleColumn(lines: readonly string[]): string {
  const starts = new Map<number, number>();
  for (const line of lines) {
    const m = /^( {2}\S.*?\S? {2,})\S/.exec(line);
    if (m?.[1]) starts.set(m[1].length, (starts.get(m[1].length) ?? 0) + 1);
  }
  const column = [...starts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? Infinity;
  return lines.map((line) => line.slice(0, column)).join('').replace(/\s+/g, '');
}

/** What a command module's builder declares with .example(), `$0` written as the help writes it. */
async function declaredExamples(command: string): Promise<Array<{ text: string; description: string }> | undefined> {
  const file = join(REPO_ROOT, 'src', 'commands', `${command}.ts`);
  if (!existsSync(file)) return undefined;
  const { default: yargs } = await import('yargs');
  const mod = (await import(file)) as { builder?: (y: unknown) => unknown };
  if (typeof mod.builder !== 'function') return undefined;
  const y = yargs([]);
  const recorded: Array<{ text: string; description: string }> = [];
  const example = y.example.bind(y);
  Object.assign(y, {
    example: (text: string, description: string) => {
      recorded.push({ text: text.replace(/\$0/g, PROGRAM), description });
      return example(text, description);
    },
  });
  mod.builder(y);
  return recorded;
}

/**
 * Every example of every --help, and what could not be matched (a help section whose text is not
 * exactly what its command module declares, or examples where no module declares them).
 */
export async function discoverExamples(): Promise<{ examples: HelpExample[]; problems: string[] }> {
  const root = (await runOk(['--help'])).stdout;
  const problems: string[] = [];
  if (helpSection(root, 'Examples:').length > 0) problems.push('the root --help prints examples; teach test/support/examples.ts where they are declared');
  const examples: HelpExample[] = [];
  for (const command of listedCommands(root)) {
    const help = (await runOk([command, '--help'])).stdout;
    const printed = exampleColumn(helpSection(help, 'Examples:'));
    const declared = (await declaredExamples(command)) ?? [];
    const joined = declared.map((e) => e.text).join('').replace(/\s+/g, '');
    if (printed !== joined) {
      problems.push(`${command} --help prints examples that differ from what src/commands/${command}.ts declares:\n  printed:  ${printed}\n  declared: ${joined}`);
      continue;
    }
    examples.push(...declared.map((e) => ({ command, ...e })));
  }
  return { examples, problems };
}
