// The least any Node program can do to pull an artifact into a directory (the bench's "node floor"):
// one GET of the manifest, a GET per layer (16 at a time, as our pull), each written under its title.
// No digest checks, no parsing beyond the manifest's JSON, no path checks: never use it for anything
// but measuring.
// node floor-pull.cjs HOST/REPO:TAG DIR
'use strict';
const http = require('node:http');
const { mkdirSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const [ref, out] = process.argv.slice(2);
const slash = ref.indexOf('/');
const host = ref.slice(0, slash);
const [repo, tag] = ref.slice(slash + 1).split(':');
const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

function get(path, accept) {
  return new Promise((resolve, reject) => {
    http.get(`http://${host}${path}`, { agent, headers: accept ? { accept } : {} }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => (res.statusCode === 200 ? resolve(Buffer.concat(chunks)) : reject(new Error(`GET ${path}: ${res.statusCode}`))));
    }).on('error', reject);
  });
}

(async () => {
  const manifest = JSON.parse(await get(`/v2/${repo}/manifests/${tag}`, 'application/vnd.oci.image.manifest.v1+json'));
  mkdirSync(out, { recursive: true });
  await Promise.all(manifest.layers.map(async (layer, i) => {
    writeFileSync(join(out, layer.annotations?.['org.opencontainers.image.title'] ?? `layer-${i}`), await get(`/v2/${repo}/blobs/${layer.digest}`));
  }));
  agent.destroy();
})().catch((err) => {
  console.error(err.message);
  process.exit(1);
});
