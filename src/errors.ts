// One error class for everything the tool reports to a user. The `code` decides the exit code
// (see exitCodeFor); the message is one line meant for a person and must never hold a credential.

export type ErrorCode =
  | 'USAGE' // bad flags or arguments
  | 'INVALID_REFERENCE' // a reference that does not parse
  | 'INVALID_INPUT' // a file that does not parse or is not a policy of a known engine
  | 'INVALID_POLICY' // a policy that fails its CRD schema or metadata rules
  | 'NOT_FOUND' // manifest, blob, tag or repository missing
  | 'UNAUTHORIZED' // credentials missing or rejected
  | 'DENIED' // authenticated but not allowed
  | 'REGISTRY' // any other registry or transport failure
  | 'DIGEST_MISMATCH' // content does not match its digest or declared size
  | 'UNSAFE_CONTENT' // an artifact that tries to escape, bomb or smuggle
  | 'LIMIT' // a configured size or count limit was exceeded
  | 'EXISTS' // output would overwrite existing files without --force
  | 'CLUSTER' // a Kubernetes API failure
  | 'PARTIAL' // several contexts: one or more failed (or were skipped), the others were done
  | 'IO'; // local file system failure

export class PolicyOciError extends Error {
  readonly code: ErrorCode;
  /** Extra lines shown under the message (e.g. one per rejected file). */
  readonly details: string[];

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; details?: string[] } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PolicyOciError';
    this.code = code;
    this.details = options.details ?? [];
  }
}

export function isPolicyOciError(err: unknown): err is PolicyOciError {
  return err instanceof PolicyOciError;
}

/** Exit codes: 1 is reserved for "differences found" (diff) and generic failures. */
export function exitCodeFor(err: unknown): number {
  if (!isPolicyOciError(err)) return 70; // internal error (EX_SOFTWARE)
  switch (err.code) {
    case 'USAGE':
    case 'INVALID_REFERENCE':
      return 2;
    case 'INVALID_INPUT':
    case 'INVALID_POLICY':
      return 3;
    case 'NOT_FOUND':
      return 4;
    case 'UNAUTHORIZED':
    case 'DENIED':
      return 5;
    case 'DIGEST_MISMATCH':
    case 'UNSAFE_CONTENT':
    case 'LIMIT':
      return 6;
    case 'EXISTS':
      return 7;
    case 'REGISTRY':
    case 'CLUSTER':
    case 'IO':
      return 8;
    case 'PARTIAL':
      return 9;
  }
}
