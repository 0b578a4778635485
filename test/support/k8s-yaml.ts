// kubectl's own reading of YAML/JSON manifests, through the k8s-yaml tool (scripts/tools/k8s-yaml:
// kubectl's resource builder over sigs.k8s.io/yaml). One process answers a whole batch.
import { spawnSync } from 'node:child_process';
import { toolPath } from './tools.ts';

export interface KubectlReading {
  /** The objects kubectl would send, in order (empty documents skipped, `List`s flattened). */
  objects: unknown[];
  /** What kubectl reports for the stream (empty when it reads it cleanly). */
  errors: string[];
  /** Strict decoding's first error (duplicate keys), as the API server refuses under fieldValidation=Strict. */
  strict?: string;
}

/**
 * Reads every input as `kubectl apply -f` would. Integers beyond Number's exact range come back
 * as BigInt, so a reader that rounds them shows up as a difference.
 */
export function kubectlRead(inputs: (string | Uint8Array)[]): KubectlReading[] {
  const input = inputs.map((data, i) => `${JSON.stringify({ id: String(i), data: Buffer.from(data).toString('base64') })}\n`).join('');
  const r = spawnSync(toolPath('k8s-yaml'), ['-batch'], { input, maxBuffer: 1 << 30, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`k8s-yaml -batch exited ${r.status}: ${r.stderr}`);
  const lines = r.stdout.trim().split('\n').filter(Boolean);
  if (lines.length !== inputs.length) throw new Error(`k8s-yaml answered ${lines.length} of ${inputs.length} inputs`);
  return lines.map((line) => {
    const a = JSON.parse(line, exactIntegers) as { objects: unknown[]; errors?: string[]; strict?: string };
    return { objects: a.objects, errors: a.errors ?? [], ...(a.strict ? { strict: a.strict } : {}) };
  });
}

function exactIntegers(_key: string, value: unknown, context?: { source?: string }): unknown {
  // Only where the number cannot say the text (9007199254740993), not for floats Go prints in full.
  if (typeof value === 'number' && context?.source && /^-?\d+$/.test(context.source) && String(value) !== context.source) return BigInt(context.source);
  return value;
}

/** Deep equality of our value and kubectl's: the same JSON data (an exact BigInt needs an exact number). */
export function sameData(ours: unknown, theirs: unknown): boolean {
  if (typeof theirs === 'bigint') return typeof ours === 'number' && Number.isInteger(ours) && BigInt(ours) === theirs;
  if (typeof ours === 'number' && typeof theirs === 'number') return ours === theirs || (Number.isNaN(ours) && Number.isNaN(theirs));
  if (ours === null || theirs === null || typeof ours !== 'object' || typeof theirs !== 'object') return ours === theirs;
  if (Array.isArray(ours) !== Array.isArray(theirs)) return false;
  const a = ours as Record<string, unknown>;
  const b = theirs as Record<string, unknown>;
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && sameData(a[k], b[k]));
}
