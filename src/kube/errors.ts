// Maps API server answers and transport failures to PolicyOciError, naming what was being done
// (kind, namespace, name) and the server. Messages come from the server's Status or from the
// connection error, never from request headers, so no credential can end up in them.
import { PolicyOciError } from '../errors.ts';
import { ApiError, ConnectionError } from './http.ts';

export interface ErrorContext {
  /** "list", "get", "apply", "delete", "discover", "create namespace"… */
  action: string;
  /** "ClusterPolicy.kyverno.io" */
  kind?: string;
  namespace?: string;
  name?: string;
  server: string;
  /** The proxy requests to the server go through (kubeconfig proxy-url or HTTPS_PROXY), credentials removed. */
  proxy?: string;
  /** The engine's install hint, for a kind the cluster does not serve. */
  installHint?: string;
}

export function describeTarget(ctx: ErrorContext): string {
  const kind = ctx.kind ? ` ${ctx.kind}` : '';
  if (ctx.name) return `${ctx.action}${kind} ${ctx.namespace ? `${ctx.namespace}/` : ''}${ctx.name}`;
  if (ctx.namespace) return `${ctx.action}${kind} in namespace "${ctx.namespace}"`;
  return `${ctx.action}${kind}`;
}

export function toPolicyOciError(err: unknown, ctx: ErrorContext): PolicyOciError {
  if (err instanceof PolicyOciError) return err;
  const what = describeTarget(ctx);
  if (err instanceof ConnectionError) {
    if (err.phase === 'auth') return new PolicyOciError('CLUSTER', `${what}: ${err.message}`, { cause: err });
    if (err.phase === 'timeout') return new PolicyOciError('CLUSTER', `${what}: the API server at ${ctx.server} gave ${err.message}`, { cause: err });
    if (err.phase === 'answer') return new PolicyOciError('CLUSTER', `${what}: the server at ${ctx.server} answered ${err.message}`, { cause: err });
    if (ctx.proxy !== undefined) {
      // The connection error may be the proxy's: name it, and how to go around it.
      const host = new URL(ctx.server).hostname;
      const hint = ` (through the proxy ${ctx.proxy}, from the kubeconfig's proxy-url or HTTPS_PROXY: check that it runs and takes the credentials given, or add ${host} to NO_PROXY to reach the cluster directly)`;
      return new PolicyOciError('CLUSTER', `${what}: cannot reach the API server at ${ctx.server}: ${err.message}${hint}`, { cause: err });
    }
    const hint = /ECONNREFUSED/.test(err.message) ? ' (is the cluster running, and is the server of the kubeconfig context the right one?)' : '';
    return new PolicyOciError('CLUSTER', `${what}: cannot reach the API server at ${ctx.server}: ${err.message}${hint}`, { cause: err });
  }
  if (!(err instanceof ApiError)) {
    return new PolicyOciError('CLUSTER', `${what}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  if (err.notKubernetes !== undefined && err.status !== 401 && err.status !== 403) {
    return new PolicyOciError('CLUSTER', `${what}: the server at ${ctx.server} answered ${err.notKubernetes}`, { cause: err });
  }
  const s = err.apiStatus;
  const msg = s.message ?? '';
  const causes = (s.details?.causes ?? []).map((c) => [c.field, c.message].filter(Boolean).join(': ')).filter(Boolean);
  switch (err.status) {
    case 401:
      return new PolicyOciError('UNAUTHORIZED', `${what}: the API server at ${ctx.server} rejected the credentials (401 Unauthorized)`, { cause: err });
    case 403:
      return new PolicyOciError('DENIED', `${what}: forbidden: ${msg}`, { cause: err });
    case 404:
      if (s.details?.kind === 'namespaces' && s.details.name) {
        return new PolicyOciError('CLUSTER', `namespace ${s.details.name} does not exist (use --create-namespace)`, { cause: err });
      }
      if (!s.details?.name && ctx.kind) {
        // A 404 without a name is the resource type itself: the CRD is not installed (or not at
        // this version).
        const hint = ctx.installHint ? `: ${ctx.installHint}` : '';
        return new PolicyOciError('CLUSTER', `the cluster does not serve ${ctx.kind}${hint}`, { cause: err });
      }
      return new PolicyOciError('NOT_FOUND', `${what}: ${msg || 'not found'}`, { cause: err });
    case 409:
      if (ctx.action === 'apply' && (s.details?.causes ?? []).some((c) => c.reason === 'FieldManagerConflict')) return conflictError(what, err);
      return new PolicyOciError('CLUSTER', `${what}: conflict: ${msg}`, { cause: err });
    case 400:
    case 422:
      // 422 Invalid (schema, CEL rules) and 400 BadRequest (strict decoding, admission webhooks
      // such as Kyverno's own policy validation) on a write are the policy's fault.
      if (ctx.action === 'apply') return new PolicyOciError('INVALID_POLICY', `${what}: ${msg}`, { cause: err, details: causes });
      return new PolicyOciError('CLUSTER', `${what}: ${msg}`, { cause: err, details: causes });
    default: {
      // Server-side apply reports a patch that does not fit the schema as a 500.
      const typed = err.status === 500 && ctx.action === 'apply' ? /failed to create typed patch object \([^)]*\): (.*)$/s.exec(msg) : null;
      if (typed) return new PolicyOciError('INVALID_POLICY', `${what}: ${typed[1]}`, { cause: err, details: causes });
      return new PolicyOciError('CLUSTER', `${what}: ${err.status} ${s.reason ?? ''}${msg ? `: ${msg}` : ''}`.replace(/\s+:/, ':'), { cause: err, details: causes });
    }
  }
}

/** Server-side apply conflict: name the managers that own the fields, and the way out. */
function conflictError(what: string, err: ApiError): PolicyOciError {
  const causes = err.apiStatus.details?.causes ?? [];
  const managers = new Set<string>();
  const details: string[] = [];
  for (const c of causes) {
    const m = /conflict with "([^"]*)"/.exec(c.message ?? '');
    if (m) managers.add(m[1]!);
    details.push(`${c.field ?? ''}: ${c.message ?? ''}`.replace(/^: /, ''));
  }
  const who = managers.size ? [...managers].map((m) => `"${m}"`).join(', ') : 'another field manager';
  return new PolicyOciError('CLUSTER', `${what}: fields are managed by ${who}; use --force-conflicts to take them over`, { cause: err, details });
}
