// push: read and validate every document first; only then pack and send.
import { packPolicies, type PackedArtifact } from '../artifact/pack.ts';
import { publish, type PublishResult } from '../artifact/publish.ts';
import type { Target } from '../content/types.ts';
import { loadEngines } from '../engines/index.ts';
import { PolicyOciError } from '../errors.ts';
import { loadPolicies } from '../policy/load.ts';
import type { PolicyDocument } from '../policy/types.ts';

export interface PushInput {
  paths: string[];
  skipValidation?: boolean;
  bundle?: boolean;
  annotations?: Record<string, string>;
  readStdin?: () => Promise<string>;
}

export interface PreparedPush {
  documents: PolicyDocument[];
  packed: PackedArtifact;
  warnings: string[];
}

export async function preparePush(input: PushInput): Promise<PreparedPush> {
  const warnings: string[] = [];
  // Parse and (unless skipped) validate everything first: one error lists every problem, and
  // nothing is packed or sent while any input is bad.
  const loaded = await loadPolicies(input.paths, {
    validate: !input.skipValidation,
    onWarning: (w) => warnings.push(w),
    ...(input.readStdin ? { stdin: input.readStdin } : {}),
  });
  for (const doc of loaded) warnings.push(...(doc.warnings ?? []));
  if (loaded.length === 0) throw new PolicyOciError('INVALID_INPUT', `no policy found in ${input.paths.join(', ')}`);
  const packed = packPolicies(loaded, loadEngines(), { bundle: input.bundle ?? false, annotations: input.annotations ?? {} });
  return { documents: loaded, packed, warnings };
}

export interface PushSummary extends PublishResult {
  reference: string;
  policies: number;
  engines: Array<{ engine: string; digest: string; policies: number }>;
}

export async function pushPrepared(target: Target, display: string, prepared: PreparedPush, tags: string[], concurrency: number, onProgress?: (done: number, total: number) => void): Promise<PushSummary> {
  const result = await publish(target, prepared.packed, tags, { concurrency, ...(onProgress ? { onProgress } : {}) });
  return {
    reference: display,
    ...result,
    policies: prepared.documents.length,
    engines: prepared.packed.manifests.map((m) => ({ engine: m.engine, digest: m.descriptor.digest, policies: m.policies.length })),
  };
}
