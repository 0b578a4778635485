// inspect: what an artifact holds, without writing anything.
import type { ReadLimits } from '../artifact/limits.ts';
import { readArtifact } from '../artifact/unpack.ts';
import type { BundleConfig } from '../artifact/kyverno-bundle.ts';
import type { Descriptor } from '../oci/types.ts';
import { openTarget, type StoreOptions } from '../content/open.ts';
import { resolveOptional } from '../content/resolve.ts';
import type { Target } from '../content/types.ts';
import { ReferrersClient } from '../referrers/client.ts';
import { cosignTag } from '../referrers/tagschema.ts';
import { SIGSTORE_BUNDLE_TYPES, summarizeSignatures, type SignatureSummary } from '../signing/bundles.ts';
import { COSIGN_SIG_ARTIFACT_TYPE } from '../signing/simplesigning.ts';
import { sortPolicies } from './pull.ts';
import { collectWarnings, silentReporter, type Reporter } from './reporter.ts';

export interface InspectOptions {
  reference: string;
  store: StoreOptions;
  limits?: ReadLimits;
  /** Layers fetched at once (default 8). */
  concurrency?: number;
}

export interface InspectResult {
  reference: string;
  digest: string;
  mediaType: string;
  size: number;
  annotations: Record<string, string>;
  manifests: Array<{
    digest: string;
    engine?: string;
    configMediaType: string;
    annotations: Record<string, string>;
    layers: Array<Pick<Descriptor, 'mediaType' | 'digest' | 'size'> & { annotations: Record<string, string> }>;
    /** A Kyverno CEL Policy Bundle 1.0: its config (read and cross-checked against the archive). */
    kyvernoBundle?: BundleConfig;
  }>;
  policies: Array<{ engine: string; apiVersion: string; kind: string; namespace?: string; name: string; layer: string }>;
  /** The signatures found for the digest (cosign .sig tag, signature and bundle referrers), as they describe themselves: NOT verified (use verify). */
  signatures: InspectedSignature[];
  warnings: string[];
}

export type InspectedSignature = SignatureSummary & { source: 'tag' | 'referrer'; manifest: string };

export async function inspect(options: InspectOptions, reporter: Reporter = silentReporter): Promise<InspectResult> {
  const opened = await openTarget(options.reference, options.store, { push: false });
  const { warnings, warn } = collectWarnings(reporter);
  reporter.progress(`Reading ${opened.display}`);
  const read = await readArtifact(opened.target, opened.reference, { ...(options.limits ? { limits: options.limits } : {}), ...(options.concurrency ? { concurrency: options.concurrency } : {}) });
  for (const w of read.warnings) warn(w);
  const signatures = await signaturesOf(opened.target, read.root.digest, warn);
  return {
    reference: opened.display,
    digest: read.root.digest,
    mediaType: read.root.mediaType,
    size: read.root.size,
    annotations: (read.index ?? read.manifests[0]?.manifest)?.annotations ?? {},
    manifests: read.manifests.map((m) => {
      const out: InspectResult['manifests'][number] = {
        digest: m.descriptor.digest,
        configMediaType: m.manifest.config?.mediaType ?? '',
        annotations: m.manifest.annotations ?? {},
        layers: m.manifest.layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size, annotations: l.annotations ?? {} })),
      };
      if (m.engine) out.engine = m.engine;
      if (m.kyvernoBundle) out.kyvernoBundle = m.kyvernoBundle;
      return out;
    }),
    policies: sortPolicies(read.policies).map((p) => {
      const out: InspectResult['policies'][number] = { engine: p.engine, apiVersion: p.object.apiVersion, kind: p.object.kind, name: p.object.metadata.name, layer: p.layer };
      if (p.object.metadata.namespace) out.namespace = p.object.metadata.namespace;
      return out;
    }),
    signatures,
    warnings,
  };
}

/** Every signature manifest of `digest`, summarised without verification; a failure to list them is a warning. */
async function signaturesOf(target: Target, digest: string, warn: (message: string) => void): Promise<InspectedSignature[]> {
  const out: InspectedSignature[] = [];
  try {
    const manifests: Array<{ source: 'tag' | 'referrer'; desc: Descriptor }> = [];
    const tagged = await resolveOptional(target, cosignTag(digest, 'sig'));
    if (tagged) manifests.push({ source: 'tag', desc: tagged });
    for (const desc of await new ReferrersClient(target).list({ digest }, [COSIGN_SIG_ARTIFACT_TYPE, ...SIGSTORE_BUNDLE_TYPES])) manifests.push({ source: 'referrer', desc });
    for (const { source, desc } of manifests.slice(0, 500)) {
      for (const summary of await summarizeSignatures(target, desc)) out.push({ source, manifest: desc.digest, ...summary });
    }
  } catch (err) {
    warn(`the signatures of ${digest} cannot be listed: ${(err as Error).message}`);
  }
  return out;
}
