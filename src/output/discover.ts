// discover as a tree, as `oras discover` draws one; cosign's tag-based images are named by their tag.
import type { DiscoverNode, DiscoverResult } from '../core/discover.ts';
import { atDigest } from '../referrers/display.ts';
import type { SignatureSummary } from '../signing/bundles.ts';
import { count } from '../util/plural.ts';

function describeNode(n: DiscoverNode): string {
  const texts = (n.signers ?? []).map(signerText);
  const grouped = [...new Set(texts)].map((t) => {
    const times = texts.filter((x) => x === t).length;
    return times > 1 ? `${times}× ${t}` : t;
  });
  const signers = grouped.length ? ` [${grouped.join('; ')}]` : '';
  if (n.via !== 'cosign-tag') return `${n.artifactType ?? n.mediaType}${signers}`;
  const layers = n.signatures !== undefined ? `, ${count(n.signatures, 'layer')}` : '';
  return `cosign ${n.tag?.split('.').pop()} (tag ${n.tag}${layers})${signers}`;
}

/** "sigstore bundle v0.3 dsse, key" or "cosign simple signing, keyless: X from Y (unverified)". */
export function signerText(s: SignatureSummary): string {
  const format = s.format === 'sigstore-bundle' ? `sigstore bundle${s.bundleVersion ? ` ${s.bundleVersion}` : ''}${s.content ? ` ${s.content}` : ''}` : 'cosign simple signing';
  const who = s.mode === 'keyless' ? `keyless: ${s.identity ?? '?'} from ${s.issuer ?? '?'} (unverified)` : (s.mode ?? 'unreadable');
  return `${format}, ${who}${s.problem ? `: ${s.problem}` : ''}`;
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
