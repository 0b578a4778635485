// A real forward proxy for tests: Debian's tinyproxy on loopback, optionally asking for Basic
// credentials. Its log names every request it forwarded (absolute-URI GETs for http, CONNECT for
// https), so a test can see which traffic went through it.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { getFreePort, isPortOpen, LOOPBACK } from './ports.ts';
import { removeNow, removeOnExit, startManagedProcess, tailFile } from './process.ts';

export interface RunningProxy {
  /** http://127.0.0.1:PORT, without credentials. */
  url: string;
  /** The URL with the proxy's user and password in it (what HTTPS_PROXY holds). */
  urlWithCredentials: string;
  username?: string;
  password?: string;
  /** The requests it was asked to forward, in order: "CONNECT host:port" or "GET http://…". */
  requests(): Promise<string[]>;
  stop(): Promise<void>;
}

const BINARY = process.env.POLICYOCI_TINYPROXY_BIN ?? 'tinyproxy';
const READY_TIMEOUT_MS = 10_000;

export async function startForwardProxy(options: { username?: string; password?: string } = {}): Promise<RunningProxy> {
  const dir = await mkdtemp(join(tmpdir(), 'policyoci-proxy-'));
  removeOnExit(dir);
  const port = await getFreePort();
  const logFile = join(dir, 'tinyproxy.log');
  const auth = options.username !== undefined && options.password !== undefined ? `BasicAuth ${options.username} ${options.password}\n` : '';
  // No ConnectPort line: CONNECT is allowed to any port (the test registries' ports are random).
  await writeFile(
    join(dir, 'tinyproxy.conf'),
    `Port ${port}\nListen ${LOOPBACK}\nTimeout 60\nLogFile "${logFile}"\nLogLevel Connect\nMaxClients 64\nAllow ${LOOPBACK}\nDisableViaHeader Yes\n${auth}`,
  );
  const proc = await startManagedProcess(BINARY, ['-d', '-c', join(dir, 'tinyproxy.conf')], { logFile: join(dir, 'stdout.log'), cleanupDir: dir });
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!(await isPortOpen(port))) {
    if (!proc.isRunning() || Date.now() > deadline) {
      await proc.stop();
      throw new Error(`tinyproxy did not listen on ${LOOPBACK}:${port}:\n${tailFile(join(dir, 'stdout.log'))}`);
    }
    await sleep(20);
  }
  const url = `http://${LOOPBACK}:${port}`;
  const credentials = auth ? `${encodeURIComponent(options.username!)}:${encodeURIComponent(options.password!)}@` : '';
  return {
    url,
    urlWithCredentials: `http://${credentials}${LOOPBACK}:${port}`,
    ...(auth ? { username: options.username!, password: options.password! } : {}),
    async requests() {
      const log = await readFile(logFile, 'utf8').catch(() => '');
      return [...log.matchAll(/Request \(file descriptor \d+\): (\S+ \S+)/g)].map((m) => m[1]!);
    },
    async stop() {
      await proc.stop();
      removeNow(dir);
    },
  };
}
