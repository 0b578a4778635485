// inspect: what an artifact holds, without writing anything.
import type { ReadLimits } from '../artifact/limits.ts';
import { readArtifact } from '../artifact/unpack.ts';
import type { Descriptor } from '../oci/types.ts';
import { openTarget, type StoreOptions } from '../content/open.ts';
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
  }>;
  policies: Array<{ engine: string; apiVersion: string; kind: string; namespace?: string; name: string; layer: string }>;
  warnings: string[];
}

export async function inspect(options: InspectOptions, reporter: Reporter = silentReporter): Promise<InspectResult> {
  const opened = await openTarget(options.reference, options.store, { push: false });
  const { warnings, warn } = collectWarnings(reporter);
  reporter.progress(`Reading ${opened.display}`);
  const read = await readArtifact(opened.target, opened.reference, { ...(options.limits ? { limits: options.limits } : {}), ...(options.concurrency ? { concurrency: options.concurrency } : {}) });
  for (const w of read.warnings) warn(w);
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
      return out;
    }),
    policies: sortPolicies(read.policies).map((p) => {
      const out: InspectResult['policies'][number] = { engine: p.engine, apiVersion: p.object.apiVersion, kind: p.object.kind, name: p.object.metadata.name, layer: p.layer };
      if (p.object.metadata.namespace) out.namespace = p.object.metadata.namespace;
      return out;
    }),
    warnings,
  };
}
