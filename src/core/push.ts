// push: read and validate every document first; only then pack and send.
import { packPolicies, type PackedArtifact } from '../artifact/pack.ts';
import { publish, type PublishResult } from '../artifact/publish.ts';
import type { Target } from '../content/types.ts';
import { loadEngines } from '../engines/index.ts';
import { PolicyOciError } from '../errors.ts';
import { loadPolicies } from '../policy/load.ts';
import type { PolicyDocument } from '../policy/types.ts';
import { validatePolicy } from '../policy/validate.ts';

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
  const loaded = await loadPolicies(input.paths, input.readStdin ? { stdin: input.readStdin } : {});
  if (loaded.length === 0) throw new PolicyOciError('INVALID_INPUT', `no policy found in ${input.paths.join(', ')}`);
  const warnings: string[] = [];
  const problems: string[] = [];
  const documents: PolicyDocument[] = [];
  for (const doc of loaded) {
    if (input.skipValidation) {
      documents.push(doc);
      continue;
    }
    try {
      const checked = await validatePolicy(doc);
      warnings.push(...checked.warnings);
      documents.push({ ...doc, object: checked.object });
    } catch (err) {
      problems.push(err instanceof Error ? err.message : String(err));
    }
  }
  if (problems.length > 0) {
    throw new PolicyOciError('INVALID_POLICY', `${problems.length} of ${loaded.length} document(s) failed validation; nothing was pushed`, { details: problems });
  }
  const packed = packPolicies(documents, loadEngines(), { bundle: input.bundle ?? false, annotations: input.annotations ?? {} });
  return { documents, packed, warnings };
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
