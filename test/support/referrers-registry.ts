// A registry WITH the OCI 1.1 referrers API for the tests: go-containerregistry's pkg/registry with
// WithReferrersSupport(true) (scripts/tools/build.sh ggcr-registry). It stands in for zot, which
// cannot be built here (the Go module proxy refuses zot's module host: see docs/TOOLS.md).
// Debian's docker-registry (test/support/registry.ts) is the registry WITHOUT the API.
// Note: like zot it answers GET /v2/<repo>/referrers/<digest>; unlike zot it does not send the
// OCI-Subject header on a manifest PUT, so clients must probe (we do; oras falls back to tags).
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { getFreePort, LOOPBACK } from './ports.ts';
import { removeNow, removeOnExit, startManagedProcess, tailFile } from './process.ts';
import { startRegistry } from './registry.ts';
import { toolPath } from './tools.ts';

export interface TestRegistry {
  /** "docker-registry" (no referrers API) or "ggcr-registry" (referrers API). */
  name: 'docker-registry' | 'ggcr-registry';
  referrersApi: boolean;
  host: string;
  url: string;
  logFile: string;
  stop(): Promise<void>;
}

export async function startReferrersRegistry(): Promise<TestRegistry> {
  const bin = toolPath('ggcr-registry');
  const root = await mkdtemp(join(tmpdir(), 'policyoci-ggcr-'));
  removeOnExit(root);
  const blobs = join(root, 'blobs');
  await mkdir(blobs);
  const logFile = join(root, 'registry.log');
  for (let attempt = 1; ; attempt++) {
    await writeFile(logFile, '');
    const port = await getFreePort();
    const host = `${LOOPBACK}:${port}`;
    const url = `http://${host}`;
    const proc = await startManagedProcess(bin, ['-addr', host, '-blobs', blobs], { logFile, cleanupDir: root });
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && proc.isRunning()) {
      try {
        const res = await request(`${url}/v2/`, { headersTimeout: 2000, bodyTimeout: 2000 });
        await res.body.dump();
        if (res.statusCode === 200) {
          return {
            name: 'ggcr-registry',
            referrersApi: true,
            host,
            url,
            logFile,
            async stop() {
              await proc.stop();
              removeNow(root);
            },
          };
        }
      } catch {
        // not listening yet
      }
      await sleep(50);
    }
    await proc.stop();
    if (attempt < 3 && /address already in use/.test(tailFile(logFile))) continue;
    throw new Error(`ggcr-registry did not start on ${url}:\n${tailFile(logFile)}`);
  }
}

/** Both kinds the trust and referrers tests run against. */
export async function startTestRegistry(kind: TestRegistry['name']): Promise<TestRegistry> {
  if (kind === 'ggcr-registry') return startReferrersRegistry();
  const reg = await startRegistry('open');
  return { name: 'docker-registry', referrersApi: false, host: reg.host, url: reg.url, logFile: reg.logFile, stop: () => reg.stop() };
}

export const TEST_REGISTRY_KINDS: ReadonlyArray<TestRegistry['name']> = ['docker-registry', 'ggcr-registry'];

/**
 * Pushes a real (tiny) container image with crane: a docker v2 manifest over one gzip layer and
 * an image config. Returns its digest.
 */
export async function pushTestImage(ref: string, content = 'hello'): Promise<string> {
  const { createTarGz } = await import('../../src/artifact/tarball.ts');
  const dir = await mkdtemp(join(tmpdir(), 'policyoci-image-'));
  removeOnExit(dir);
  const layer = join(dir, 'layer.tar.gz');
  await writeFile(layer, createTarGz([{ path: 'app/hello.txt', content: Buffer.from(`${content}\n`) }]));
  const { execFileSync } = await import('node:child_process');
  const out = execFileSync(toolPath('crane'), ['append', '--insecure', '-f', layer, '-t', ref], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  removeNow(dir);
  const digest = out.slice(out.lastIndexOf('@') + 1);
  if (!/^sha256:[a-f0-9]{64}$/.test(digest)) throw new Error(`crane append printed ${out}`);
  return digest;
}
