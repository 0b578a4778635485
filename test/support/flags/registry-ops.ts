// How each command talks to a registry (an "op"): the generic cases of registry-cases.ts and
// output-cases.ts turn one op into a case per registry flag and per output flag.
import { readdirSync } from 'node:fs';
import { expect } from 'vitest';
import type { CliResult } from '../cli.ts';
import { clusterOf, layoutTags, reaching, scratchLayout, SEED, SEED_LABEL, KYVERNO_ARTIFACT_TYPE, type FlagContext } from './context.ts';
import type { Invocation } from './kit.ts';
import { objectPath } from './kube.ts';
import { writePolicies } from './kit.ts';
import { uploadImage, type RegistryAccess } from './registries.ts';

export type RegistryFlag =
  | 'plain-http'
  | 'insecure'
  | 'ca-file'
  | 'cert-file'
  | 'key-file'
  | 'username'
  | 'password-stdin'
  | 'request-timeout'
  | 'concurrency'
  | 'oci-layout';

export const ALL: readonly RegistryFlag[] = ['plain-http', 'insecure', 'ca-file', 'cert-file', 'key-file', 'username', 'password-stdin', 'request-timeout', 'concurrency', 'oci-layout'];
const but = (...left: RegistryFlag[]) => ALL.filter((flag) => !left.includes(flag));

/** How a command talks to a registry, for the generic cases. */
export interface RegistryOp {
  command: string;
  cluster?: boolean;
  /** The registry flags this command offers and has a meaning for. */
  flags: readonly RegistryFlag[];
  /** A field of its --format json result. */
  jsonKey: string;
  /** Exit codes of success (diff: 1 = differences). */
  okCodes?: readonly number[];
  /** A run against `reg` (each call: new repository/directory, setup done). */
  against(ctx: FlagContext, reg: RegistryAccess): Promise<Invocation>;
  /** A run whose REF is an OCI layout (DIR:tag), and how to tell the layout was used. */
  layout?(ctx: FlagContext): Promise<{ invocation: Invocation; check(result: CliResult): void }>;
}

export const okOf = (op: RegistryOp) => op.okCodes ?? [0];
const yamlFiles = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.yaml'));

export const REGISTRY_OPS: readonly RegistryOp[] = [
  {
    command: 'push',
    flags: ALL,
    jsonKey: 'digest',
    against: async (ctx, reg) => ({ args: ['push', `${reg.host}/${ctx.kit.id('push')}:v1`, ctx.files.policies] }),
    layout: async (ctx) => {
      const dir = ctx.kit.dir('push-layout');
      return { invocation: { args: ['push', `${dir}:v1`, ctx.files.policies] }, check: () => expect(layoutTags(dir)).toContain('v1') };
    },
  },
  {
    command: 'pull',
    flags: ALL,
    jsonKey: 'files',
    against: async (ctx, reg) => ({ args: ['pull', `${reg.host}/${SEED.src}`, '-o', ctx.kit.dir('pulled')] }),
    layout: async (ctx) => {
      const out = ctx.kit.dir('pulled');
      return { invocation: { args: ['pull', `${ctx.files.layout}:src`, '-o', out] }, check: () => expect(yamlFiles(out)).toHaveLength(5) };
    },
  },
  {
    command: 'inspect',
    flags: ALL,
    jsonKey: 'policies',
    against: async (_ctx, reg) => ({ args: ['inspect', `${reg.host}/${SEED.src}`] }),
    layout: async (ctx) => ({ invocation: { args: ['inspect', `${ctx.files.layout}:src`] }, check: (r) => expect(r.stdout).toContain('fw-seed-cp-a') }),
  },
  {
    command: 'tags',
    flags: but('concurrency'),
    jsonKey: 'tags',
    against: async (_ctx, reg) => ({ args: ['tags', `${reg.host}/${SEED.src.split(':')[0]}`] }),
    layout: async (ctx) => ({ invocation: { args: ['tags', ctx.files.layout] }, check: (r) => expect(r.stdout.split('\n')).toEqual(expect.arrayContaining(['src', 'subject'])) }),
  },
  {
    command: 'login',
    flags: ['plain-http', 'insecure', 'ca-file', 'cert-file', 'key-file', 'request-timeout'],
    jsonKey: 'registry',
    against: async (ctx, reg) => ({ args: ['login', reg.host, '-u', 'fw', '--password-stdin'], input: 'fw-password', env: { DOCKER_CONFIG: ctx.kit.dir('docker') } }),
  },
  {
    command: 'attach',
    flags: ALL,
    jsonKey: 'artifacts',
    against: async (ctx, reg) => {
      const repo = ctx.kit.id('attach');
      await uploadImage(reg.origin, repo, 'v1');
      return { args: ['attach', `${reg.host}/${repo}:v1`, ctx.files.attached] };
    },
    layout: async (ctx) => {
      const dir = await scratchLayout(ctx);
      return { invocation: { args: ['attach', `${dir}:v1`, ctx.files.attached] }, check: (r) => expect(r.stdout).toMatch(/Attached 2 policies/) };
    },
  },
  {
    command: 'discover',
    flags: but('concurrency'),
    jsonKey: 'referrers',
    against: async (_ctx, reg) => ({ args: ['discover', `${reg.host}/${SEED.subject}`] }),
    layout: async (ctx) => ({ invocation: { args: ['discover', `${ctx.files.layout}:subject`] }, check: (r) => expect(r.stdout).toContain(KYVERNO_ARTIFACT_TYPE) }),
  },
  {
    command: 'sign',
    flags: but('concurrency'),
    jsonKey: 'format',
    against: async (ctx, reg) => {
      const repo = ctx.kit.id('sign');
      await uploadImage(reg.origin, repo, 'v1');
      return { args: ['sign', `${reg.host}/${repo}:v1`, '--key', ctx.files.key] };
    },
    layout: async (ctx) => {
      const dir = await scratchLayout(ctx);
      return { invocation: { args: ['sign', `${dir}:v1`, '--key', ctx.files.key] }, check: () => expect(layoutTags(dir).some((t) => /^sha256-[a-f0-9]{64}$/.test(t))).toBe(true) };
    },
  },
  {
    command: 'verify',
    flags: but('concurrency'),
    jsonKey: 'signatures',
    against: async (ctx, reg) => ({ args: ['verify', `${reg.host}/${SEED.src}`, '--key', ctx.files.pub] }),
    layout: async (ctx) => ({ invocation: { args: ['verify', `${ctx.files.layout}:src`, '--key', ctx.files.pub] }, check: (r) => expect(r.stdout).toMatch(/^Verified .*: [1-9]\d* of \d+ signatures? verif/) }),
  },
  {
    command: 'copy',
    flags: but('oci-layout'),
    jsonKey: 'digest',
    against: async (ctx, reg) => ({ args: ['copy', `${reg.host}/${SEED.src}`, `${reg.host}/${ctx.kit.id('copy')}:v1`] }),
  },
  {
    command: 'flux',
    flags: but('concurrency', 'oci-layout'),
    jsonKey: 'items',
    against: async (_ctx, reg) => ({ args: ['flux', `${reg.host}/${SEED.bundle}`] }),
  },
  {
    command: 'export',
    cluster: true,
    flags: ALL,
    jsonKey: 'digest',
    against: async (ctx, reg) => ({ args: ['export', `${reg.host}/${ctx.kit.id('export')}:v1`, '--kubeconfig', clusterOf(ctx).kubeconfig, '-l', SEED_LABEL] }),
    layout: async (ctx) => {
      const dir = ctx.kit.dir('export-layout');
      return { invocation: { args: ['export', `${dir}:v1`, '--kubeconfig', clusterOf(ctx).kubeconfig, '-l', SEED_LABEL] }, check: () => expect(layoutTags(dir)).toContain('v1') };
    },
  },
  {
    command: 'apply',
    cluster: true,
    flags: ALL,
    jsonKey: 'results',
    against: async (ctx, reg) => ({ args: ['apply', `${reg.host}/${SEED.src}`, '--kubeconfig', clusterOf(ctx).kubeconfig] }),
    layout: async (ctx) => ({ invocation: { args: ['apply', `${ctx.files.layout}:src`, '--kubeconfig', clusterOf(ctx).kubeconfig] }, check: (r) => expect(r.stdout).toContain('fw-seed-cp-a') }),
  },
  {
    command: 'diff',
    cluster: true,
    flags: ALL,
    jsonKey: 'results',
    okCodes: [0, 1],
    against: async (ctx, reg) => ({ args: ['diff', `${reg.host}/${SEED.src}`, '--kubeconfig', clusterOf(ctx).kubeconfig] }),
    layout: async (ctx) => ({ invocation: { args: ['diff', `${ctx.files.layout}:src`, '--kubeconfig', clusterOf(ctx).kubeconfig] }, check: (r) => expect(r.stdout).toMatch(/\d+ of \d+ objects? would change/) }),
  },
  {
    command: 'rollback',
    cluster: true,
    flags: ALL,
    jsonKey: 'rollback',
    against: async (ctx, reg) => {
      const [repo, tag] = SEED.src.split(':') as [string, string];
      return { args: ['rollback', `${reg.host}/${repo}`, '--to', tag, '--kubeconfig', clusterOf(ctx).kubeconfig] };
    },
    layout: async (ctx) => ({ invocation: { args: ['rollback', ctx.files.layout, '--to', 'src', '--kubeconfig', clusterOf(ctx).kubeconfig] }, check: (r) => expect(r.stdout).toContain('fw-seed-cp-a') }),
  },
  {
    command: 'status',
    cluster: true,
    // status reads no blobs in bulk: no --concurrency.
    flags: ALL.filter((flag) => flag !== 'concurrency'),
    jsonKey: 'contexts',
    okCodes: [0, 1],
    against: statusAgainst,
    layout: async (ctx) => {
      const dir = ctx.kit.dir('status-layout');
      const name = ctx.kit.id('status-layout');
      await ctx.kit.ok({ args: ['push', '--oci-layout', `${dir}:v1`, writePolicies(ctx.kit, name, [{ kind: 'ClusterPolicy', name }])] });
      await ctx.kit.ok({ args: ['apply', '--oci-layout', `${dir}:v1`, '--kubeconfig', clusterOf(ctx).kubeconfig] });
      return { invocation: { args: ['status', dir, '--kubeconfig', clusterOf(ctx).kubeconfig] }, check: (r) => expect(r.stdout).toContain(dir) };
    },
  },
  {
    command: 'migrate',
    cluster: true,
    flags: ALL,
    jsonKey: 'results',
    against: async (ctx, reg) => ({ args: [...migrateBase(ctx), '--via', `${reg.host}/${ctx.kit.id('migrate')}:v1`] }),
    layout: async (ctx) => {
      const dir = ctx.kit.dir('migrate-layout');
      return { invocation: { args: [...migrateBase(ctx), '--via', `${dir}:v1`] }, check: () => expect(layoutTags(dir)).toContain('v1') };
    },
  },
];

/**
 * status REPO, where REPO (on `reg`) holds a new policy applied to the cluster. The setup reaches
 * the registry itself (not through a proxy or address `reg` may stand for, which it must not wear
 * out): the objects then record the registry's own host, rewritten to `reg.host` (what an apply
 * through it would have recorded) so that status reads through `reg`.
 */
async function statusAgainst(ctx: FlagContext, reg: RegistryAccess): Promise<Invocation> {
  const real = reg.name === 'open' ? ctx.open : reg;
  const repo = ctx.kit.id('status');
  const spec = { kind: 'ClusterPolicy' as const, name: repo };
  await ctx.kit.ok(reaching(real, { args: ['push', `${real.host}/${repo}:v1`, writePolicies(ctx.kit, repo, [spec])] }));
  await ctx.kit.ok(reaching(real, { args: ['apply', `${real.host}/${repo}:v1`, '--kubeconfig', clusterOf(ctx).kubeconfig] }));
  if (reg.host !== real.host) {
    const res = await clusterOf(ctx).kube.call(objectPath(spec), {
      method: 'PATCH',
      body: { metadata: { annotations: { 'policyoci.dev/source': `${reg.host}/${repo}` } } },
      contentType: 'application/merge-patch+json',
    });
    if (res.status !== 200) throw new Error(`relabelling ${repo} answered ${res.status}: ${res.text.slice(0, 300)}`);
  }
  return { args: ['status', `${reg.host}/${repo}`, '--kubeconfig', clusterOf(ctx).kubeconfig] };
}

/** migrate of the seed policies from the cluster to itself (unchanged): only --via differs. */
function migrateBase(ctx: FlagContext): string[] {
  return ['migrate', '--kubeconfig', clusterOf(ctx).migrate, '--from-context', 'from', '--to-context', 'to', '-l', SEED_LABEL];
}

