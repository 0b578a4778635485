// Ctrl-C (SIGINT), SIGTERM and SIGHUP stop the tool at once, as they would without any handler,
// but first undo what must not outlive it: a half-written output directory, a hidden cursor.
// Modules register synchronous clean-ups while they hold something to undo; a short step that must
// not be cut in half (moving finished files into place) holds signals until it is done. Then the
// process dies of the signal itself (not exit(130)), so a shell or `make` running it sees it was
// interrupted and stops too (https://www.cons.org/cracauer/sigint.html); the shell reports 130
// for SIGINT and 143 for SIGTERM.

export const INTERRUPT_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
type InterruptSignal = (typeof INTERRUPT_SIGNALS)[number];

const cleanups = new Set<() => void>();
let held = 0;
let pending: InterruptSignal | undefined;
let installed = false;

/** Runs `cleanup` (synchronous: the process is about to die) if a signal stops the process; call the result once it is no longer needed. */
export function onInterrupt(cleanup: () => void): () => void {
  cleanups.add(cleanup);
  return () => {
    cleanups.delete(cleanup);
  };
}

/** Runs `step` with signals held: one that arrives meanwhile takes effect as soon as the step ends. */
export async function holdingInterrupts<T>(step: () => Promise<T>): Promise<T> {
  held++;
  try {
    return await step();
  } finally {
    held--;
    if (held === 0 && pending) die(pending);
  }
}

/** main.ts: from now on the signals run the clean-ups, then kill the process. */
export function installInterruptHandlers(): void {
  if (installed) return;
  installed = true;
  for (const signal of INTERRUPT_SIGNALS) {
    process.on(signal, () => {
      if (held > 0) pending ??= signal;
      else die(signal);
    });
  }
}

function die(signal: InterruptSignal): never {
  for (const cleanup of [...cleanups].reverse()) {
    try {
      cleanup();
    } catch {
      // best effort: the next clean-up still runs
    }
  }
  cleanups.clear();
  // With no listener left Node restores the default action, so the signal ends the process.
  for (const s of INTERRUPT_SIGNALS) process.removeAllListeners(s);
  process.kill(process.pid, signal);
  // Delivery is asynchronous; nothing of the command may run meanwhile.
  const signals: Record<InterruptSignal, number> = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 };
  process.exit(128 + signals[signal]);
}
