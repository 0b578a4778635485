// Turns the selected context of a merged kubeconfig into the options of client-node's KubeConfig
// (plain data: the KubeConfig is made by kube/http.ts when the first request is sent). Only the
// context in use, its cluster and its user are converted and checked (like kubectl, a broken entry
// elsewhere in the file does not matter).
//
// Where client-node differs from kubectl, and what we do:
// - exec plugins run (client-node's ExecAuth) but without KUBERNETES_EXEC_INFO (so
//   provideClusterInfo is not honoured), never interactively (plugins that need a terminal fail),
//   no refresh on 401, and the credential is cached per user name for the process.
// - tokenFile: client-node only knows "token-file" and reads it once; we map it to its tokenFile
//   auth provider, which re-reads the file every minute like client-go, and like client-go the
//   file wins over an inline token.
// - an http:// server: client-node refuses it unless insecure-skip-tls-verify is set; kubectl
//   accepts it, so we set the flag (it means nothing without TLS).
// - HTTPS_PROXY/NO_PROXY: client-node ignores them (only proxy-url); we map them to proxy-url.
// - impersonation beyond `as` (as-groups, as-uid, as-user-extra) is not supported: refused.
import type { Cluster, Context, User } from '@kubernetes/client-node';
import { PolicyOciError } from '../errors.ts';
import { proxyFromEnv } from '../util/proxy.ts';
import type { MergedKubeconfig } from './kubeconfig.ts';

type Raw = Record<string, unknown>;

/** What client-node's KubeConfig.loadFromOptions takes. */
export interface KubeConfigOptions {
  clusters: Cluster[];
  users: User[];
  contexts: Context[];
  currentContext: string;
}

export function toKubeConfigOptions(merged: MergedKubeconfig, contextName: string, ctx: Raw, where: string, env: NodeJS.ProcessEnv = process.env): { options: KubeConfigOptions; server: string } {
  const clusterName = str(ctx.cluster);
  const userName = str(ctx.user);
  const clusterEntry = clusterName ? merged.clusters.get(clusterName) : undefined;
  if (!clusterEntry) {
    throw new PolicyOciError('USAGE', `context "${contextName}" refers to cluster "${clusterName ?? ''}", which is not defined in ${where}`);
  }
  const userEntry = userName ? merged.users.get(userName) : undefined;
  if (userName && !userEntry) throw new PolicyOciError('USAGE', `context "${contextName}" refers to user "${userName}", which is not defined in ${where}`);

  const cluster = toCluster(clusterName!, obj(clusterEntry.cluster), env);
  // A context without a user is anonymous access, as in kubectl.
  const user = toUser(userName ?? '', obj(userEntry?.user));
  const context: Context = { name: contextName, cluster: cluster.name, user: user.name, ...(str(ctx.namespace) ? { namespace: str(ctx.namespace)! } : {}) };
  return { options: { clusters: [cluster], users: [user], contexts: [context], currentContext: contextName }, server: cluster.server };
}

function toCluster(name: string, c: Raw, env: NodeJS.ProcessEnv): Cluster {
  const server = str(c.server)?.replace(/\/+$/, '');
  if (!server) throw new PolicyOciError('USAGE', `cluster "${name}" has no server`);
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new PolicyOciError('USAGE', `cluster "${name}": server ${server} is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new PolicyOciError('USAGE', `cluster "${name}": server ${server} is not http(s)`);
  const proxyUrl = str(c['proxy-url']) ?? proxyFromEnv(url, env);
  return {
    name,
    server,
    caData: str(c['certificate-authority-data']),
    caFile: str(c['certificate-authority']),
    skipTLSVerify: c['insecure-skip-tls-verify'] === true || url.protocol === 'http:',
    tlsServerName: str(c['tls-server-name']),
    proxyUrl,
  };
}

function toUser(name: string, u: Raw): User {
  for (const k of ['as-groups', 'as-uid', 'as-user-extra']) {
    if (u[k] !== undefined) throw new PolicyOciError('USAGE', `user "${name}": ${k} is not supported; use a kubeconfig user without it`);
  }
  const tokenFile = str(u.tokenFile) ?? str(u['token-file']);
  const authProvider = u['auth-provider'] as Raw | undefined;
  const useFile = tokenFile !== undefined && !authProvider && !u.exec;
  return {
    name,
    certData: str(u['client-certificate-data']),
    certFile: str(u['client-certificate']),
    keyData: str(u['client-key-data']),
    keyFile: str(u['client-key']),
    token: useFile ? undefined : str(u.token),
    exec: u.exec ?? undefined,
    authProvider: useFile ? { name: 'tokenFile', config: { tokenFile } } : authProvider,
    username: str(u.username),
    password: str(u.password),
    impersonateUser: str(u.as),
  };
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function obj(v: unknown): Raw {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Raw) : {};
}
