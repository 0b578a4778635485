// How much the tool says on stderr besides its result and its errors: set once by cli.ts from the
// global flags (--quiet, -v/--verbose, --[no-]progress), read by the reporter and whatever else
// writes to stderr. Where progress can be drawn is decided here too, from the terminal and the
// environment (CI, TERM=dumb, a terminal of width 0), so every writer degrades the same way.
import type { WriteStream } from 'node:tty';

export interface OutputSettings {
  /** Progress may be shown (false under --no-progress and --quiet). */
  progress: boolean;
  /** --progress: show it even where it is off by default (not a terminal, CI), as plain lines. */
  forceProgress: boolean;
  /** --quiet: no warnings and no progress on stderr; errors are still printed. */
  quiet: boolean;
  /** -v/--verbose: say what is being done (the HTTP trace). */
  verbose: boolean;
}

const DEFAULTS: OutputSettings = { progress: true, forceProgress: false, quiet: false, verbose: false };

let current: OutputSettings = { ...DEFAULTS };

export function outputSettings(): OutputSettings {
  return current;
}

/** From the global flags; cli.ts calls it once per run, before the command's handler. */
export function setOutputSettings(flags: { progress?: boolean | undefined; quiet?: boolean | undefined; verbose?: boolean | undefined }): OutputSettings {
  const quiet = flags.quiet === true;
  current = {
    quiet,
    verbose: flags.verbose === true,
    progress: !quiet && flags.progress !== false,
    forceProgress: !quiet && flags.progress === true,
  };
  return current;
}

/** `CI` set to anything but "", "0" or "false" (what CI services set; ci-info's rule). */
export function inCi(env: NodeJS.ProcessEnv = process.env): boolean {
  const ci = env.CI;
  return ci !== undefined && ci !== '' && ci !== '0' && ci.toLowerCase() !== 'false';
}

/** NO_COLOR (https://no-color.org: set and not empty) or TERM=dumb: no colours. */
export function colorAllowed(env: NodeJS.ProcessEnv = process.env): boolean {
  return !(env.NO_COLOR !== undefined && env.NO_COLOR !== '') && env.TERM !== 'dumb';
}

/**
 * How progress is shown on `stream`:
 * - `spinner`: a terminal that can redraw a line (a TTY with a width, TERM is not dumb, not CI);
 * - `lines`: plain lines, a few per step, never a cursor escape: a terminal that cannot redraw
 *   (TERM=dumb, width 0 as `script` from a non-terminal or some CI runners give), or anywhere
 *   under --progress;
 * - `none`: --no-progress, --quiet, or by default where stderr is no terminal or in CI.
 */
export type ProgressStyle = 'spinner' | 'lines' | 'none';

export function progressStyle(settings: OutputSettings = current, stream: NodeJS.WriteStream = process.stderr, env: NodeJS.ProcessEnv = process.env): ProgressStyle {
  if (!settings.progress) return 'none';
  const tty = stream.isTTY === true;
  const ci = inCi(env);
  if (tty && !ci && canRedraw(stream, env)) return 'spinner';
  if (settings.forceProgress) return 'lines';
  return tty && !ci ? 'lines' : 'none';
}

/** A terminal on which a spinner can redraw its line: it has a width and is not a dumb terminal. */
export function canRedraw(stream: NodeJS.WriteStream = process.stderr, env: NodeJS.ProcessEnv = process.env): boolean {
  const columns = (stream as Partial<WriteStream>).columns ?? 0;
  return stream.isTTY === true && env.TERM !== 'dumb' && Number.isFinite(columns) && columns > 0;
}
