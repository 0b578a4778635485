// The least any Node program can do to push N files (the bench's "node floor"): per file one POST
// and one PUT (the requests our push sends), then the config and the manifest; 16 at a time, as our
// push. No reading of YAML, no checks, no retries. It shows how close to oras a Node executable
// can get on this machine at all.
// node floor-push.cjs HOST/REPO:TAG DIR
'use strict';
const http = require('node:http');
const { readdirSync, readFileSync } = require('node:fs');
const { join } = require('node:path');
const { createHash } = require('node:crypto');

const [ref, dir] = process.argv.slice(2);
const slash = ref.indexOf('/');
const host = ref.slice(0, slash);
const [repo, tag] = ref.slice(slash + 1).split(':');
const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

function send(method, path, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(`http://${host}${path}`, { method, agent, headers: { ...headers, 'content-length': body ? body.length : 0 } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode < 300 ? resolve(res) : reject(new Error(`${method} ${path}: ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function pushBlob(bytes) {
  const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  const started = await send('POST', `/v2/${repo}/blobs/uploads/`);
  const location = new URL(started.headers.location, `http://${host}`);
  location.searchParams.set('digest', digest);
  await send('PUT', location.pathname + location.search, bytes, { 'content-type': 'application/octet-stream' });
  return { digest, size: bytes.length };
}

(async () => {
  const names = readdirSync(dir).sort();
  const layers = await Promise.all(names.map(async (name) => ({
    mediaType: 'application/yaml',
    ...(await pushBlob(readFileSync(join(dir, name)))),
    annotations: { 'org.opencontainers.image.title': name },
  })));
  const config = await pushBlob(Buffer.from('{}'));
  const manifest = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', artifactType: 'application/vnd.policyoci.floor.v1', config: { mediaType: 'application/vnd.oci.empty.v1+json', ...config }, layers };
  await send('PUT', `/v2/${repo}/manifests/${tag}`, Buffer.from(JSON.stringify(manifest)), { 'content-type': manifest.mediaType });
  agent.destroy();
})().catch((err) => {
  console.error(err.message);
  process.exit(1);
});
