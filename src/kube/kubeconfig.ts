// Kubeconfig loading with kubectl's rules, not client-node's: --kubeconfig alone;
// else KUBECONFIG files merged FIRST-wins per named entry, missing files skipped, the first
// non-empty current-context wins; else ~/.kube/config; else in-cluster. We merge the parsed files
// ourselves and hand client-node the result through loadFromOptions, so its loadFromDefault
// (last current-context wins, throws on duplicates and missing files) never runs.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isIPv6 } from 'node:net';
import { delimiter, dirname, isAbsolute, resolve, sep } from 'node:path';
import { parse } from 'yaml';
import { PolicyOciError } from '../errors.ts';
import { toKubeConfigOptions, type KubeConfigOptions } from './kubeconfig-convert.ts';

export interface LoadKubeconfigOptions {
  /** --kubeconfig: the only file read; missing → error. */
  kubeconfig?: string;
  /** --context */
  context?: string;
  /** -n / --namespace */
  namespace?: string;
  env?: NodeJS.ProcessEnv;
}

export interface LoadedKubeconfig {
  /** client-node's KubeConfig as data: the Transport builds it when it sends its first request. */
  options: KubeConfigOptions;
  contextName: string;
  /** -n, else the context's namespace, else "default". */
  namespace: string;
  server: string;
  /** The files that were read, in merge order (empty for in-cluster). */
  files: string[];
}

type Entry = Record<string, unknown> & { name: string };

/** One file, parsed, its relative paths made absolute against its own directory. */
export interface KubeconfigFile {
  file: string;
  clusters: Entry[];
  users: Entry[];
  contexts: Entry[];
  currentContext: string;
}

export interface MergedKubeconfig {
  clusters: Map<string, Entry>;
  users: Map<string, Entry>;
  contexts: Map<string, Entry>;
  currentContext: string;
  files: string[];
}

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export function loadKubeconfig(opts: LoadKubeconfigOptions = {}): LoadedKubeconfig {
  const env = opts.env ?? process.env;
  const files = kubeconfigFiles(opts.kubeconfig, env);
  if (files.length === 0 && env.KUBERNETES_SERVICE_HOST && existsSync(`${SA_DIR}/token`)) return inCluster(opts, env);
  if (files.length === 0) {
    const listed = env.KUBECONFIG ? `none of the KUBECONFIG files exist (${env.KUBECONFIG})` : `${defaultPath(env)} does not exist`;
    throw new PolicyOciError('CLUSTER', `no kubeconfig: ${listed}; use --kubeconfig or set KUBECONFIG`);
  }
  const merged = mergeKubeconfigs(files.map(readKubeconfigFile));
  return toLoaded(merged, opts);
}

/** The files kubectl would read, in order: missing KUBECONFIG entries are skipped like kubectl. */
export function kubeconfigFiles(flag: string | undefined, env: NodeJS.ProcessEnv): string[] {
  if (flag) {
    const file = resolve(flag);
    if (!existsSync(file)) throw new PolicyOciError('USAGE', `--kubeconfig ${flag}: file does not exist`);
    return [file];
  }
  if (env.KUBECONFIG) {
    const seen = new Set<string>();
    return env.KUBECONFIG.split(delimiter)
      .filter((f) => f !== '')
      .map((f) => resolve(f))
      .filter((f) => !seen.has(f) && seen.add(f) && existsSync(f));
  }
  const file = defaultPath(env);
  return existsSync(file) ? [file] : [];
}

function defaultPath(env: NodeJS.ProcessEnv): string {
  return resolve(env.HOME || env.USERPROFILE || homedir(), '.kube', 'config');
}

export function readKubeconfigFile(file: string): KubeconfigFile {
  let doc: unknown;
  try {
    doc = parse(readFileSync(file, 'utf8'));
  } catch (err) {
    const msg = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new PolicyOciError('INVALID_INPUT', `kubeconfig ${file}: ${msg}`, { cause: err });
  }
  if (doc === null || doc === undefined) doc = {}; // kubectl reads an empty file as an empty config
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new PolicyOciError('INVALID_INPUT', `kubeconfig ${file}: not a mapping`);
  const raw = doc as Record<string, unknown>;
  const base = dirname(file);
  const list = (key: string): Entry[] => {
    const v = raw[key];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) throw new PolicyOciError('INVALID_INPUT', `kubeconfig ${file}: ${key} is not a list`);
    return v.map((e, i) => {
      if (!e || typeof e !== 'object' || typeof (e as Entry).name !== 'string' || !(e as Entry).name) {
        throw new PolicyOciError('INVALID_INPUT', `kubeconfig ${file}: ${key}[${i}] has no name`);
      }
      return structuredClone(e as Entry);
    });
  };
  const clusters = list('clusters');
  const users = list('users');
  for (const c of clusters) resolvePaths(sub(c, 'cluster'), ['certificate-authority'], base);
  for (const u of users) {
    const user = sub(u, 'user');
    resolvePaths(user, ['client-certificate', 'client-key', 'tokenFile', 'token-file'], base);
    // Like client-go: an exec command is resolved only when it holds a path separator ("./bin/x"),
    // a bare name is looked up on PATH.
    const exec = user.exec as Record<string, unknown> | undefined;
    if (exec && typeof exec.command === 'string' && exec.command.includes(sep) && !isAbsolute(exec.command)) {
      exec.command = resolve(base, exec.command);
    }
  }
  const cc = raw['current-context'];
  return { file, clusters, users, contexts: list('contexts'), currentContext: typeof cc === 'string' ? cc : '' };
}

/**
 * kubectl's merge: for each named cluster/user/context the FIRST file defining it wins as a whole;
 * within one file a later entry replaces an earlier one (client-go decodes the list into a map);
 * the first non-empty current-context wins.
 */
export function mergeKubeconfigs(files: KubeconfigFile[]): MergedKubeconfig {
  const out: MergedKubeconfig = { clusters: new Map(), users: new Map(), contexts: new Map(), currentContext: '', files: [] };
  for (const f of files) {
    out.files.push(f.file);
    for (const key of ['clusters', 'users', 'contexts'] as const) {
      const own = new Map(f[key].map((e) => [e.name, e] as const));
      for (const [name, e] of own) if (!out[key].has(name)) out[key].set(name, e);
    }
    if (!out.currentContext && f.currentContext) out.currentContext = f.currentContext;
  }
  return out;
}

function toLoaded(merged: MergedKubeconfig, opts: LoadKubeconfigOptions): LoadedKubeconfig {
  const where = merged.files.join(delimiter);
  const names = [...merged.contexts.keys()];
  const available = names.length ? `available: ${names.join(', ')}` : 'it defines no context';
  const contextName = opts.context || merged.currentContext;
  if (!contextName) throw new PolicyOciError('USAGE', `no current context in ${where}: use --context (${available})`);
  const context = merged.contexts.get(contextName);
  if (!context) throw new PolicyOciError('USAGE', `context "${contextName}" not found in ${where} (${available})`);
  const ctx = sub(context, 'context');
  const { options, server } = toKubeConfigOptions(merged, contextName, ctx, where, opts.env ?? process.env);
  const ns = typeof ctx.namespace === 'string' && ctx.namespace ? ctx.namespace : undefined;
  return { options, contextName, namespace: opts.namespace || ns || 'default', server, files: merged.files };
}

/**
 * The service account's view, as client-node's KubeConfig.loadFromCluster makes it (written out
 * here so that client-node is not loaded before a request is sent).
 */
function inCluster(opts: LoadKubeconfigOptions, env: NodeJS.ProcessEnv): LoadedKubeconfig {
  const contextName = 'inClusterContext';
  if (opts.context && opts.context !== contextName) {
    throw new PolicyOciError('USAGE', `context "${opts.context}" not found: no kubeconfig, running with the in-cluster service account`);
  }
  const host = env.KUBERNETES_SERVICE_HOST ?? '';
  const port = env.KUBERNETES_SERVICE_PORT ?? '';
  const scheme = ['80', '8080', '8001'].includes(port) ? 'http' : 'https';
  const server = `${scheme}://${isIPv6(host) ? `[${host}]` : host}:${port}`;
  const ns = existsSync(`${SA_DIR}/namespace`) ? readFileSync(`${SA_DIR}/namespace`, 'utf8').trim() : '';
  const options: KubeConfigOptions = {
    clusters: [{ name: 'inCluster', server, caFile: `${SA_DIR}/ca.crt`, skipTLSVerify: false }],
    users: [{ name: 'inClusterUser', authProvider: { name: 'tokenFile', config: { tokenFile: `${SA_DIR}/token` } } }],
    contexts: [{ name: contextName, cluster: 'inCluster', user: 'inClusterUser', ...(ns ? { namespace: ns } : {}) }],
    currentContext: contextName,
  };
  return { options, contextName, namespace: opts.namespace || ns || 'default', server, files: [] };
}

function sub(obj: Record<string, unknown>, key: string): Record<string, unknown> {
  const v = obj[key];
  if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  const fresh: Record<string, unknown> = {};
  obj[key] = fresh;
  return fresh;
}

function resolvePaths(obj: Record<string, unknown>, keys: string[], base: string): void {
  for (const k of keys) {
    const v = obj[k];
    if (typeof v === 'string' && v !== '' && !isAbsolute(v)) obj[k] = resolve(base, v);
  }
}
