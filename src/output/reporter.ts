// The Reporter the commands inject into core: warnings on stderr at once; progress as a spinner on
// stderr, only when stderr is a terminal and not in CI (scripts and logs stay clean).
import type { Reporter } from '../core/reporter.ts';

export interface CommandReporter extends Reporter {
  /** Clears the spinner; call before writing the result. */
  stop(): void;
}

export async function startReporter(): Promise<CommandReporter> {
  const interactive = process.stderr.isTTY === true && !process.env.CI;
  let spinner: import('ora').Ora | undefined;
  const ora = interactive ? (await import('ora')).default : undefined;
  return {
    warn(message) {
      spinner?.clear();
      process.stderr.write(`Warning: ${message}\n`);
      spinner?.render();
    },
    progress(text) {
      if (!ora) return;
      if (spinner) spinner.text = text;
      else spinner = ora({ text, stream: process.stderr, color: 'cyan', isEnabled: true }).start();
    },
    stop() {
      spinner?.stop();
      spinner = undefined;
    },
  };
}
