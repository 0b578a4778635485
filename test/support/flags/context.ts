// The world the flag cases run in: the registries and what was pushed to them once (seeds), an OCI
// layout, signing keys, and (for cluster commands) a real API server with kubeconfigs.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CliResult } from '../cli.ts';
import { runCommand } from '../process.ts';
import type { Kit, Invocation, PolicySpec } from './kit.ts';
import { writePolicies } from './kit.ts';
import type { KubeView } from './kube.ts';
import { uploadImage, type RegistryAccess } from './registries.ts';

/** One (command, flag) and how the flag shows itself. */
export interface FlagCase {
  command: string;
  /** Any of the flag's names, without dashes ("output" or "o"). */
  flag: string;
  /** How the case proves the flag: what differs between the runs without and with it. */
  how: string;
  /** Needs the cluster (runs once it is up). */
  cluster?: boolean;
  run(ctx: FlagContext): Promise<void>;
}

/** Repositories every registry holds (pushed once, read by many cases). */
export const SEED = {
  /** the seed policies, one layer per policy, signed with the test key */
  src: 'fw-src:v1',
  /** the same policies, one tar+gzip layer per engine, unsigned */
  bundle: 'fw-bundle:v1',
  /** a small image with the attached policies (signed) as referrers */
  subject: 'fw-subject:v1',
} as const;

export const SEED_NAMESPACE = 'fw-seed';
export const SEED_OTHER_NAMESPACE = 'fw-seed-b';
export const SEED_LABEL = 'fw-set=seed';
/** For namespaced policies of cases that do not care where they live (created with the cluster). */
export const SCRATCH_NAMESPACE = 'fw-scratch';

/** Kyverno: 3 layers in one manifest, KubeArmor: 1, across two namespaces and the cluster scope. */
export const SEED_POLICIES: readonly PolicySpec[] = [
  { kind: 'ClusterPolicy', name: 'fw-seed-cp-a', labels: { 'fw-set': 'seed' } },
  { kind: 'ClusterPolicy', name: 'fw-seed-cp-b', labels: { 'fw-set': 'seed' } },
  { kind: 'Policy', name: 'fw-seed-pol', namespace: SEED_NAMESPACE, labels: { 'fw-set': 'seed' } },
  { kind: 'Policy', name: 'fw-seed-pol-b', namespace: SEED_OTHER_NAMESPACE, labels: { 'fw-set': 'seed' } },
  { kind: 'KubeArmorPolicy', name: 'fw-seed-ksp', namespace: SEED_NAMESPACE, labels: { 'fw-set': 'seed' } },
];

export const ATTACHED_POLICIES: readonly PolicySpec[] = [
  { kind: 'ClusterPolicy', name: 'fw-att-cp', labels: { 'fw-set': 'attached' } },
  { kind: 'KubeArmorPolicy', name: 'fw-att-ksp', namespace: SCRATCH_NAMESPACE, labels: { 'fw-set': 'attached' } },
];

export const KYVERNO_ARTIFACT_TYPE = 'application/vnd.cncf.kyverno.config.v1+json';
export const KUBEARMOR_ARTIFACT_TYPE = 'application/vnd.cncf.kubearmor.config.v1+json';

export interface Files {
  /** directory of SEED_POLICIES */
  policies: string;
  /** directory of ATTACHED_POLICIES */
  attached: string;
  /** PEM EC P-256 private key and its public key */
  key: string;
  pub: string;
  /** OCI layout with the tags "src" (seed policies, signed) and "subject" (with attached policies) */
  layout: string;
}

export interface ClusterContext {
  kube: KubeView;
  /** one context "admin" */
  kubeconfig: string;
  /** the restricted user: lists ClusterPolicies, and KubeArmorPolicies of team-a only */
  restricted: string;
  /** current context "dead" (nothing listens there) and "live" */
  twoContexts: string;
  /** contexts "from" and "to", both this cluster, and "dead" (nothing listens there) */
  migrate: string;
}

export interface FlagContext {
  kit: Kit;
  open: RegistryAccess;
  tls: RegistryAccess;
  /** TLS that requires a client certificate */
  mtls: RegistryAccess;
  htpasswd: RegistryAccess;
  /** a registry with the OCI 1.1 referrers API (ggcr-registry) */
  referrers: RegistryAccess;
  files: Files;
  cluster?: ClusterContext;
}

export function clusterOf(ctx: FlagContext): ClusterContext {
  if (!ctx.cluster) throw new Error('this case needs the cluster');
  return ctx.cluster;
}

/** The run with `access`'s flags and stdin (to reach it with full access). */
export function reaching(access: RegistryAccess, invocation: Invocation): Invocation {
  return { ...invocation, args: [...invocation.args, ...access.flags], ...(access.input !== undefined ? { input: access.input } : {}) };
}

/** Keys and policy files. */
export async function prepareFiles(kit: Kit): Promise<Omit<Files, 'layout'>> {
  const dir = kit.dir('keys');
  const key = join(dir, 'key.pem');
  const pub = join(dir, 'pub.pem');
  await runCommand('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key]);
  await runCommand('openssl', ['pkey', '-in', key, '-pubout', '-out', pub]);
  return { policies: writePolicies(kit, 'seed-policies', SEED_POLICIES), attached: writePolicies(kit, 'attached-policies', ATTACHED_POLICIES), key, pub };
}

/** Pushes the seeds into one registry. */
export async function seedRegistry(kit: Kit, access: RegistryAccess, files: Omit<Files, 'layout'>): Promise<void> {
  const ref = (repo: string) => `${access.host}/${repo}`;
  await Promise.all([
    (async () => {
      await kit.ok(reaching(access, { args: ['push', ref(SEED.src), files.policies] }));
      await kit.ok(reaching(access, { args: ['sign', ref(SEED.src), '--key', files.key] }));
    })(),
    kit.ok(reaching(access, { args: ['push', ref(SEED.bundle), files.policies, '--bundle'] })),
    (async () => {
      const [repo, tag] = SEED.subject.split(':') as [string, string];
      await uploadImage(access.origin, repo, tag);
      await kit.ok(reaching(access, { args: ['attach', ref(SEED.subject), files.attached, '--sign-key', files.key] }));
    })(),
  ]);
}

/** The seed layout (read-only for the cases). */
export async function seedLayout(kit: Kit, files: Omit<Files, 'layout'>): Promise<string> {
  const layout = kit.dir('layout');
  await kit.ok({ args: ['push', '--oci-layout', `${layout}:src`, files.policies] });
  await kit.ok({ args: ['sign', '--oci-layout', `${layout}:src`, '--key', files.key] });
  await kit.ok({ args: ['push', '--oci-layout', `${layout}:subject`, join(files.policies, 'clusterpolicy-fw-seed-cp-a.yaml')] });
  await kit.ok({ args: ['attach', '--oci-layout', `${layout}:subject`, files.attached, '--sign-key', files.key] });
  return layout;
}

/** A new layout holding `tag` (seed policies) for cases that write into a layout. */
export async function scratchLayout(ctx: FlagContext, tag = 'v1'): Promise<string> {
  const layout = ctx.kit.dir('scratch-layout');
  await ctx.kit.ok({ args: ['push', '--oci-layout', `${layout}:${tag}`, ctx.files.policies] });
  return layout;
}

/** The tags an OCI layout's index.json names. */
export function layoutTags(layout: string): string[] {
  const index = join(layout, 'index.json');
  if (!existsSync(index)) return [];
  const parsed = JSON.parse(readFileSync(index, 'utf8')) as { manifests?: Array<{ annotations?: Record<string, string> }> };
  return (parsed.manifests ?? []).map((m) => m.annotations?.['org.opencontainers.image.ref.name']).filter((t): t is string => t !== undefined);
}

/** A docker config that holds credentials for `host` (for logout). */
export function dockerConfigWith(kit: Kit, host: string): string {
  const dir = kit.dir('docker-config');
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ auths: { [host]: { auth: Buffer.from('fw:secret').toString('base64') } } }), { mode: 0o600 });
  return dir;
}

/** Whether a run printed a stack trace (lines "    at fn (file:line)"). */
export function hasStack(result: CliResult): boolean {
  return /\n\s+at \S/.test(result.stderr);
}
