// Issue 13, the registry side of "the first fifteen minutes": success with nothing done (3),
// authentication messages and prompting (8), transport (9), references and progress counts (10),
// flag values (11) and the -v/--verbose HTTP trace (12). All through the executable, against
// real registries (docker-registry: open, htpasswd, token, TLS), a real web server that is not a
// registry, and on a real terminal where the item is about terminals.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair } from '../../src/signing/keys.ts';
import { REPO_ROOT, runCli, runOk, type CliResult } from '../support/cli.ts';
import { getFreePort } from '../support/ports.ts';
import { pushTestImage } from '../support/referrers-registry.ts';
import { startRegistry, type RunningRegistry } from '../support/registry.ts';
import { startRelayOnBadPort, startWebServer, WEB_PAGE_TITLE, type RunningServer } from '../support/servers.ts';
import { runInTerminal } from '../support/terminal.ts';

const EXAMPLES = join(REPO_ROOT, 'examples', 'policies');
const KYVERNO_POLICY = join(EXAMPLES, 'kyverno', 'require-labels.yaml');

let open: RunningRegistry;
let web: RunningServer;
let work: string;

beforeAll(async () => {
  [open, web] = await Promise.all([startRegistry('open'), startWebServer()]);
  work = await mkdtemp(join(tmpdir(), 'first-minutes-'));
  await runOk(['push', `${open.host}/policies:v1`, EXAMPLES]);
  await runOk(['push', `${open.host}/kyverno-only:v1`, KYVERNO_POLICY]);
}, 120_000);
afterAll(async () => Promise.all([open?.stop(), web?.stop()]));

/** A home without credentials, so nothing of the machine's docker config leaks in. */
async function cleanHome(): Promise<NodeJS.ProcessEnv> {
  const home = await mkdtemp(join(tmpdir(), 'home-'));
  return { HOME: home, DOCKER_CONFIG: join(home, '.docker'), REGISTRY_AUTH_FILE: '', XDG_RUNTIME_DIR: home };
}

/** The one `Error:` line (indented lines under it, such as a usage hint, are not counted). */
function oneErrorLine(r: CliResult): string {
  const lines = r.stderr.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('Warning:') && !l.startsWith('  '));
  expect(lines.length, r.stderr).toBe(1);
  expect(lines[0]).toMatch(/^Error: /);
  return lines[0]!;
}

/** A kubeconfig whose server nothing listens on: apply and diff read it before the artifact. */
async function deadKubeconfig(): Promise<string> {
  const file = join(work, 'dead-kubeconfig');
  const port = await getFreePort();
  await writeFile(
    file,
    `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:${port}"}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n`,
  );
  return file;
}

describe('item 3: nothing done is not a success', () => {
  it('tags of a repository that does not exist fails with exit 4 and a hint', async () => {
    const r = await runCli(['tags', `${open.host}/no-such-repo`]);
    expect(r.code).toBe(4);
    expect(oneErrorLine(r)).toMatch(/repository .*no-such-repo not found.*check the name/);
    expect(r.stdout).toBe('');
  });

  it('tags of an existing repository without tags lists nothing and succeeds', async () => {
    await runOk(['push', `${open.host}/emptied:v1`, KYVERNO_POLICY]);
    const head = await request(`${open.url}/v2/emptied/manifests/v1`, { method: 'HEAD', headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
    await head.body.dump();
    const digest = head.headers['docker-content-digest'] as string;
    const del = await request(`${open.url}/v2/emptied/manifests/${digest}`, { method: 'DELETE' });
    await del.body.dump();
    expect(del.statusCode).toBe(202);
    const r = await runOk(['tags', `${open.host}/emptied`]);
    expect(r.stdout.trim()).toBe('');
    const json = await runOk(['tags', `${open.host}/emptied`, '--format', 'json']);
    expect(JSON.parse(json.stdout).tags).toEqual([]);
  });

  it('tags of a missing OCI layout, or of a directory that is not one, fails with exit 4; an empty layout lists nothing', async () => {
    const missing = await runCli(['tags', '--oci-layout', join(work, 'no-such-layout')]);
    expect(missing.code).toBe(4);
    expect(oneErrorLine(missing)).toMatch(/no OCI image layout at .*no-such-layout: the directory does not exist/);
    const plainDir = join(work, 'plain-dir');
    await mkdir(plainDir, { recursive: true });
    const notLayout = await runCli(['tags', '--oci-layout', plainDir]);
    expect(notLayout.code).toBe(4);
    expect(notLayout.stderr).toMatch(/is not an OCI image layout/);
    const empty = join(work, 'empty-layout');
    await mkdir(empty, { recursive: true });
    await writeFile(join(empty, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    await writeFile(join(empty, 'index.json'), '{"schemaVersion":2,"manifests":[]}');
    expect((await runOk(['tags', '--oci-layout', empty])).stdout.trim()).toBe('');
  });

  it('tags of a server that is not a registry fails with exit 8: "not an OCI registry"', async () => {
    const r = await runCli(['tags', `${web.host}/policies`]);
    expect(r.code).toBe(8);
    expect(oneErrorLine(r)).toMatch(/is not an OCI registry.*GET \/v2\/ answered HTTP 404 \(text\/html\)/);
  });

  it('pull, apply and diff of a container image fail: no policy layers (did you mean --from-referrers?), no directory created', async () => {
    await pushTestImage(`${open.host}/app:v1`);
    const out = join(work, 'image-out');
    const pull = await runCli(['pull', `${open.host}/app:v1`, '-o', out]);
    expect(pull.code).toBe(3);
    expect(oneErrorLine(pull)).toMatch(/no policy layers in .*\/app:v1@sha256:[0-9a-f]{64}: it is not a policy artifact.*did you mean --from-referrers\?/);
    expect(existsSync(out)).toBe(false);
    const kubeconfig = await deadKubeconfig();
    const apply = await runCli(['apply', `${open.host}/app:v1`, '--kubeconfig', kubeconfig, '--dry-run=client']);
    expect(apply.code).toBe(3);
    expect(apply.stderr).toMatch(/no policy layers/);
    expect(apply.stdout).not.toMatch(/created|would be applied/);
    const diff = await runCli(['diff', `${open.host}/app:v1`, '--kubeconfig', kubeconfig]);
    expect(diff.code).toBe(3);
    expect(diff.stderr).toMatch(/no policy layers.*--from-referrers/);
  });

  it('--engine with an unknown engine is a usage error naming the known ones; a known engine the artifact lacks fails', async () => {
    const typo = await runCli(['pull', `${open.host}/policies:v1`, '--engine', 'kyvrno', '-o', join(work, 'typo')]);
    expect(typo.code).toBe(2);
    expect(oneErrorLine(typo)).toMatch(/unknown engine "kyvrno".*kyverno, kubearmor/);
    expect(existsSync(join(work, 'typo'))).toBe(false);
    const absent = await runCli(['pull', `${open.host}/kyverno-only:v1`, '--engine', 'kubearmor', '-o', join(work, 'absent')]);
    expect(absent.code).toBe(4);
    expect(oneErrorLine(absent)).toMatch(/holds no kubearmor policies \(it holds kyverno policies only\)/);
    expect(existsSync(join(work, 'absent'))).toBe(false);
    const one = await runOk(['pull', `${open.host}/policies:v1`, '--engine', 'kubearmor', '-o', join(work, 'one'), '--format', 'json']);
    expect(JSON.parse(one.stdout).files.map((f: { engine: string }) => f.engine)).toEqual(['kubearmor', 'kubearmor']);
  });
});

describe('item 8: authentication says what to fix', () => {
  let htp: RunningRegistry;
  beforeAll(async () => {
    htp = await startRegistry('htpasswd');
  });
  afterAll(async () => htp?.stop());

  it('a wrong password given with -u/--password-stdin does not send the user to `login`', async () => {
    const env = await cleanHome();
    const r = await runCli(['tags', `${htp.host}/x`, '-u', htp.username!, '--password-stdin'], { env, input: 'not-the-password\n' });
    expect(r.code).toBe(5);
    const line = oneErrorLine(r);
    expect(line).toMatch(/rejected the user name or password given with --username and --password-stdin/);
    expect(line).not.toMatch(/login/);
  });

  it('a wrong stored credential names the config file it came from', async () => {
    const env = await cleanHome();
    const config = join(env.DOCKER_CONFIG!, 'config.json');
    await mkdir(env.DOCKER_CONFIG!, { recursive: true });
    await writeFile(config, JSON.stringify({ auths: { [htp.host]: { auth: Buffer.from(`${htp.username}:stale-password`).toString('base64') } } }));
    const r = await runCli(['pull', `${htp.host}/x:v1`, '-o', join(work, 'stale')], { env });
    expect(r.code).toBe(5);
    expect(oneErrorLine(r)).toContain(`rejected the credentials stored for ${htp.host} in ${config}; run \`kubectl policyoci login ${htp.host}\` to replace them`);
  });

  it('login with a wrong password says so, without a hint to log in', async () => {
    const env = await cleanHome();
    const r = await runCli(['login', htp.host, '-u', htp.username!, '--password-stdin'], { env, input: 'wrong\n' });
    expect(r.code).toBe(5);
    expect(oneErrorLine(r)).toMatch(/rejected the user name or password \(HTTP 401/);
    expect(r.stderr).not.toMatch(/run `kubectl policyoci login/);
  });

  it('login -u without a terminal and without --password-stdin stays a usage error', async () => {
    const env = await cleanHome();
    const r = await runCli(['login', htp.host, '-u', htp.username!], { env });
    expect(r.code).toBe(2);
    expect(oneErrorLine(r)).toMatch(/needs a password: use --password-stdin \(there is no terminal to ask on\)/);
  });

  it('login -u on a terminal asks for the password without echoing it, then logs in', async () => {
    const env = await cleanHome();
    const term = runInTerminal(['login', htp.host, '-u', htp.username!], { env });
    await term.waitFor(/Password: /);
    term.type(`${htp.password}\r`);
    const { code, output } = await term.exited;
    expect(code, output).toBe(0);
    expect(output).toMatch(/Login succeeded/);
    expect(output).not.toContain(htp.password);
    const config = JSON.parse(await readFile(join(env.DOCKER_CONFIG!, 'config.json'), 'utf8'));
    expect(Buffer.from(config.auths[htp.host].auth, 'base64').toString()).toBe(`${htp.username}:${htp.password}`);
  });

  it('Ctrl-C at the password prompt stops login (exit 130), stores nothing and gives the terminal back', async () => {
    const env = await cleanHome();
    const term = runInTerminal(['login', htp.host, '-u', htp.username!], { env });
    await term.waitFor(/Password: /);
    term.type('half-typed\x03');
    const { code, output } = await term.exited;
    expect(code, output).toBe(130);
    expect(output).not.toContain('half-typed');
    expect(existsSync(join(env.DOCKER_CONFIG!, 'config.json'))).toBe(false);
  });

  it('login without -u on a terminal asks for both, the user name echoed and the password not', async () => {
    const env = await cleanHome();
    const term = runInTerminal(['login', htp.host], { env });
    await term.waitFor(/Username: /);
    term.type(`${htp.username}\r`);
    await term.waitFor(/Password: /);
    term.type('definitely-wrong\r');
    const { code, output } = await term.exited;
    expect(code, output).toBe(5);
    expect(output).toContain(htp.username);
    expect(output).not.toContain('definitely-wrong');
    expect(output).toMatch(/rejected the user name or password/);
  });

  it('sign with an encrypted key and no COSIGN_PASSWORD says the variable is not set; a wrong one says wrong password', async () => {
    const pair = await generateKeyPair('a-real-password');
    const key = join(work, 'cosign.key');
    await writeFile(key, pair.privateKey);
    const unset = await runCli(['sign', `${open.host}/policies:v1`, '--key', key], { env: { COSIGN_PASSWORD: undefined } });
    expect(unset.code).toBe(5);
    expect(oneErrorLine(unset)).toMatch(/is encrypted and COSIGN_PASSWORD is not set/);
    const wrong = await runCli(['sign', `${open.host}/policies:v1`, '--key', key], { env: { COSIGN_PASSWORD: 'nope' } });
    expect(wrong.code).toBe(5);
    expect(oneErrorLine(wrong)).toMatch(/the password in COSIGN_PASSWORD does not open the key \(a wrong password/);
  });
});

describe('item 9: transport', () => {
  it('--insecure on a plain-HTTP loopback registry uses plain HTTP (as crane does) instead of failing over TLS', async () => {
    const push = await runOk(['push', `${open.host}/insecure:v1`, KYVERNO_POLICY, '--insecure']);
    expect(push.stderr).not.toMatch(/SSL|TLS/);
    expect((await runOk(['tags', `${open.host}/insecure`, '--insecure'])).stdout.trim()).toBe('v1');
    await runOk(['pull', `${open.host}/insecure:v1`, '--insecure', '-o', join(work, 'insecure-out')]);
  });

  it('--insecure still speaks TLS to a TLS registry on loopback (verification skipped)', async () => {
    const tls = await startRegistry('tls');
    try {
      await runOk(['push', `${tls.host}/tls:v1`, KYVERNO_POLICY, '--insecure']);
      expect((await runOk(['tags', `${tls.host}/tls`, '--insecure'])).stdout.trim()).toBe('v1');
      // Without --insecure or a CA the certificate is refused: the fallback never skips TLS by itself.
      const untrusted = await runCli(['tags', `${tls.host}/tls`, '--plain-http=false']);
      expect(untrusted.code).toBe(8);
      expect(untrusted.stderr).toMatch(/certificate.*--ca-file/);
    } finally {
      await tls.stop();
    }
  });

  it('--plain-http=false is honoured on loopback, and a TLS handshake with a plain-HTTP server is one readable line', async () => {
    for (const flags of [['--plain-http=false'], ['--no-plain-http'], ['--plain-http=false', '--insecure']]) {
      const r = await runCli(['tags', `${open.host}/policies`, ...flags]);
      expect(r.code, flags.join(' ')).toBe(8);
      const line = oneErrorLine(r);
      expect(line).toMatch(/the server does not speak TLS \(HTTPS\).*--plain-http/);
      expect(line).not.toMatch(/SSL routines|openssl|[0-9A-F]{16}:error/);
    }
  });

  it('a refused connection asks whether the registry is running and on that port', async () => {
    const port = await getFreePort();
    const r = await runCli(['pull', `127.0.0.1:${port}/policies:v1`, '-o', join(work, 'refused')]);
    expect(r.code).toBe(8);
    expect(oneErrorLine(r)).toMatch(new RegExp(`connection refused.*is the registry running, and listening on 127\\.0\\.0\\.1:${port}\\?`));
  });

  it('push and pull to a web server that is not a registry both say "not an OCI registry" (not HTTP 501, not "not found")', async () => {
    const push = await runCli(['push', `${web.host}/policies:v1`, KYVERNO_POLICY]);
    expect(push.code).toBe(8);
    expect(oneErrorLine(push)).toMatch(/is not an OCI registry/);
    const pull = await runCli(['pull', `${web.host}/policies:v1`, '-o', join(work, 'web-out')]);
    expect(pull.code).toBe(8);
    expect(oneErrorLine(pull)).toMatch(/is not an OCI registry/);
    expect(pull.stderr).not.toMatch(/not found/);
    expect(push.stderr + pull.stderr).not.toContain(WEB_PAGE_TITLE);
  });

  it('a registry on a port Node\'s fetch refuses ("bad ports": 6000, 6665–6669, 10080…) works', async () => {
    const relay = await startRelayOnBadPort(open.host);
    try {
      await runOk(['push', `${relay.host}/badport:v1`, KYVERNO_POLICY]);
      expect((await runOk(['tags', `${relay.host}/badport`])).stdout.trim()).toBe('v1');
      await runOk(['pull', `${relay.host}/badport:v1`, '-o', join(work, 'badport-out')]);
    } finally {
      await relay.stop();
    }
  });
});

describe('item 10: references and progress', () => {
  it('a missing digest is printed repo@sha256:…, a missing tag repo:tag with how to list the tags', async () => {
    const digest = `sha256:${'0'.repeat(64)}`;
    const r = await runCli(['pull', `${open.host}/policies@${digest}`, '-o', join(work, 'nodigest')]);
    expect(r.code).toBe(4);
    expect(oneErrorLine(r)).toContain(`${open.host}/policies@${digest} not found`);
    expect(r.stderr).not.toContain(`policies:${digest}`);
    const tag = await runCli(['inspect', `${open.host}/policies:v404`]);
    expect(tag.code).toBe(4);
    // The manifest is asked for with a GET, so the registry's error code comes with it.
    expect(oneErrorLine(tag)).toContain(`${open.host}/policies:v404 not found (MANIFEST_UNKNOWN); \`kubectl policyoci tags ${open.host}/policies\` lists its tags`);
  });

  it("pull's progress on a terminal counts the layers", async () => {
    // `script` from a pipe gives a terminal of width 0: progress comes as plain lines there.
    const term = runInTerminal(['pull', `${open.host}/policies:v1`, '-o', join(work, 'progress-out')]);
    const { code, output } = await term.exited;
    expect(code, output).toBe(0);
    expect(output).toMatch(/Reading .*policies:v1: \d+\/6 layers/);
  });
});

describe('item 11: flag values', () => {
  it('--concurrency outside 1–256 (0, negative, too large, not whole) is a usage error on every command that has it', async () => {
    for (const value of ['0', '-1', '257', '1.5', 'many']) {
      for (const args of [['push', `${open.host}/c:v1`, KYVERNO_POLICY], ['pull', `${open.host}/policies:v1`, '-o', join(work, 'c')]]) {
        const r = await runCli([...args, `--concurrency=${value}`]);
        expect(r.code, `${args[0]} --concurrency=${value}`).toBe(2);
        expect(oneErrorLine(r)).toBe(`Error: --concurrency takes a whole number from 1 to 256, got "${value}"`);
      }
    }
    await runOk(['pull', `${open.host}/policies:v1`, '-o', join(work, 'c1'), '--concurrency', '1']);
  });
});

describe('item 12: -v/--verbose traces HTTP without credentials', () => {
  it('prints method, URL, status and timing of every request on stderr, stdout untouched', async () => {
    const plain = await runOk(['tags', `${open.host}/policies`]);
    const r = await runOk(['tags', `${open.host}/policies`, '-v']);
    expect(r.stdout).toBe(plain.stdout);
    expect(r.stderr).toMatch(new RegExp(`HTTP GET http://${open.host.replace(/\./g, '\\.')}/v2/policies/tags/list\\?n=1000 -> 200 \\(\\d+ ms\\)`));
    const long = await runOk(['tags', `${open.host}/policies`, '--verbose']);
    expect(long.stderr).toMatch(/HTTP GET .* -> 200/);
    expect((await runOk(['tags', `${open.host}/policies`])).stderr).not.toMatch(/HTTP GET/);
  });

  it('never shows a password, a basic-auth header, a bearer token or an upload state; says which auth scheme was used', async () => {
    const htp = await startRegistry('htpasswd');
    const tok = await startRegistry('token');
    try {
      const env = await cleanHome();
      const b64 = Buffer.from(`${htp.username}:${htp.password}`).toString('base64');
      const push = await runOk(['push', `${htp.host}/trace:v1`, EXAMPLES, '-u', htp.username!, '--password-stdin', '-v'], { env, input: htp.password! });
      expect(push.stderr).toMatch(/HTTP PUT .*\/v2\/trace\/blobs\/uploads\/.*_state=REDACTED.* -> 201 \(\d+ ms, Basic auth\)/);
      expect(push.stderr).toMatch(/-> 401 \(\d+ ms\)/);
      for (const text of [push.stdout, push.stderr]) {
        expect(text).not.toContain(htp.password);
        expect(text).not.toContain(b64);
      }
      const tokPush = await runOk(['push', `${tok.host}/trace:v1`, KYVERNO_POLICY, '-u', tok.username!, '--password-stdin', '-v'], { env, input: tok.password! });
      expect(tokPush.stderr).toMatch(/HTTP GET .*\/token\?.*scope=repository%3Atrace%3A.* -> 200/);
      expect(tokPush.stderr).toMatch(/Bearer auth/);
      expect(tokPush.stderr).not.toContain(tok.password);
      // The tokens the issuer hands out are JWTs: none may appear.
      expect(tokPush.stderr).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}/);
    } finally {
      await Promise.all([htp.stop(), tok.stop()]);
    }
  });
});
