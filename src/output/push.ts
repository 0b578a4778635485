// Text for `push`: one summary, or with --dry-run the manifest that would be pushed; with
// --split-engines one line (or manifest) per engine's artifact. Warnings were said on stderr as
// they arose: the last line counts them, so a long list that scrolled by is not missed.
import type { DryRunPush, EngineArtifact, PushResult } from '../core/push.ts';
import { count } from '../util/plural.ts';

export interface PushTextOptions {
  /** False under --quiet: the warnings were not printed, only counted here. */
  warningsShown?: boolean;
}

export function pushText(r: PushResult, options: PushTextOptions = {}): string {
  return [...body(r), ...warningsLine(r.warnings.length, options.warningsShown ?? true)].join('\n');
}

function body(r: PushResult): string[] {
  if ('split' in r) return splitText(r.policies, r.artifacts);
  if (r.dryRun === 'client') return dryRunText(r);
  if (r.unchanged) return [`unchanged: ${r.reference} already points at ${r.digest} (${count(r.policies, 'policy')})`, ...engineDigestLines(r.engines)];
  return [
    `Pushed ${count(r.policies, 'policy')} (${r.engines.map((e) => `${e.engine}: ${e.policies}`).join(', ')}) to ${r.reference}${r.kyvernoFormat ? ' as a Kyverno CEL Policy Bundle 1.0' : ''}`,
    `Uploaded ${r.blobsUploaded} of ${count(r.blobsTotal, 'blob')} (${count(r.bytesUploaded, 'byte')})`,
    `Digest: ${r.digest}`,
    ...engineDigestLines(r.engines),
  ];
}

/**
 * Under an index (several engines), each engine's manifest digest: what pins one engine's policies
 * (REPO@digest; Flux's ref.digest, which cannot pick a child of an index itself).
 */
export function engineDigestLines(engines: ReadonlyArray<{ engine: string; digest: string }>): string[] {
  if (engines.length < 2) return [];
  const width = Math.max(...engines.map((e) => e.engine.length));
  return ['Engine manifests (the index lists them; REPO@digest reads one engine):', ...engines.map((e) => `  ${e.engine.padEnd(width)}  ${e.digest}`)];
}

function dryRunText(r: Omit<DryRunPush, 'warnings'>): string[] {
  // One engine: its manifest; several: the index the tag would point at.
  return [`Would push ${count(r.policies, 'policy')} to ${r.reference} as ${r.digest}${r.kyvernoFormat ? ' (Kyverno CEL Policy Bundle 1.0)' : ''}`, JSON.stringify(r.manifests.length === 1 ? r.manifests[0] : r.manifest, null, 2)];
}

function splitText(policies: number, artifacts: EngineArtifact[]): string[] {
  const lines: string[] = [];
  let uploaded = 0;
  let total = 0;
  let bytes = 0;
  for (const a of artifacts) {
    if (a.dryRun === 'client') {
      lines.push(...dryRunText(a));
      continue;
    }
    const engine = a.engines.map((e) => e.engine).join(', ');
    lines.push(`  ${engine}: ${count(a.policies, 'policy')} to ${a.reference} (${a.digest}${a.unchanged ? ', unchanged' : ''})`);
    uploaded += a.blobsUploaded;
    total += a.blobsTotal;
    bytes += a.bytesUploaded;
  }
  if (artifacts.every((a) => a.dryRun === 'client')) return lines;
  return [`Pushed ${count(policies, 'policy')} as ${count(artifacts.length, 'artifact')}, one per engine:`, ...lines, `Uploaded ${uploaded} of ${count(total, 'blob')} (${count(bytes, 'byte')})`];
}

function warningsLine(n: number, shown: boolean): string[] {
  if (n === 0) return [];
  return [`${count(n, 'warning')} (${shown ? 'printed above, on stderr' : 'not printed under --quiet'}; --format json lists them)`];
}
