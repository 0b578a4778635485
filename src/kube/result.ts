// The per-object outcome of apply (and prune), as the commands render it.
import { isPolicyOciError } from '../errors.ts';
import type { ErrorCode } from '../errors.ts';

/** The fields every per-object result begins with. */
export interface ObjectFields {
  kind: string;
  apiVersion: string;
  namespace?: string;
  name: string;
}

/** ObjectFields, the namespace only when there is one (cluster-scoped kinds have none). */
export function objectFields(kind: string, apiVersion: string, namespace: string | undefined, name: string): ObjectFields {
  return { kind, apiVersion, ...(namespace ? { namespace } : {}), name };
}

/** 'would-apply': a client dry run, which asks no cluster whether the object exists or differs. */
export type ApplyAction = 'created' | 'configured' | 'unchanged' | 'failed' | 'pruned' | 'would-apply';

export const APPLY_ACTIONS: readonly ApplyAction[] = ['created', 'configured', 'unchanged', 'failed', 'pruned', 'would-apply'];

/** How many results took each action (every action present, 0 when none). */
export function countActions(results: readonly { action: ApplyAction }[]): Record<ApplyAction, number> {
  const counts = Object.fromEntries(APPLY_ACTIONS.map((a) => [a, 0])) as Record<ApplyAction, number>;
  for (const r of results) counts[r.action]++;
  return counts;
}

export interface ApplyResult {
  kind: string;
  apiVersion: string;
  namespace?: string;
  /** Empty when a whole kind failed (prune could not list it). */
  name: string;
  action: ApplyAction;
  /** Set when action is 'failed': one line, no credential. */
  error?: string;
  /** The error's category, for the exit code (INVALID_POLICY, DENIED, CLUSTER…). */
  code?: ErrorCode;
  /** More lines under the error (the server's causes, conflicting fields). */
  details?: string[];
  /** Something worth saying about a successful entry (e.g. not checked by the server). */
  note?: string;
  /** 'configured' although it already carried the applied digest: changed by someone since, put back. */
  drifted?: boolean;
}

export function errorFields(err: unknown): { error: string; code: ErrorCode; details?: string[] } {
  const error = err instanceof Error ? err.message : String(err);
  const code: ErrorCode = isPolicyOciError(err) ? err.code : 'CLUSTER';
  const details = isPolicyOciError(err) && err.details.length ? err.details : undefined;
  return details ? { error, code, details } : { error, code };
}
