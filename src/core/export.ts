// export: read the live policies of a cluster (bookkeeping stripped), then either write them as
// files or pack and push them exactly as `push` would.
import { packPolicies, type PackedArtifact } from '../artifact/pack.ts';
import { findKind, loadEngines } from '../engines/index.ts';
import { PolicyOciError } from '../errors.ts';
import type { KubeClient } from '../kube/client.ts';
import { readLivePolicies, type SkippedKind } from '../kube/export.ts';
import { assignFileNames } from '../policy/naming.ts';
import type { KubeObject, PolicyDocument } from '../policy/types.ts';
import { stringifyCanonical } from '../policy/yaml.ts';
import { writeFilesAtomically } from '../util/files.ts';

export interface ExportSelection {
  engines?: string[];
  kinds?: string[];
  namespace?: string;
  labelSelector?: string;
}

export interface LivePolicies {
  context: string;
  server: string;
  documents: PolicyDocument[];
  skipped: SkippedKind[];
}

export async function readCluster(client: KubeClient, selection: ExportSelection): Promise<LivePolicies> {
  const live = await readLivePolicies(client, {
    ...(selection.engines?.length ? { engines: selection.engines } : {}),
    ...(selection.kinds?.length ? { kinds: selection.kinds } : {}),
    ...(selection.namespace ? { namespace: selection.namespace } : {}),
    allNamespaces: !selection.namespace,
    ...(selection.labelSelector ? { labelSelector: selection.labelSelector } : {}),
  });
  const documents = live.objects.map((object, index): PolicyDocument => {
    const found = findKind(object.apiVersion, object.kind);
    if (!found) throw new PolicyOciError('CLUSTER', `the cluster returned ${object.apiVersion}/${object.kind}, which is not a known policy kind`);
    return { object, engine: found.engine.name, source: { file: `${client.contextName}:${object.kind}/${object.metadata.namespace ? `${object.metadata.namespace}/` : ''}${object.metadata.name}`, index } };
  });
  return { context: client.contextName, server: client.server, documents, skipped: live.skipped };
}

export function packLive(live: LivePolicies, options: { bundle?: boolean; annotations?: Record<string, string> }): PackedArtifact {
  if (live.documents.length === 0) {
    throw new PolicyOciError('NOT_FOUND', `no policies found in context ${live.context}${live.skipped.length ? ` (${live.skipped.length} kind(s) could not be read)` : ''}; nothing was pushed`);
  }
  return packPolicies(live.documents, loadEngines(), { bundle: options.bundle ?? false, annotations: options.annotations ?? {} });
}

export async function writeLiveFiles(live: LivePolicies, dir: string, force: boolean): Promise<string[]> {
  const objects: KubeObject[] = live.documents.map((d) => d.object);
  const names = assignFileNames(objects);
  await writeFilesAtomically(dir, objects.map((o, i) => ({ name: names[i]!, content: stringifyCanonical(o) })), { force });
  return names;
}
