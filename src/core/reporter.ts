// How core functions tell the user something while they work, without printing: the command layer
// injects an implementation (src/output/reporter.ts: stderr, spinner on a terminal only).

export interface Reporter {
  /** A warning, said when it arises; results also carry their warnings for --format json. */
  warn(message: string): void;
  /** Progress of a long step (replaces the previous text). */
  progress(text: string): void;
}

/** For callers that want nothing said (tests, nested steps). */
export const silentReporter: Reporter = { warn: () => undefined, progress: () => undefined };

/** Warnings said through `reporter` and kept for the result. */
export function collectWarnings(reporter: Reporter): { warnings: string[]; warn: (message: string) => void } {
  const warnings: string[] = [];
  return {
    warnings,
    warn: (message) => {
      warnings.push(message);
      reporter.warn(message);
    },
  };
}
