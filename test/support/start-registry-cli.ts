// For people (scripts/start-registry.sh) and for the harness test: starts one test registry in the
// foreground, prints where it is and how to log in, and stops it on Ctrl-C / SIGTERM.
//   node test/support/start-registry-cli.ts [open|htpasswd|token|tls] [--json]
import { REGISTRY_KINDS, startRegistry, type RegistryKind } from './registry.ts';

const args = process.argv.slice(2);
const json = args.includes('--json');
const kind = (args.find((arg) => !arg.startsWith('--')) ?? 'open') as RegistryKind;
if (!REGISTRY_KINDS.includes(kind)) {
  process.stderr.write(`usage: start-registry [${REGISTRY_KINDS.join('|')}] [--json]\n`);
  process.exit(2);
}

const registry = await startRegistry(kind);
const info = {
  kind: registry.kind,
  host: registry.host,
  url: registry.url,
  username: registry.username,
  password: registry.password,
  caFile: registry.caFile,
  tokenRealm: registry.tokenIssuer?.realm,
  dataDir: registry.dataDir,
  logFile: registry.logFile,
};
if (json) {
  process.stdout.write(`${JSON.stringify(info)}\n`);
} else {
  for (const [key, value] of Object.entries(info)) {
    if (value !== undefined) process.stdout.write(`${key.padEnd(10)} ${value}\n`);
  }
  process.stderr.write('test registry running; Ctrl-C stops it and removes its data\n');
}

let stopping = false;
const shutdown = (): void => {
  if (stopping) return;
  stopping = true;
  void registry.stop().then(() => process.exit(0));
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
setInterval(() => undefined, 1 << 30);
