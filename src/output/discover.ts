// discover as a tree, as `oras discover` draws one; cosign's tag-based images are named by their tag.
import type { DiscoverNode, DiscoverResult } from '../core/discover.ts';
import { atDigest } from '../referrers/display.ts';
import { count } from '../util/plural.ts';

function describeNode(n: DiscoverNode): string {
  if (n.via !== 'cosign-tag') return n.artifactType ?? n.mediaType;
  const layers = n.signatures !== undefined ? `, ${count(n.signatures, 'layer')}` : '';
  return `cosign ${n.tag?.split('.').pop()} (tag ${n.tag}${layers})`;
}

export function discoverText(r: DiscoverResult): string {
  const lines = [atDigest(r.reference, r.digest)];
  const draw = (nodes: DiscoverNode[], prefix: string) => {
    nodes.forEach((n, i) => {
      const last = i === nodes.length - 1;
      const created = n.annotations?.['org.opencontainers.image.created'];
      lines.push(`${prefix}${last ? '└── ' : '├── '}${n.digest} ${describeNode(n)}${created ? ` created ${created}` : ''}`);
      draw(n.referrers, `${prefix}${last ? '    ' : '│   '}`);
    });
  };
  draw(r.referrers, '');
  if (r.referrers.length === 0) lines.push('(no referrers)');
  lines.push(`(referrers listed by ${r.referrersBy === 'api' ? "the registry's referrers API" : 'the tag schema'})`);
  return lines.join('\n');
}
