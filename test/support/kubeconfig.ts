// Kubeconfig files for the test clusters (test/support/cluster.ts): written as YAML, mode 0600,
// every path in them absolute, so each file works from any working directory.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { RunningCluster } from './cluster.ts';

export interface KubeconfigCluster {
  name: string;
  server: string;
  /** PEM file of the API server's CA */
  caFile?: string;
  insecureSkipTlsVerify?: boolean;
}

export interface ExecPlugin {
  command: string;
  args?: string[];
  env?: { name: string; value: string }[];
  /** default client.authentication.k8s.io/v1 */
  apiVersion?: string;
  /** default Never */
  interactiveMode?: 'Never' | 'IfAvailable' | 'Always';
}

export interface KubeconfigUser {
  name: string;
  clientCertificate?: string;
  clientKey?: string;
  token?: string;
  exec?: ExecPlugin;
}

export interface KubeconfigContext {
  name: string;
  cluster: string;
  user: string;
  namespace?: string;
}

export interface KubeconfigSpec {
  clusters: KubeconfigCluster[];
  users: KubeconfigUser[];
  contexts: KubeconfigContext[];
  /** default: the first context */
  currentContext?: string;
}

/** Which of a test cluster's identities a kubeconfig uses. */
export type ClusterCredentials = 'admin' | 'token' | 'exec' | 'restricted';

function userEntry(user: KubeconfigUser): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (user.clientCertificate !== undefined) out['client-certificate'] = user.clientCertificate;
  if (user.clientKey !== undefined) out['client-key'] = user.clientKey;
  if (user.token !== undefined) out.token = user.token;
  if (user.exec) {
    out.exec = {
      apiVersion: user.exec.apiVersion ?? 'client.authentication.k8s.io/v1',
      command: user.exec.command,
      ...(user.exec.args ? { args: user.exec.args } : {}),
      ...(user.exec.env ? { env: user.exec.env } : {}),
      interactiveMode: user.exec.interactiveMode ?? 'Never',
      provideClusterInfo: false,
    };
  }
  return out;
}

/** Renders a kubeconfig (v1 Config) as YAML. */
export function renderKubeconfig(spec: KubeconfigSpec): string {
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    preferences: {},
    clusters: spec.clusters.map((cluster) => ({
      name: cluster.name,
      cluster: {
        server: cluster.server,
        ...(cluster.caFile !== undefined ? { 'certificate-authority': cluster.caFile } : {}),
        ...(cluster.insecureSkipTlsVerify ? { 'insecure-skip-tls-verify': true } : {}),
      },
    })),
    users: spec.users.map((user) => ({ name: user.name, user: userEntry(user) })),
    contexts: spec.contexts.map((context) => ({
      name: context.name,
      context: {
        cluster: context.cluster,
        user: context.user,
        ...(context.namespace !== undefined ? { namespace: context.namespace } : {}),
      },
    })),
    'current-context': spec.currentContext ?? spec.contexts[0]?.name ?? '',
  };
  return stringify(config);
}

/** Writes a kubeconfig file (mode 0600) and returns its path. */
export function writeKubeconfig(file: string, spec: KubeconfigSpec): string {
  writeFileSync(file, renderKubeconfig(spec), { mode: 0o600 });
  return file;
}

/** The kubeconfig user entry for one of a test cluster's identities, named `name`. */
export function clusterUser(cluster: RunningCluster, credentials: ClusterCredentials, name: string = credentials): KubeconfigUser {
  switch (credentials) {
    case 'admin':
      return { name, clientCertificate: cluster.adminClientCert.certFile, clientKey: cluster.adminClientCert.keyFile };
    case 'token':
      return { name, token: cluster.adminToken };
    case 'exec':
      return { name, exec: { command: cluster.execPlugin } };
    case 'restricted':
      return { name, token: cluster.restrictedToken };
  }
}

/**
 * A one-context kubeconfig for `cluster`: context and user named `options.context` (default: the
 * credentials' name), cluster entry named after the cluster, with an optional namespace.
 */
export function writeClusterKubeconfig(
  cluster: RunningCluster,
  file: string,
  options: { credentials?: ClusterCredentials; namespace?: string; context?: string } = {},
): string {
  const credentials = options.credentials ?? 'admin';
  const context = options.context ?? credentials;
  return writeKubeconfig(file, {
    clusters: [{ name: cluster.name, server: cluster.server, caFile: cluster.caFile }],
    users: [clusterUser(cluster, credentials, context)],
    contexts: [{ name: context, cluster: cluster.name, user: context, ...(options.namespace !== undefined ? { namespace: options.namespace } : {}) }],
  });
}

/**
 * One kubeconfig for several clusters, admin credentials: contexts, clusters and users all named
 * `<cluster.name>`; the current context is the first cluster's. Written to `<dir>/kubeconfig` (or
 * `file` when given) and returns its path.
 */
export function mergedKubeconfig(clusters: readonly RunningCluster[], dir: string, file: string = join(dir, 'kubeconfig')): string {
  const names = new Set(clusters.map((cluster) => cluster.name));
  if (names.size !== clusters.length) throw new Error('mergedKubeconfig: cluster names must be distinct');
  return writeKubeconfig(file, {
    clusters: clusters.map((cluster) => ({ name: cluster.name, server: cluster.server, caFile: cluster.caFile })),
    users: clusters.map((cluster) => clusterUser(cluster, 'admin', cluster.name)),
    contexts: clusters.map((cluster) => ({ name: cluster.name, cluster: cluster.name, user: cluster.name })),
  });
}
