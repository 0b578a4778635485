// Small helpers the command cases share: references on the open registry, pulled files, inspect.
import { existsSync, readdirSync } from 'node:fs';
import type { FlagContext } from './context.ts';
import { json, writePolicies, type PolicySpec } from './kit.ts';

export type Json = Record<string, unknown>;

export const yamlFiles = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort() : []);
/** REPO (with its tag or digest) on the open registry. */
export const open = (ctx: FlagContext, repo: string) => `${ctx.open.host}/${repo}`;

export interface Inspected {
  manifests: Array<{ layers: Array<{ mediaType: string }> }>;
  annotations: Record<string, string>;
}

export async function inspectJson(ctx: FlagContext, ref: string): Promise<Inspected> {
  return json<Inspected>(await ctx.kit.ok({ args: ['inspect', ref, '--format', 'json'] }), `inspect ${ref}`);
}

export function layerTypes(inspected: Pick<Inspected, 'manifests'>): string[] {
  return inspected.manifests.flatMap((m) => m.layers.map((l) => l.mediaType));
}

/** Pushes `specs` to a repository of the open registry (a new one by default); returns REF. */
export async function pushPolicies(ctx: FlagContext, label: string, specs: readonly PolicySpec[], repo = ctx.kit.id(label), tag = 'v1'): Promise<string> {
  const ref = `${open(ctx, repo)}:${tag}`;
  await ctx.kit.ok({ args: ['push', ref, writePolicies(ctx.kit, label, specs)] });
  return ref;
}

export const clusterPolicy = (name: string, extra: Partial<PolicySpec> = {}): PolicySpec => ({ kind: 'ClusterPolicy', name, ...extra });
