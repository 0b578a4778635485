// Pins the schemas of built-in policy kinds (plugins/<engine>/openapi/, read by
// scripts/import-crds.mjs): starts the test API server (no CRDs), reads its OpenAPI v3 document of
// each group version an openapi-sourced plugin lists, and keeps the component schemas reachable from
// the plugin's kinds, without `description` keywords. Rerun when the test cluster's Kubernetes changes:
//   node test/support/fetch-openapi-cli.ts && node scripts/import-crds.mjs
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { clusterAgent, kubeRequest, startCluster } from './cluster.ts';
import { REPO_ROOT } from './cli.ts';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
interface Plugin {
  name: string;
  schemaSource?: string;
  kinds: Array<{ kind: string; group: string; versions: string[] }>;
}

const plugins = readdirSync(join(REPO_ROOT, 'plugins'), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => JSON.parse(readFileSync(join(REPO_ROOT, 'plugins', d.name, 'engine.json'), 'utf8')) as Plugin)
  .filter((p) => p.schemaSource === 'openapi');

const cluster = await startCluster('openapi', { installCrds: false });
const agent = clusterAgent(cluster);
try {
  const version = (await kubeRequest(cluster.server, '/version', { token: cluster.adminToken, dispatcher: agent })).json as { gitVersion: string };
  for (const plugin of plugins) {
    const dir = join(REPO_ROOT, 'plugins', plugin.name, 'openapi');
    mkdirSync(dir, { recursive: true });
    const groupVersions = new Set(plugin.kinds.flatMap((k) => k.versions.map((v) => `${k.group}/${v}`)));
    for (const gv of groupVersions) {
      const res = await kubeRequest(cluster.server, `/openapi/v3/apis/${gv}`, { token: cluster.adminToken, dispatcher: agent });
      if (res.status !== 200) throw new Error(`GET /openapi/v3/apis/${gv}: ${res.status} (is ${gv} served? see apiserverArgs in test/support/cluster.ts)`);
      const all = (res.json as { components: { schemas: Record<string, Json> } }).components.schemas;
      const [group, v] = gv.split('/') as [string, string];
      const roots = Object.entries(all)
        .filter(([, s]) => gvks(s).some((g) => g.group === group && g.version === v && plugin.kinds.some((k) => k.kind === g.kind && k.group === group)))
        .map(([name]) => name);
      const keep: Record<string, Json> = {};
      const visit = (name: string): void => {
        if (name in keep) return;
        const s = all[name];
        if (s === undefined) throw new Error(`${gv}: no component ${name}`);
        keep[name] = dropDescriptions(s);
        for (const ref of refs(s)) visit(ref);
      };
      roots.forEach(visit);
      const doc = {
        'x-source': `kube-apiserver ${version.gitVersion} GET /openapi/v3/apis/${gv}, descriptions dropped, components reachable from the plugin's kinds`,
        components: { schemas: Object.fromEntries(Object.keys(keep).sort().map((k) => [k, keep[k]!])) },
      };
      const file = join(dir, `${gv.replace('/', '_')}.json`);
      writeFileSync(file, `${JSON.stringify(doc, null, 1)}\n`);
      process.stderr.write(`wrote ${file} (${roots.join(', ')})\n`);
    }
  }
} finally {
  await agent.close();
  await cluster.stop();
}

function gvks(s: Json): Array<{ group: string; version: string; kind: string }> {
  const g = (s as { 'x-kubernetes-group-version-kind'?: Array<{ group: string; version: string; kind: string }> })['x-kubernetes-group-version-kind'];
  return Array.isArray(g) ? g : [];
}

function refs(s: Json): string[] {
  if (Array.isArray(s)) return s.flatMap(refs);
  if (s === null || typeof s !== 'object') return [];
  return Object.entries(s).flatMap(([k, v]) => (k === '$ref' && typeof v === 'string' ? [v.replace('#/components/schemas/', '')] : refs(v)));
}

/** Drops `description` keywords, never a property that happens to be called "description". */
function dropDescriptions(s: Json): Json {
  if (Array.isArray(s)) return s.map(dropDescriptions);
  if (s === null || typeof s !== 'object') return s;
  const out: Record<string, Json> = {};
  for (const [k, v] of Object.entries(s)) {
    if (k === 'description') continue;
    if (k === 'properties') out[k] = Object.fromEntries(Object.entries(v as Record<string, Json>).map(([p, ps]) => [p, dropDescriptions(ps)]));
    else if (k === 'enum' || k === 'default' || k === 'required') out[k] = v;
    else out[k] = dropDescriptions(v);
  }
  return out;
}
