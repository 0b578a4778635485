// The Reporter the commands inject into core: warnings on stderr at once (none under --quiet);
// progress in the style settings.ts picks for stderr: a spinner on a terminal that can redraw a
// line, plain lines where it cannot (TERM=dumb, a terminal of width 0, --progress in CI or a log),
// nothing under --no-progress/--quiet or by default off a terminal. The spinner never touches
// stdin (ora's discardStdin puts a terminal in raw mode, where Ctrl-C is just a byte) and never
// draws on a terminal of width 0 (ora would count its line as Infinity lines to clear).
import type { Reporter } from '../core/reporter.ts';
import { onInterrupt } from '../util/interrupt.ts';
import { colorAllowed, outputSettings, progressStyle } from './settings.ts';

export interface CommandReporter extends Reporter {
  /** Clears the spinner; call before writing the result. */
  stop(): void;
  /** Warnings said so far (printed or, under --quiet, only counted). */
  readonly warnings: number;
  /** Whether warnings reach stderr (false under --quiet). */
  readonly warningsShown: boolean;
}

/** In plain-line progress, a step repeats its line at most this often (the counts in it change). */
export const LINE_INTERVAL_MS = 2000;

interface Progress {
  update(text: string): void;
  /** Takes the line off the terminal (before a warning), to draw it again with `resume`. */
  pause(): void;
  resume(): void;
  stop(): void;
}

export async function startReporter(): Promise<CommandReporter> {
  const settings = outputSettings();
  const style = progressStyle(settings);
  const progress: Progress | undefined = style === 'spinner' ? await spinner() : style === 'lines' ? lines() : undefined;
  let warnings = 0;
  return {
    get warnings() {
      return warnings;
    },
    warningsShown: !settings.quiet,
    warn(message) {
      warnings++;
      if (settings.quiet) return;
      progress?.pause();
      process.stderr.write(`Warning: ${message}\n`);
      progress?.resume();
    },
    progress(text) {
      progress?.update(text);
    },
    stop() {
      progress?.stop();
    },
  };
}

/** ora on stderr, started with the first text; falls back to plain lines if the terminal loses its width. */
async function spinner(): Promise<Progress> {
  const { default: ora } = await import('ora');
  let spin: import('ora').Ora | undefined;
  let fallback: Progress | undefined;
  let forget: () => void = () => undefined;
  const onResize = (): void => {
    if ((process.stderr.columns ?? 0) > 0 || !spin) return;
    const text = spin.text;
    stopSpinner();
    fallback = lines();
    fallback.update(text);
  };
  const stopSpinner = (): void => {
    spin?.stop();
    spin = undefined;
    forget();
    process.stderr.off('resize', onResize);
  };
  return {
    update(text) {
      if (fallback) return fallback.update(text);
      if (spin) {
        spin.text = text;
        return;
      }
      spin = ora({ text, stream: process.stderr, color: colorAllowed() ? 'cyan' : false, isEnabled: true, discardStdin: false }).start();
      // The cursor is hidden while it spins: show it again if a signal ends the process.
      forget = onInterrupt(() => spin?.stop());
      process.stderr.on('resize', onResize);
    },
    pause() {
      if (fallback) return;
      spin?.clear();
    },
    resume() {
      if (fallback) return;
      spin?.render();
    },
    stop() {
      stopSpinner();
      fallback?.stop();
    },
  };
}

/**
 * One line per step, never a cursor escape: a new step (its text with the numbers left out
 * differs) is printed at once, the same step again at most every LINE_INTERVAL_MS.
 */
function lines(): Progress {
  let lastStep: string | undefined;
  let lastAt = 0;
  return {
    update(text) {
      const step = text.replace(/\d+/g, '#');
      const now = Date.now();
      if (step === lastStep && now - lastAt < LINE_INTERVAL_MS) return;
      lastStep = step;
      lastAt = now;
      process.stderr.write(`${text}\n`);
    },
    pause: () => undefined,
    resume: () => undefined,
    stop: () => undefined,
  };
}

/** One core call with a fresh reporter, its spinner cleared before the command writes the result. */
export async function reporting<T>(call: (reporter: CommandReporter) => Promise<T>): Promise<T> {
  const reporter = await startReporter();
  try {
    return await call(reporter);
  } finally {
    reporter.stop();
  }
}
