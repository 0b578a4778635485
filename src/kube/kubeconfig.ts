// Kubeconfig loading with kubectl's rules, not client-node's (see LIBRARIES.md): --kubeconfig alone;
// else KUBECONFIG files merged FIRST-wins per named entry, missing files skipped, the first
// non-empty current-context wins; else ~/.kube/config; else in-cluster. We merge the parsed files
// ourselves and hand client-node the result through loadFromOptions, so its loadFromDefault
// (last current-context wins, throws on duplicates and missing files) never runs.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, resolve, sep } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { PolicyOciError } from '../errors.ts';
import { toKubeConfig } from './kubeconfig-convert.ts';

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
  kubeConfig: KubeConfig;
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
  if (files.length === 0 && env.KUBERNETES_SERVICE_HOST && existsSync(`${SA_DIR}/token`)) return inCluster(opts);
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
  const { kubeConfig, server } = toKubeConfig(merged, contextName, ctx, where, opts.env ?? process.env);
  const ns = typeof ctx.namespace === 'string' && ctx.namespace ? ctx.namespace : undefined;
  return { kubeConfig, contextName, namespace: opts.namespace || ns || 'default', server, files: merged.files };
}

function inCluster(opts: LoadKubeconfigOptions): LoadedKubeconfig {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromCluster();
  const ns = existsSync(`${SA_DIR}/namespace`) ? readFileSync(`${SA_DIR}/namespace`, 'utf8').trim() : '';
  if (opts.context && opts.context !== kubeConfig.currentContext) {
    throw new PolicyOciError('USAGE', `context "${opts.context}" not found: no kubeconfig, running with the in-cluster service account`);
  }
  return { kubeConfig, contextName: kubeConfig.currentContext, namespace: opts.namespace || ns || 'default', server: kubeConfig.getCurrentCluster()!.server, files: [] };
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
