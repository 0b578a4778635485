// A test cluster with only the corpus CRDs a test needs (a few seconds, instead of the ~15 s of all
// of them): startCluster without CRDs, then these, applied and waited for until served.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseAllDocuments } from 'yaml';
import { clusterAgent, corpusCrds, kubeRequest, type CorpusCrd, type RunningCluster } from './cluster.ts';

/** What a test needs of a CRD to install it and wait until it is served. */
export type Crd = Pick<CorpusCrd, 'name' | 'group' | 'plural' | 'servedVersions' | 'object'>;

/** The CRDs of the .yaml files of `dir` that `only` keeps (controllers' CRDs build.sh keeps beside them), other documents skipped. */
export function crdsInDirectory(dir: string, only: (file: string) => boolean = () => true): Crd[] {
  const crds: Crd[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml') && only(f)).sort()) {
    for (const doc of parseAllDocuments(readFileSync(join(dir, file), 'utf8'))) {
      const object = doc.toJS() as unknown;
      if (typeof object !== 'object' || object === null || Array.isArray(object)) continue;
      const crd = object as Record<string, unknown>;
      if (crd.kind !== 'CustomResourceDefinition') continue;
      const spec = crd.spec as { group: string; names: { plural: string }; versions: { name: string; served: boolean }[] };
      crds.push({
        name: (crd.metadata as { name: string }).name,
        group: spec.group,
        plural: spec.names.plural,
        servedVersions: spec.versions.filter((v) => v.served).map((v) => v.name),
        object: crd,
      });
    }
  }
  return crds;
}

/** Installs the corpus CRDs named (e.g. "clusterpolicies.kyverno.io") and waits until each is served. */
export async function installCorpusCrds(cluster: RunningCluster, names: readonly string[]): Promise<void> {
  const agent = clusterAgent(cluster);
  const api = (path: string, options: { method?: 'PATCH'; body?: unknown; contentType?: string } = {}) => kubeRequest(cluster.server, path, { ...options, token: cluster.adminToken, dispatcher: agent });
  try {
    const crds = corpusCrds().filter((c) => names.includes(c.name));
    const missing = names.filter((n) => !crds.some((c) => c.name === n));
    if (missing.length) throw new Error(`no corpus CRD named ${missing.join(', ')}`);
    for (const crd of crds) {
      const res = await api(`/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.name}?fieldManager=test-setup&force=true`, { method: 'PATCH', body: crd.object, contentType: 'application/apply-patch+yaml' });
      if (res.status !== 200 && res.status !== 201) throw new Error(`CRD ${crd.name}: ${res.status} ${res.text.slice(0, 300)}`);
    }
    for (const crd of crds) {
      const path = `/apis/${crd.group}/${crd.servedVersions[0]}/${crd.plural}?limit=1`;
      const deadline = Date.now() + 60_000;
      while ((await api(path)).status !== 200) {
        if (Date.now() > deadline) throw new Error(`${crd.name} is not served`);
        await sleep(100);
      }
    }
  } finally {
    await agent.close();
  }
}
