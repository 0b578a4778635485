// Text for `inspect`: the root, each manifest with its layers, then a table of the policies.
import type { InspectResult } from '../core/inspect.ts';
import { ANNOTATION_TITLE } from '../oci/mediatypes.ts';
import { count } from '../util/plural.ts';
import { signerText } from './discover.ts';

export function inspectText(r: InspectResult): string {
  const lines = [`Reference: ${r.reference}`, `Digest:    ${r.digest}`, `Type:      ${r.mediaType} (${count(r.size, 'byte')})`];
  for (const [k, v] of Object.entries(r.annotations)) lines.push(`Annotation: ${k}=${v}`);
  for (const m of r.manifests) {
    lines.push('', `Manifest ${m.digest}${m.engine ? ` (engine: ${m.engine})` : ''}`, `  config: ${m.configMediaType}`);
    const b = m.kyvernoBundle;
    if (b) {
      const about = [b.name && `name ${b.name}`, b.version && `version ${b.version}`, b.created && `created ${b.created}`].filter(Boolean).join(', ');
      lines.push(`  Kyverno CEL Policy Bundle ${b.formatVersion}${about ? ` (${about})` : ''}: ${count(b.resources.length, 'resource')} in ${b.sets.map((s) => `${s.name} [${s.type}]`).join(', ')}; index checked against the archive`);
    }
    for (const l of m.layers) {
      const title = l.annotations[ANNOTATION_TITLE];
      lines.push(`  layer ${l.digest} ${l.size} B ${l.mediaType}${title ? ` ${title}` : ''}`);
    }
  }
  lines.push('', `Policies (${r.policies.length}):`, 'ENGINE\tKIND\tNAMESPACE\tNAME\tAPIVERSION');
  for (const p of r.policies) lines.push(`${p.engine}\t${p.kind}\t${p.namespace ?? '-'}\t${p.name}\t${p.apiVersion}`);
  lines.push('', `Signatures (${r.signatures.length}, not verified: use verify):`);
  for (const s of r.signatures) lines.push(`  ${s.source} ${s.manifest} ${signerText(s)}`);
  return lines.join('\n');
}
