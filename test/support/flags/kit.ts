// What the flag cases (test/e2e/flags.test.ts) share: a hermetic environment for the executable,
// unique names, generated policies, exit-code and JSON expectations.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { stringify } from 'yaml';
import { runCli, type CliResult } from '../cli.ts';
import { removeNow, removeOnExit } from '../process.ts';

/** One run of the executable. */
export interface Invocation {
  args: string[];
  input?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** A work directory, unique names and runs that never touch the user's configuration. */
export class Kit {
  readonly work: string;
  private count = 0;

  constructor(label = 'flags') {
    this.work = mkdtempSync(join(tmpdir(), `policyoci-${label}-`));
    removeOnExit(this.work);
    mkdirSync(join(this.work, 'home'));
  }

  /** A name unique in this run, usable as repository, namespace and policy name. */
  id(label: string): string {
    const slug = label.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40);
    return `${slug || 'x'}-${++this.count}`;
  }

  /** A new empty directory. */
  dir(label: string): string {
    const path = join(this.work, this.id(label));
    mkdirSync(path, { recursive: true });
    return path;
  }

  /**
   * HOME, docker and kube config of their own; checked-files cache per run of the file. Credentials
   * live in DOCKER_CONFIG/config.json (REGISTRY_AUTH_FILE, read first, names the same file).
   */
  env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    const home = join(this.work, 'home');
    const docker = extra.DOCKER_CONFIG ?? join(home, '.docker');
    return {
      HOME: home,
      DOCKER_CONFIG: docker,
      REGISTRY_AUTH_FILE: join(docker, 'config.json'),
      XDG_RUNTIME_DIR: join(home, 'run'),
      KUBECONFIG: join(home, 'no-kubeconfig.yaml'),
      POLICYOCI_CACHE_DIR: join(this.work, 'cache'),
      HTTPS_PROXY: '',
      HTTP_PROXY: '',
      https_proxy: '',
      http_proxy: '',
      ...extra,
    };
  }

  run(invocation: Invocation): Promise<CliResult> {
    return runCli(invocation.args, {
      env: this.env(invocation.env),
      ...(invocation.input !== undefined ? { input: invocation.input } : {}),
      ...(invocation.cwd !== undefined ? { cwd: invocation.cwd } : {}),
    });
  }

  /** Runs and expects exit 0 (setup steps). */
  async ok(invocation: Invocation): Promise<CliResult> {
    const result = await this.run(invocation);
    expectExit(result, 0, `setup: ${invocation.args.join(' ')}`);
    return result;
  }

  remove(): void {
    removeNow(this.work);
  }
}

/** Adds `flag` to a run's arguments. */
export function plus(invocation: Invocation, ...flag: string[]): Invocation {
  return { ...invocation, args: [...invocation.args, ...flag] };
}

export function show(result: CliResult): string {
  return `exit ${result.code}\nstdout: ${result.stdout.slice(0, 2000)}\nstderr: ${result.stderr.slice(0, 2000)}`;
}

/** The run exited with `code` (or one of `code`). */
export function expectExit(result: CliResult, code: number | readonly number[], what: string): void {
  const codes = typeof code === 'number' ? [code] : code;
  expect(codes, `${what}: ${show(result)}`).toContain(result.code);
}

/** stdout as JSON, failing with the whole output when it is not. */
export function json<T = Record<string, unknown>>(result: CliResult, what: string): T {
  try {
    return JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(`${what}: stdout is not JSON: ${show(result)}`);
  }
}

export function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Policies

export interface PolicySpec {
  kind: 'ClusterPolicy' | 'Policy' | 'KubeArmorPolicy';
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  /** ClusterPolicy/Policy spec.background (default true): the field a conflict is made on. */
  background?: boolean;
}

/** A valid policy of the kind (schema-checked by the tool and by the API server). */
export function policyObject(spec: PolicySpec): Record<string, unknown> {
  const metadata = { name: spec.name, ...(spec.namespace ? { namespace: spec.namespace } : {}), ...(spec.labels ? { labels: spec.labels } : {}) };
  if (spec.kind === 'KubeArmorPolicy') {
    return {
      apiVersion: 'security.kubearmor.com/v1',
      kind: 'KubeArmorPolicy',
      metadata,
      spec: {
        severity: 1,
        selector: { matchLabels: { app: 'nginx' } },
        file: { matchDirectories: [{ dir: '/var/cache/nginx/client_temp/', fromSource: [{ path: '/usr/sbin/nginx' }] }], action: 'Audit' },
      },
    };
  }
  return {
    apiVersion: 'kyverno.io/v1',
    kind: spec.kind,
    metadata,
    spec: {
      validationFailureAction: 'Audit',
      background: spec.background ?? true,
      rules: [
        {
          name: 'check-for-labels',
          match: { any: [{ resources: { kinds: ['Pod'] } }] },
          validate: { message: 'The label app.kubernetes.io/name is required.', pattern: { metadata: { labels: { 'app.kubernetes.io/name': '?*' } } } },
        },
      ],
    },
  };
}

/** Writes one YAML file per policy into a new directory and returns it. */
export function writePolicies(kit: Kit, label: string, specs: readonly PolicySpec[]): string {
  const dir = kit.dir(label);
  for (const spec of specs) writeFileSync(join(dir, `${spec.kind.toLowerCase()}-${spec.name}.yaml`), stringify(policyObject(spec)));
  return dir;
}

/** A policy that fails its CRD schema (and pushes only with --skip-validation). */
export function writeInvalidPolicy(kit: Kit, name: string): string {
  const file = join(kit.dir('invalid'), `${name}.yaml`);
  const object = policyObject({ kind: 'KubeArmorPolicy', name, namespace: 'default' });
  (object.spec as Record<string, unknown>).severity = 'very';
  writeFileSync(file, stringify(object));
  return file;
}

export function sha256(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}
