// Starts real registries (Debian's docker-registry, distribution 2.8) for the tests: one process per
// call, on its own loopback port and temp dir, killed on stop() or when the test process exits.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { stringify } from 'yaml';
import { createClientCert, createServerCert, createTestCa, type CertPair, type TestCa } from './certs.ts';
import type { TestHost } from './netns.ts';
import { getFreePort, LOOPBACK } from './ports.ts';
import { removeNow, removeOnExit, runCommand, startManagedProcess, tailFile, type ManagedProcess } from './process.ts';
import { startTokenIssuer, type TokenIssuer, type TokenUser } from './token-issuer.ts';

export type RegistryKind = 'open' | 'htpasswd' | 'token' | 'tls';

export const REGISTRY_KINDS: readonly RegistryKind[] = ['open', 'htpasswd', 'token', 'tls'];

export interface RunningRegistry {
  kind: RegistryKind;
  /** "127.0.0.1:PORT", "localhost:PORT" for 'tls' (the certificate's SANs are localhost and 127.0.0.1), or ADDRESS:PORT on a test host */
  host: string;
  /** "http://127.0.0.1:PORT" or "https://localhost:PORT" */
  url: string;
  /** for htpasswd and token */
  username?: string;
  password?: string;
  /** PEM of the test CA, for tls */
  caFile?: string;
  /** The test CA (cert and key), for tls: sign client certificates with `createClientCert(ca, dir)`. */
  ca?: TestCa;
  /** A client certificate signed by the CA, for tls with `requireClientCert`. */
  clientCert?: CertPair;
  /** The token server, for token: `tokenIssuer.requestCount`, `tokenIssuer.realm`. */
  tokenIssuer?: TokenIssuer;
  /** registry storage root */
  dataDir: string;
  /** the registry's stdout and stderr (requests are logged there); removed by stop() */
  logFile: string;
  configFile: string;
  stop(): Promise<void>;
}

export interface StartRegistryOptions {
  /** token only: a user granted `pull` and nothing else (distribution's htpasswd has no authorization). */
  readOnlyUser?: { username: string; password: string };
  /** tls only: the registry requires a client certificate signed by the test CA. */
  requireClientCert?: boolean;
  /** Keep the temp dir after stop() (it is still removed when the test process exits). */
  keepDir?: boolean;
  /**
   * Run on this test host (a network namespace, netns.ts) and name the registry by its address
   * (the proxy tests: clients never send loopback through a proxy). tls: the certificate names it.
   */
  host?: TestHost;
}

const BINARY = process.env.POLICYOCI_REGISTRY_BIN ?? 'docker-registry';
const USERNAME = 'policyoci';
const READY_TIMEOUT_MS = 20_000;
const PORT_ATTEMPTS = 5;

function registryEnv(): NodeJS.ProcessEnv {
  // distribution lets REGISTRY_* variables override the config file: keep the caller's out.
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('REGISTRY_') && !key.startsWith('OTEL_')) env[key] = value;
  }
  return env;
}

interface Prepared {
  auth?: Record<string, unknown>;
  tls?: Record<string, unknown>;
  username?: string;
  password?: string;
  ca?: TestCa;
  clientCert?: CertPair;
  tokenIssuer?: TokenIssuer;
}

async function prepare(kind: RegistryKind, root: string, options: StartRegistryOptions): Promise<Prepared> {
  const password = randomBytes(12).toString('base64url');
  switch (kind) {
    case 'open':
      return {};
    case 'htpasswd': {
      const { stdout } = await runCommand('htpasswd', ['-niB', USERNAME], { input: `${password}\n` });
      const path = join(root, 'htpasswd');
      await writeFile(path, stdout, { mode: 0o600 });
      return { auth: { htpasswd: { realm: 'policyoci-test', path } }, username: USERNAME, password };
    }
    case 'token': {
      const users: TokenUser[] = [{ username: USERNAME, password }];
      if (options.readOnlyUser) users.push({ ...options.readOnlyUser, readOnly: true });
      const tokenIssuer = await startTokenIssuer({ dir: join(root, 'token'), users });
      const auth = {
        token: {
          realm: tokenIssuer.realm,
          service: tokenIssuer.service,
          issuer: tokenIssuer.issuer,
          rootcertbundle: tokenIssuer.rootCertBundle,
        },
      };
      return { auth, username: USERNAME, password, tokenIssuer };
    }
    case 'tls': {
      const dir = join(root, 'tls');
      const ca = await createTestCa(dir);
      const server = await createServerCert(ca, dir, { hosts: ['localhost', '127.0.0.1', ...(options.host ? [options.host.address] : [])] });
      const tls: Record<string, unknown> = { certificate: server.certFile, key: server.keyFile };
      if (!options.requireClientCert) return { tls, ca };
      tls.clientcas = [ca.certFile];
      return { tls, ca, clientCert: await createClientCert(ca, dir) };
    }
  }
}

function configFor(port: number, dataDir: string, prepared: Prepared, address: string): string {
  const config: Record<string, unknown> = {
    version: '0.1',
    log: { level: 'info', formatter: 'text', fields: { service: 'registry' } },
    storage: {
      filesystem: { rootdirectory: dataDir },
      delete: { enabled: true },
      maintenance: { uploadpurging: { enabled: false } },
    },
    http: {
      addr: `${address}:${port}`,
      secret: randomBytes(16).toString('hex'),
      ...(prepared.tls ? { tls: prepared.tls } : {}),
    },
    ...(prepared.auth ? { auth: prepared.auth } : {}),
  };
  return stringify(config);
}

async function waitUntilReady(
  proc: ManagedProcess,
  url: string,
  tls: { ca?: string; cert?: string; key?: string } | undefined,
): Promise<'ready' | 'exited' | 'timeout'> {
  const dispatcher = new Agent({ connect: { ...tls, timeout: 2000 }, keepAliveTimeout: 10 });
  const deadline = Date.now() + READY_TIMEOUT_MS;
  try {
    while (Date.now() < deadline) {
      if (!proc.isRunning()) return 'exited';
      try {
        const res = await request(`${url}/v2/`, { dispatcher, headersTimeout: 2000, bodyTimeout: 2000 });
        await res.body.dump();
        if (res.statusCode === 200 || res.statusCode === 401) return 'ready';
      } catch {
        // not listening yet
      }
      await sleep(50);
    }
  } finally {
    await dispatcher.close();
  }
  return 'timeout';
}

export async function startRegistry(kind: RegistryKind, options: StartRegistryOptions = {}): Promise<RunningRegistry> {
  if (options.readOnlyUser && kind !== 'token') {
    throw new Error(`readOnlyUser needs the 'token' kind: distribution's ${kind} mode cannot restrict a user to pull`);
  }
  if (options.requireClientCert && kind !== 'tls') throw new Error(`requireClientCert needs the 'tls' kind`);
  const root = await mkdtemp(join(tmpdir(), `policyoci-registry-${kind}-`));
  removeOnExit(root);
  const dataDir = join(root, 'data');
  const logFile = join(root, 'registry.log');
  const configFile = join(root, 'config.yml');
  let prepared: Prepared = {};
  try {
    await mkdir(dataDir);
    prepared = await prepare(kind, root, options);
    const tlsClient = prepared.ca
      ? { ca: await readFile(prepared.ca.certFile, 'utf8'), ...(await clientKeyPair(prepared.clientCert)) }
      : undefined;
    for (let attempt = 1; ; attempt++) {
      const port = await getFreePort(); // on a test host every port is free: any number will do
      const hostname = options.host?.address ?? (kind === 'tls' ? 'localhost' : LOOPBACK);
      const host = `${hostname}:${port}`;
      const url = `${kind === 'tls' ? 'https' : 'http'}://${host}`;
      await writeFile(configFile, configFor(port, dataDir, prepared, options.host?.address ?? LOOPBACK));
      await writeFile(logFile, '');
      const proc = await startManagedProcess(BINARY, ['serve', configFile], { logFile, env: registryEnv(), cleanupDir: root, ...(options.host ? { host: options.host } : {}) });
      const state = await waitUntilReady(proc, url, tlsClient);
      if (state === 'timeout') {
        await proc.stop();
        throw new Error(`docker-registry (${kind}) did not answer ${url}/v2/ within ${READY_TIMEOUT_MS} ms:\n${tailFile(logFile)}`);
      }
      if (state === 'exited') {
        const log = tailFile(logFile);
        if (/address already in use/i.test(log) && attempt < PORT_ATTEMPTS) continue;
        throw new Error(`docker-registry (${kind}) exited during startup:\n${log}`);
      }
      return running(kind, host, url, prepared, { dataDir, logFile, configFile, root, proc, keepDir: options.keepDir });
    }
  } catch (error) {
    await prepared.tokenIssuer?.stop();
    removeNow(root);
    throw error;
  }
}

async function clientKeyPair(pair: CertPair | undefined): Promise<{ cert?: string; key?: string }> {
  if (!pair) return {};
  return { cert: await readFile(pair.certFile, 'utf8'), key: await readFile(pair.keyFile, 'utf8') };
}

function running(
  kind: RegistryKind,
  host: string,
  url: string,
  prepared: Prepared,
  state: { dataDir: string; logFile: string; configFile: string; root: string; proc: ManagedProcess; keepDir?: boolean },
): RunningRegistry {
  let stopping: Promise<void> | undefined;
  const registry: RunningRegistry = {
    kind,
    host,
    url,
    dataDir: state.dataDir,
    logFile: state.logFile,
    configFile: state.configFile,
    stop() {
      stopping ??= (async () => {
        await state.proc.stop();
        await prepared.tokenIssuer?.stop();
        if (!state.keepDir) removeNow(state.root);
      })();
      return stopping;
    },
  };
  if (prepared.username !== undefined) registry.username = prepared.username;
  if (prepared.password !== undefined) registry.password = prepared.password;
  if (prepared.ca) {
    registry.ca = prepared.ca;
    registry.caFile = prepared.ca.certFile;
  }
  if (prepared.clientCert) registry.clientCert = prepared.clientCert;
  if (prepared.tokenIssuer) registry.tokenIssuer = prepared.tokenIssuer;
  return registry;
}
