// One renderer for every command: JSON for scripts (stdout carries the result only), text for people.
export type Format = 'text' | 'json';

export function render<T>(format: Format, result: T, text: (r: T) => string): void {
  const out = format === 'json' ? `${JSON.stringify(result, null, 2)}\n` : text(result);
  if (out) process.stdout.write(out.endsWith('\n') ? out : `${out}\n`);
}
