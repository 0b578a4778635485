// `completion bash|zsh|fish|kubectl` prints a completion script; the scripts (and kubectl, through
// kubectl_complete-policyoci) call the hidden `__complete WORD… CURRENT`, answered here from
// yargs' own completion (commands, flags, choices) with three fixes: single-letter aliases are
// offered as `-u`, never `--u`; flags are offered only once a word starts with `-` (else the
// shell completes file names); the values of --context (the kubeconfig's contexts) and
// -n/--namespace (the cluster's, asked with a short timeout) are offered too.
import type { Argv } from 'yargs';
import { withoutGlobalFlags } from './options.ts';
import { PolicyOciError } from '../errors.ts';
import type { CompletionShell } from '../output/completion.ts';

interface CompletionArgs {
  shell: CompletionShell;
  format: string;
}

export const command = 'completion <shell>';
export const describe = 'Print a shell completion script (bash, zsh, fish; kubectl: kubectl_complete-policyoci)';

export function builder(y: Argv): Argv<CompletionArgs> {
  return withoutGlobalFlags(y, 'completion (it prints a shell script)', ['format', 'quiet', 'verbose', 'progress'])
    .positional('shell', { choices: ['bash', 'zsh', 'fish', 'kubectl'] as const, demandOption: true, describe: 'The shell; kubectl prints the kubectl_complete-policyoci executable' })
    .example('source <($0 completion bash)', 'Complete kubectl-policyoci <TAB> in this bash session')
    .example('$0 completion zsh > _kubectl-policyoci', 'For zsh: then move the file into a directory of $fpath')
    .example('$0 completion fish > kubectl-policyoci.fish', 'For fish: then move it to ~/.config/fish/completions/')
    .example('$0 completion kubectl > kubectl_complete-policyoci && chmod +x kubectl_complete-policyoci', 'For `kubectl policyoci <TAB>` (kubectl >= 1.26): then move it next to kubectl-policyoci on PATH')
    .epilogue('The scripts complete the executable name kubectl-policyoci; `kubectl policyoci <TAB>` completes through kubectl\'s own completion once kubectl_complete-policyoci is on PATH.') as unknown as Argv<CompletionArgs>;
}

export async function handler(args: CompletionArgs): Promise<void> {
  if (args.format !== 'text') throw new PolicyOciError('USAGE', `completion prints a shell script: --format ${args.format} has no meaning here`);
  const { writeCompletionScript } = await import('../output/completion.ts');
  writeCompletionScript(args.shell);
}

// ---------------------------------------------------------------------------------------------
// __complete

/** What the completion function sees of the parser (yargs' own, at the command being completed). */
interface ParserView {
  getOptions(): { key: Record<string, unknown>; boolean: string[]; choices: Record<string, unknown[] | undefined>; hiddenOptions: string[] };
  getAliases(): Record<string, string[]>;
}

type Done = (completions: string[]) => void;
type Defaults = (onCompleted: (err: Error | null, completions: string[] | undefined) => void) => void;

/** Flags whose values are contexts of the kubeconfig, and the ones whose values are namespaces. */
const CONTEXT_FLAGS = new Set(['context', 'from-context', 'to-context']);
const NAMESPACE_FLAGS = new Set(['namespace']);
/** How long -n <TAB> waits for the cluster. */
export const NAMESPACE_TIMEOUT_MS = 2000;

/**
 * The function yargs calls for `--get-yargs-completions` (cli.ts turns `__complete W…` into it,
 * with fish's `name<TAB>description` format). `words` are the words after the executable, the
 * last one being completed. Called again by yargs once it has entered the command being completed.
 */
export function completionFunction(parser: ParserView, words: readonly string[], NO_FILES: number): (current: string, argv: unknown, defaults: Defaults, done: Done) => void {
  return (current, _argv, defaults, done) => {
    const finish = (candidates: string[], directive: number): void => done([...new Set(candidates)].concat(`:${directive}`));
    const options = parser.getOptions();
    const aliases = parser.getAliases();
    // A flag as typed → every name it goes by (yargs keeps aliases as keys of their own).
    const namesOf = (flag: string): string[] | undefined => {
      const name = flag.replace(/^-+/, '');
      const names = new Set([name, ...(aliases[name] ?? [])]);
      for (const [k, list] of Object.entries(aliases)) if (list.includes(name)) names.add(k);
      return [...names].some((n) => Object.hasOwn(options.key, n)) ? [...names].sort((a, b) => b.length - a.length) : undefined;
    };
    const takesValue = (names: string[]): boolean => !names.some((n) => options.boolean.includes(n));

    // `--flag=partial` and `--flag partial`: the values of that flag.
    const inline = /^(--?[\w-]+)=(.*)$/s.exec(current);
    const previous = words.length >= 2 ? words[words.length - 2]! : undefined;
    const valueFlag = inline ? namesOf(inline[1]!) : previous?.startsWith('-') && !previous.includes('=') ? namesOf(previous) : undefined;
    if (valueFlag !== undefined && takesValue(valueFlag)) {
      const prefix = inline ? `${inline[1]}=` : '';
      const partial = inline ? inline[2]! : current;
      const choices = valueFlag.map((n) => options.choices[n]).find((c) => Array.isArray(c) && c.length > 0);
      void valuesOf(valueFlag, choices, words).then((values) => {
        if (values === undefined) return finish([], 0); // a file, a reference, a duration…: the shell's own completion
        finish(values.filter((v) => v.startsWith(partial)).map((v) => prefix + v), NO_FILES);
      });
      return;
    }

    defaults((_err, list) => {
      const candidates: string[] = [];
      for (const entry of list ?? []) {
        const [name = '', desc] = entry.split('\t', 2);
        // yargs offers a one-letter alias as `--u` after `--`: it is `-u`.
        const fixed = /^--[^-]$/.test(name) ? name.slice(1) : name;
        if (fixed.startsWith('-') !== current.startsWith('-')) continue; // flags only once a word starts with -
        if (!fixed.startsWith(current)) continue;
        candidates.push(desc !== undefined ? `${fixed}\t${desc}` : fixed);
        // --[no-]progress: yargs offers the negation only of flags that default to true.
        if (fixed === '--progress' && '--no-progress'.startsWith(current)) candidates.push(`--no-progress\t${desc ?? ''}`);
      }
      const flagsOrCommands = current.startsWith('-') || candidates.length > 0;
      finish(candidates, flagsOrCommands ? NO_FILES : 0);
    });
  };
}

/** The values to offer for a flag (all its names): its choices, contexts, namespaces; undefined for free text. */
async function valuesOf(names: string[], choices: unknown[] | undefined, words: readonly string[]): Promise<string[] | undefined> {
  if (Array.isArray(choices) && choices.length > 0) return choices.map(String);
  const context = names.some((n) => CONTEXT_FLAGS.has(n));
  if (!context && !names.some((n) => NAMESPACE_FLAGS.has(n))) return undefined;
  const { completeContexts, completeNamespaces } = await import('../core/completion.ts');
  const kubeconfig = flagValue(words, 'kubeconfig');
  if (context) return completeContexts(kubeconfig ? { kubeconfig } : {});
  // migrate retargets into --to-context; the others work in --context.
  const inContext = flagValue(words, 'to-context') ?? flagValue(words, 'context');
  const timeout = new Promise<string[]>((resolve) => setTimeout(() => resolve([]), NAMESPACE_TIMEOUT_MS).unref());
  return Promise.race([completeNamespaces({ ...(kubeconfig ? { kubeconfig } : {}), ...(inContext ? { context: inContext } : {}) }, NAMESPACE_TIMEOUT_MS), timeout]);
}

/** The value given to `--name` earlier on the line (`--name v` or `--name=v`). */
function flagValue(words: readonly string[], name: string): string | undefined {
  let found: string | undefined;
  for (let i = 0; i < words.length - 1; i++) {
    const w = words[i]!;
    if (w === `--${name}` && i + 1 < words.length - 1) found = words[i + 1];
    else if (w.startsWith(`--${name}=`)) found = w.slice(name.length + 3);
  }
  return found;
}
