// The -v/--verbose HTTP trace: one line per exchange with a registry, a token service or an API
// server, on stderr. The clients hand over events that hold nothing secret (registry/trace.ts);
// this only formats them.
import type { HttpTrace, HttpTraceEvent } from '../registry/trace.ts';
import { outputSettings } from './settings.ts';

export function traceLine(e: HttpTraceEvent): string {
  const outcome = e.status !== undefined ? String(e.status) : `failed: ${e.error ?? 'no answer'}`;
  return `HTTP ${e.method} ${e.url} -> ${outcome} (${e.durationMs} ms${e.auth ? `, ${e.auth} auth` : ''})`;
}

/** The trace callback under -v/--verbose, else undefined (the clients then trace nothing). */
export function httpTrace(): HttpTrace | undefined {
  if (!outputSettings().verbose) return undefined;
  return (e) => {
    process.stderr.write(`${traceLine(e)}\n`);
  };
}
