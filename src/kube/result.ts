// The per-object outcome of apply (and prune), as the commands render it.
import { isPolicyOciError } from '../errors.ts';

export type ApplyAction = 'created' | 'configured' | 'unchanged' | 'failed' | 'pruned';

export interface ApplyResult {
  kind: string;
  apiVersion: string;
  namespace?: string;
  /** Empty when a whole kind failed (prune could not list it). */
  name: string;
  action: ApplyAction;
  /** Set when action is 'failed': one line, no credential. */
  error?: string;
  /** More lines under the error (the server's causes, conflicting fields). */
  details?: string[];
  /** Something worth saying about a successful entry (e.g. not checked by the server). */
  note?: string;
}

export function errorFields(err: unknown): { error: string; details?: string[] } {
  const error = err instanceof Error ? err.message : String(err);
  const details = isPolicyOciError(err) && err.details.length ? err.details : undefined;
  return details ? { error, details } : { error };
}
