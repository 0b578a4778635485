import type { Argv } from 'yargs';
import { withLimitFlags, limitsFrom, type LimitFlags } from './limits.ts';
import { withRegistryFlags, type RegistryFlags } from './options.ts';

interface InspectArgs extends RegistryFlags, LimitFlags {
  ref: string;
}

export const command = 'inspect <ref>';
export const describe = 'Show the engines, policies, layers and annotations of an artifact';

export function builder(y: Argv): Argv<InspectArgs> {
  return withLimitFlags(withRegistryFlags(y))
    .positional('ref', { type: 'string', demandOption: true })
    .example('$0 inspect localhost:5000/policies:v1', 'List what the artifact holds')
    .example('$0 inspect localhost:5000/policies:v1 --format json | jq .policies', 'The same, for scripts') as unknown as Argv<InspectArgs>;
}

export async function handler(args: InspectArgs): Promise<void> {
  const [{ inspectArtifact }, { openTarget }, { render }] = await Promise.all([
    import('../core/inspect.ts'),
    import('../content/open.ts'),
    import('../output/render.ts'),
  ]);
  const opened = await openTarget(args.ref, args, { push: false });
  const result = await inspectArtifact(opened.target, opened.display, opened.reference, limitsFrom(args));
  render(args.format, result, (r) => {
    const lines = [`Reference: ${r.reference}`, `Digest:    ${r.digest}`, `Type:      ${r.mediaType} (${r.size} bytes)`];
    for (const [k, v] of Object.entries(r.annotations)) lines.push(`Annotation: ${k}=${v}`);
    for (const m of r.manifests) {
      lines.push('', `Manifest ${m.digest}${m.engine ? ` (engine: ${m.engine})` : ''}`, `  config: ${m.configMediaType}`);
      for (const l of m.layers) lines.push(`  layer ${l.digest} ${l.size} B ${l.mediaType}${l.annotations['org.opencontainers.image.title'] ? ` ${l.annotations['org.opencontainers.image.title']}` : ''}`);
    }
    lines.push('', `Policies (${r.policies.length}):`, 'ENGINE\tKIND\tNAMESPACE\tNAME\tAPIVERSION');
    for (const p of r.policies) lines.push(`${p.engine}\t${p.kind}\t${p.namespace ?? '-'}\t${p.name}\t${p.apiVersion}`);
    for (const w of r.warnings) lines.push(`Warning: ${w}`);
    return lines.join('\n');
  });
}
