// inspect: what an artifact holds, without writing anything.
import type { ReadLimits } from '../artifact/limits.ts';
import { readArtifact } from '../artifact/unpack.ts';
import type { Descriptor } from '../oci/types.ts';
import type { Target } from '../content/types.ts';
import { sortPolicies } from './pull.ts';

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

export async function inspectArtifact(target: Target, display: string, reference: string, limits?: ReadLimits): Promise<InspectResult> {
  const read = await readArtifact(target, reference, limits ? { limits } : {});
  return {
    reference: display,
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
    warnings: read.warnings,
  };
}
