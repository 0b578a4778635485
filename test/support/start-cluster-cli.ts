// For people (scripts/start-cluster.sh): starts one test cluster (etcd + kube-apiserver + the corpus
// CRDs) in the foreground, prints its kubeconfigs, and stops it on Ctrl-C / SIGTERM.
//   node test/support/start-cluster-cli.ts [name] [--json] [--no-crds]
import { join } from 'node:path';
import { startCluster, writeClusterKubeconfig } from './cluster.ts';

const args = process.argv.slice(2);
const json = args.includes('--json');
const installCrds = !args.includes('--no-crds');
const name = args.find((arg) => !arg.startsWith('--')) ?? 'cluster-a';
if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name)) {
  process.stderr.write('usage: start-cluster [name] [--json] [--no-crds]   (name: a DNS label, default cluster-a)\n');
  process.exit(2);
}

const cluster = await startCluster(name, { installCrds });
// Admin credentials in a context named after the cluster, so that two clusters' files can be
// listed together in KUBECONFIG (e.g. for `migrate --from-context old --to-context new`).
const named = writeClusterKubeconfig(cluster, join(cluster.dir, `kubeconfig-${cluster.name}.yaml`), { credentials: 'admin', context: cluster.name });
const info = {
  kubeconfig: named,
  name: cluster.name,
  server: cluster.server,
  caFile: cluster.caFile,
  dir: cluster.dir,
  kubeconfigs: cluster.kubeconfigs,
  logFiles: cluster.logFiles,
  timings: cluster.timings,
};
if (json) {
  process.stdout.write(`${JSON.stringify(info)}\n`);
} else {
  const out: string[] = [
    `cluster    ${cluster.name}`,
    `server     ${cluster.server}`,
    `caFile     ${cluster.caFile}`,
    `dir        ${cluster.dir}`,
    `logs       ${cluster.logFiles.apiserver}`,
    `           ${cluster.logFiles.etcd}`,
    '',
    'kubeconfigs (one context each, named after the user):',
  ];
  for (const [kind, file] of Object.entries(cluster.kubeconfigs)) out.push(`  ${kind.padEnd(11)}${file}`);
  out.push(`  ${'named'.padEnd(11)}${named}   (admin, context "${cluster.name}")`);
  out.push('', '# admin (system:masters, client certificate), context named after the cluster:', `export KUBECONFIG=${named}`);
  out.push('# restricted (get/list clusterpolicies, and kubearmorpolicies in namespace team-a):', `# export KUBECONFIG=${cluster.kubeconfigs.restricted}`);
  process.stdout.write(`${out.join('\n')}\n`);
  process.stderr.write('test cluster running; Ctrl-C stops it and removes its data\n');
}

let stopping = false;
const shutdown = (): void => {
  if (stopping) return;
  stopping = true;
  void cluster.stop().then(() => process.exit(0));
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
setInterval(() => undefined, 1 << 30);
