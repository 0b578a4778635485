// apply --wait: after the apply, wait until each policy's engine reports it in force, where the
// engine reports it. What each engine reports, and where, is data (engine.json `readiness`); this
// module only reads those paths on the live objects, polling. Three ways a wait ends early: the
// engine reports an error (a failure at once), the kind has no report at all (the engine reports
// nothing for it), or no object of the kind carries a report after a short grace period (whatever
// reports it is not running): both said as 'not-reported', never waited on until the timeout.
import { setTimeout as sleepMs } from 'node:timers/promises';
import { findKind } from '../engines/index.ts';
import type { Engine, EngineReadiness } from '../engines/types.ts';
import type { KubeObject } from '../policy/types.ts';
import { mapLimit } from '../util/concurrency.ts';
import { policyRef, type KubeClient } from './client.ts';
import type { KindRef } from './discovery.ts';
import { objectFields, type ObjectFields } from './result.ts';

export type ReadinessOutcome = 'ready' | 'failed' | 'timed-out' | 'not-reported';

export const READINESS_OUTCOMES: readonly ReadinessOutcome[] = ['ready', 'failed', 'timed-out', 'not-reported'];

export interface ReadinessResult extends ObjectFields {
  outcome: ReadinessOutcome;
  /** Who reports on this kind (engine.json), when someone does. */
  reporter?: string;
  /** The engine's own words: its errors, its last message, or why nothing was reported. */
  message?: string;
  /** What the engine reported as warnings (the policy is still in force). */
  warnings?: string[];
}

export interface WaitOptions {
  timeoutMs: number;
  /** Between two reads of the objects still pending (default 1 s). */
  intervalMs?: number;
  /**
   * How long an object may carry no report at all before the reporter is asked for elsewhere: when
   * no other object of its kind carries one either, nothing is reporting (default 10 s, at most the timeout).
   */
  graceMs?: number;
  onProgress?: (text: string) => void;
}

/** What a live object says now, by its engine's readiness rule. */
export interface Evaluation {
  state: 'ready' | 'pending' | 'failed' | 'unreported';
  message?: string;
  warnings: string[];
}

/** The rule of a kind: "Kind.group", then "Kind", then "*.group". */
export function readinessRule(engine: Engine, kind: string, group: string): EngineReadiness | undefined {
  const rules = engine.readiness ?? {};
  return rules[`${kind}.${group}`] ?? rules[kind] ?? rules[`*.${group}`];
}

/** Values at a dotted path, `[]` standing for every item of a list (flattened). */
export function valuesAt(obj: unknown, path: string): unknown[] {
  let current: unknown[] = [obj];
  for (const raw of path.split('.')) {
    const each = raw.endsWith('[]');
    const key = each ? raw.slice(0, -2) : raw;
    const next: unknown[] = [];
    for (const value of current) {
      if (!value || typeof value !== 'object' || Array.isArray(value)) continue;
      const child = (value as Record<string, unknown>)[key];
      if (child === undefined || child === null) continue;
      if (each) {
        if (Array.isArray(child)) next.push(...child);
      } else next.push(child);
    }
    current = next;
  }
  return current;
}

/** A reported value as one line: an object's scalar fields joined by ": " (fieldRef: warning). */
function textOf(value: unknown): string {
  if (value && typeof value === 'object') {
    return Object.values(value as Record<string, unknown>)
      .filter((v) => typeof v === 'string' || typeof v === 'number')
      .map(String)
      .join(': ');
  }
  return String(value);
}

function texts(obj: KubeObject, paths: readonly string[] | undefined): string[] {
  return (paths ?? []).flatMap((p) => valuesAt(obj, p).map(textOf)).filter((t) => t.trim() !== '');
}

/**
 * Reads the report on `obj`. In force: every declared generation, condition and boolean is present
 * and met, and no error is reported. A report about an older generation is pending, whatever it says.
 */
export function evaluate(obj: KubeObject, rule: EngineReadiness): Evaluation {
  const generation = (obj.metadata as { generation?: unknown }).generation;
  let present = false;
  let met = true;
  let message: string | undefined;
  if (rule.observedGeneration) {
    const seen = valuesAt(obj, rule.observedGeneration);
    if (seen.length > 0) {
      present = true;
      if (generation !== undefined && seen.some((g) => g !== generation)) {
        return { state: 'pending', message: `${rule.reporter} has not yet seen generation ${String(generation)} (it reports ${seen.map(String).join(', ')})`, warnings: [] };
      }
    } else met = false;
  }
  const errors = texts(obj, rule.errors);
  const warnings = texts(obj, rule.warnings);
  if (errors.length > 0) return { state: 'failed', message: errors.join('; '), warnings };
  if (rule.condition) {
    const condition = valuesAt(obj, rule.condition.path).flat().find((c) => (c as { type?: unknown })?.type === rule.condition!.type) as { status?: unknown; message?: unknown; reason?: unknown } | undefined;
    if (condition) {
      present = true;
      if (condition.status !== 'True') {
        met = false;
        message = [condition.reason, condition.message].filter((x) => typeof x === 'string' && x !== '').join(': ') || `condition ${rule.condition.type} is ${String(condition.status)}`;
      }
    } else met = false;
  }
  for (const path of rule.allTrue ?? []) {
    const values = valuesAt(obj, path);
    if (values.length === 0) {
      met = false;
      continue;
    }
    present = true;
    if (values.some((v) => v !== true)) met = false;
  }
  const declared = rule.observedGeneration !== undefined || rule.condition !== undefined || (rule.allTrue?.length ?? 0) > 0;
  if (!present && warnings.length === 0) return { state: 'unreported', warnings };
  if (declared && met) return { state: 'ready', warnings };
  message ??= rule.message ? texts(obj, [rule.message])[0] : undefined;
  return { state: 'pending', ...(message ? { message } : {}), warnings };
}

interface Target {
  fields: ObjectFields;
  ref: KindRef;
  engine: Engine;
  rule: EngineReadiness;
  last?: Evaluation;
}

/**
 * Waits until every object is reported in force, failed, or the timeout passes; one result per
 * object, in the order given. Objects of kinds nobody reports on are 'not-reported' at once.
 */
export async function waitForReadiness(client: KubeClient, objects: readonly ObjectFields[], opts: WaitOptions): Promise<ReadinessResult[]> {
  const started = Date.now();
  const deadline = started + opts.timeoutMs;
  const graceEnds = started + Math.min(opts.graceMs ?? 10_000, opts.timeoutMs);
  const results = new Map<ObjectFields, ReadinessResult>();
  const pending: Target[] = [];
  for (const fields of objects) {
    const match = findKind(fields.apiVersion, fields.kind);
    const rule = match ? readinessRule(match.engine, match.kind.kind, match.kind.group) : undefined;
    if (!match || !rule) {
      const who = match?.engine.displayName ?? 'its engine';
      results.set(fields, { ...fields, outcome: 'not-reported', message: `${who} reports nothing on ${fields.kind} objects: applied, not confirmed in force` });
      continue;
    }
    pending.push({ fields, ref: policyRef({ apiVersion: fields.apiVersion, kind: fields.kind, metadata: { name: fields.name } } as KubeObject), engine: match.engine, rule });
  }
  const finish = (t: Target, outcome: ReadinessOutcome, message: string | undefined, warnings: string[] = []) =>
    results.set(t.fields, {
      ...t.fields,
      outcome,
      reporter: t.rule.reporter,
      ...(message ? { message } : {}),
      ...(warnings.length ? { warnings } : {}),
    });
  const silentKinds = new Set<string>();
  const checkedKinds = new Map<string, boolean>();
  while (pending.length > 0) {
    opts.onProgress?.(`Waiting for ${pending.length} of ${objects.length} policies to be reported in force`);
    await readLive(client, pending);
    for (const t of [...pending]) {
      const e = t.last!;
      if (e.state === 'ready' || e.state === 'failed') {
        finish(t, e.state, e.message, e.warnings);
        pending.splice(pending.indexOf(t), 1);
      }
    }
    const now = Date.now();
    if (now >= graceEnds) {
      // Objects with no report at all: is anything reporting on their kind?
      for (const t of pending.filter((x) => x.last?.state === 'unreported')) {
        const key = `${t.ref.group}/${t.ref.kind}`;
        if (!checkedKinds.has(key)) checkedKinds.set(key, await anyReported(client, t));
        if (!checkedKinds.get(key)) silentKinds.add(key);
        if (silentKinds.has(key)) {
          const waited = Math.round((now - started) / 1000);
          finish(t, 'not-reported', `no ${t.fields.kind} object carries a report from ${t.rule.reporter} after ${waited}s: is it running? Applied, not confirmed in force`);
          pending.splice(pending.indexOf(t), 1);
        }
      }
    }
    if (pending.length === 0) break;
    if (now >= deadline) {
      for (const t of pending) {
        const seconds = Math.round(opts.timeoutMs / 1000);
        const said = t.last?.message ?? (t.last?.state === 'unreported' ? `no report from ${t.rule.reporter}` : 'not reported in force');
        finish(t, 'timed-out', `not in force after ${seconds}s: ${said}`, t.last?.warnings ?? []);
      }
      break;
    }
    await sleepMs(Math.max(0, Math.min(opts.intervalMs ?? 1000, deadline - Date.now())));
  }
  return objects.map((o) => results.get(o)!);
}

/** Objects of one kind and namespace from which on one LIST replaces a GET each (as apply reads them). */
const LIST_FROM = 4;

/** Reads every pending object once and evaluates it: one LIST per crowded kind and namespace, else a GET. */
async function readLive(client: KubeClient, pending: Target[]): Promise<void> {
  const fail = (t: Target, err: unknown) => (t.last = { state: 'failed', message: err instanceof Error ? err.message : String(err), warnings: [] });
  const judge = (t: Target, live: KubeObject | undefined) =>
    (t.last = live ? evaluate(live, t.rule) : { state: 'failed', message: 'the object is gone (deleted while waiting)', warnings: [] });
  const groups = [...Map.groupBy(pending, (t) => `${t.ref.group}/${t.ref.version}/${t.ref.plural}/${t.fields.namespace ?? ''}`).values()];
  const single = groups.filter((g) => g.length < LIST_FROM).flat();
  await mapLimit(
    groups.filter((g) => g.length >= LIST_FROM),
    4,
    async (group) => {
      const { ref, fields } = group[0]!;
      try {
        const byName = new Map((await client.list(ref, fields.namespace ? { namespace: fields.namespace } : {})).map((o) => [o.metadata.name, o]));
        for (const t of group) judge(t, byName.get(t.fields.name));
      } catch {
        single.push(...group); // e.g. allowed to get but not to list
      }
    },
  );
  await mapLimit(single, 8, async (t) => {
    try {
      judge(t, await client.get(t.ref, t.fields.name, t.fields.namespace));
    } catch (err) {
      fail(t, err);
    }
  });
}

/** Does any object of the kind (ours included) carry a report? A list the user may not make: no. */
async function anyReported(client: KubeClient, t: Target): Promise<boolean> {
  try {
    const items = await client.list(t.ref, { limit: 100 });
    return items.some((o) => evaluate(o, t.rule).state !== 'unreported');
  } catch {
    return false;
  }
}

/** The objects apply sent that --wait waits for: applied (created, configured, unchanged), not failed or pruned. */
export function waitTargets(results: readonly (ObjectFields & { action: string })[]): ObjectFields[] {
  return results
    .filter((r) => r.name !== '' && (r.action === 'created' || r.action === 'configured' || r.action === 'unchanged'))
    .map((r) => objectFields(r.kind, r.apiVersion, r.namespace, r.name));
}

/** apply --wait's part of a result. */
export interface ReadinessSummary {
  timeoutMs: number;
  results: ReadinessResult[];
  counts: Record<ReadinessOutcome, number>;
  /** Some policy was refused by its engine or not in force within the timeout. */
  failed: boolean;
}

export function summarizeReadiness(results: ReadinessResult[], timeoutMs: number): ReadinessSummary {
  const counts = Object.fromEntries(READINESS_OUTCOMES.map((o) => [o, 0])) as Record<ReadinessOutcome, number>;
  for (const r of results) counts[r.outcome]++;
  return { timeoutMs, results, counts, failed: counts.failed + counts['timed-out'] > 0 };
}
