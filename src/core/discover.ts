// discover: the artifacts that refer to a manifest (policies, signatures…), as a tree: referrers
// (API or tag schema), and cosign's tag-based signatures/attestations/SBOMs next to each node.
import type { ImageManifest } from '../oci/types.ts';
import type { Target } from '../content/types.ts';
import { COSIGN_SBOM, COSIGN_SIMPLE_SIGNING, DSSE_ENVELOPE } from '../oci/mediatypes.ts';
import { ReferrersClient, type ReferrersMode } from '../referrers/client.ts';
import { atDigest, cosignTag } from '../referrers/tagschema.ts';
import { resolveOptional } from '../content/resolve.ts';

export interface DiscoverNode {
  digest: string;
  mediaType: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
  /** How it was found: a referrer (API or tag-schema index), or cosign's `sha256-<hex>.<suffix>` tag. */
  via: 'referrers' | 'cosign-tag';
  tag?: string;
  /** Signature layers in a cosign `.sig` manifest. */
  signatures?: number;
  referrers: DiscoverNode[];
}

export interface DiscoverResult {
  reference: string;
  digest: string;
  mediaType: string;
  size: number;
  /** How this store lists referrers. */
  referrersBy: 'api' | 'tag';
  referrers: DiscoverNode[];
}

export interface DiscoverOptions {
  mode?: ReferrersMode;
  /** Only referrers of these artifact types (at the first level). */
  artifactTypes?: string[];
  /** Levels to follow (default 3: image → policies → their signatures). */
  depth?: number;
}

const COSIGN_SUFFIXES = [
  ['sig', COSIGN_SIMPLE_SIGNING],
  ['att', DSSE_ENVELOPE],
  ['sbom', COSIGN_SBOM],
] as const;
const MAX_NODES = 2000;

export async function discover(target: Target, display: string, reference: string, options: DiscoverOptions = {}): Promise<DiscoverResult> {
  const root = await target.resolve(reference);
  const referrers = new ReferrersClient(target, options.mode ? { mode: options.mode } : {});
  const seen = new Set<string>([root.digest]);
  const walk = async (digest: string, level: number): Promise<DiscoverNode[]> => {
    if (level > (options.depth ?? 3) || seen.size > MAX_NODES) return [];
    const nodes: DiscoverNode[] = [];
    const found = await referrers.list({ digest }, level === 1 ? options.artifactTypes : undefined);
    for (const r of found) {
      if (seen.has(r.digest)) continue;
      seen.add(r.digest);
      const node: DiscoverNode = { digest: r.digest, mediaType: r.mediaType, size: r.size, via: 'referrers', referrers: [] };
      if (r.artifactType) node.artifactType = r.artifactType;
      if (r.annotations) node.annotations = r.annotations;
      node.referrers = await walk(r.digest, level + 1);
      nodes.push(node);
    }
    for (const [suffix, artifactType] of COSIGN_SUFFIXES) {
      if (level === 1 && options.artifactTypes?.length && !options.artifactTypes.includes(artifactType)) continue;
      const tag = cosignTag(digest, suffix);
      const desc = await resolveOptional(target, tag);
      if (!desc || seen.has(`${desc.digest}/${tag}`)) continue;
      seen.add(`${desc.digest}/${tag}`);
      const node: DiscoverNode = { digest: desc.digest, mediaType: desc.mediaType, size: desc.size, artifactType, via: 'cosign-tag', tag, referrers: [] };
      try {
        const m = JSON.parse((await target.fetch(desc)).toString('utf8')) as ImageManifest;
        if (Array.isArray(m.layers)) node.signatures = m.layers.length;
      } catch {
        /* listed without a count */
      }
      nodes.push(node);
    }
    return nodes;
  };
  const tree = await walk(root.digest, 1);
  return { reference: display, digest: root.digest, mediaType: root.mediaType, size: root.size, referrersBy: (await referrers.usesApi()) ? 'api' : 'tag', referrers: tree };
}

export function renderDiscoverTree(r: DiscoverResult): string {
  const lines = [atDigest(r.reference, r.digest)];
  const draw = (nodes: DiscoverNode[], prefix: string) => {
    nodes.forEach((n, i) => {
      const last = i === nodes.length - 1;
      const what = n.via === 'cosign-tag' ? `cosign ${n.tag?.split('.').pop()} (tag ${n.tag}${n.signatures !== undefined ? `, ${n.signatures} layer${n.signatures === 1 ? '' : 's'}` : ''})` : (n.artifactType ?? n.mediaType);
      const created = n.annotations?.['org.opencontainers.image.created'];
      lines.push(`${prefix}${last ? '└── ' : '├── '}${n.digest} ${what}${created ? ` created ${created}` : ''}`);
      draw(n.referrers, `${prefix}${last ? '    ' : '│   '}`);
    });
  };
  draw(r.referrers, '');
  if (r.referrers.length === 0) lines.push('(no referrers)');
  lines.push(`(referrers listed by ${r.referrersBy === 'api' ? 'the registry\'s referrers API' : 'the tag schema'})`);
  return lines.join('\n');
}
