// Progress goes to stderr, and only when stderr is a terminal: scripts and CI logs stay clean.
export interface Progress {
  update(text: string): void;
  stop(final?: string): void;
}

const silent: Progress = { update: () => undefined, stop: () => undefined };

export async function startProgress(text: string): Promise<Progress> {
  if (!process.stderr.isTTY || process.env.CI) return silent;
  const { default: ora } = await import('ora');
  const spinner = ora({ text, stream: process.stderr, color: 'cyan', isEnabled: true }).start();
  return {
    update: (t) => {
      spinner.text = t;
    },
    stop: (final) => {
      if (final) spinner.succeed(final);
      else spinner.stop();
    },
  };
}
