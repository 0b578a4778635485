// sign: a cosign-compatible, key-based signature of a manifest (a policy artifact or an image).
import type { Target } from '../content/types.ts';
import { ReferrersClient, type ReferrersMode } from '../referrers/client.ts';
import { signManifest, type SignResult } from '../signing/cosign.ts';
import { loadPrivateKey } from '../signing/keys.ts';

export interface SignInput {
  keyPath: string;
  /** docker-reference written into the payload (the repository). */
  dockerReference: string;
  mode?: ReferrersMode;
  /** Also write an OCI 1.1 signature referrer where the registry has the API (default true). */
  referrer?: boolean;
  annotations?: Record<string, string>;
}

export interface SignSummary extends SignResult {
  reference: string;
}

export async function signReference(target: Target, display: string, reference: string, input: SignInput): Promise<SignSummary> {
  const key = await loadPrivateKey(input.keyPath);
  const subject = await target.resolve(reference);
  const referrers = new ReferrersClient(target, input.mode ? { mode: input.mode } : {});
  const result = await signManifest(target, subject, key, referrers, {
    dockerReference: input.dockerReference,
    ...(input.referrer === false ? { referrer: false } : {}),
    ...(input.annotations ? { annotations: input.annotations } : {}),
  });
  return { reference: display, ...result };
}
