// Secrets never appear in any output: every command of the executable runs with known credentials
// (a registry password given on stdin and stored by login, a wrong password, registry and cluster
// client keys, cluster bearer tokens in kubeconfigs and from an exec plugin, a wrong token, a signing
// key and COSIGN_PASSWORD, a proxy password in HTTP(S)_PROXY), with --debug, on success and on
// failure, an internal error included; then stdout and stderr of all of them are searched for each
// secret in every encoding.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { runCli, runOk, type CliResult } from '../support/cli.ts';
import { writeKubeconfig } from '../support/cluster.ts';
import { startRegistry, type RunningRegistry } from '../support/registry.ts';
import { kspPolicy, startSmallCluster, type SmallCluster } from './helpers.ts';

let htp: RunningRegistry;
let tls: RunningRegistry;
let small: SmallCluster;
let work: string;
let env: NodeJS.ProcessEnv;

interface Run {
  label: string;
  args: string[];
  input?: string;
  result?: CliResult;
}
const runs: Run[] = [];
const secrets: Array<{ name: string; forms: string[] }> = [];

function stringSecret(name: string, value: string, user?: string): void {
  const forms = [value, Buffer.from(value).toString('base64'), Buffer.from(value).toString('base64url'), encodeURIComponent(value)];
  if (user) forms.push(Buffer.from(`${user}:${value}`).toString('base64'));
  secrets.push({ name, forms: [...new Set(forms)] });
}

async function keySecret(name: string, pemFile: string): Promise<void> {
  const pem = await readFile(pemFile, 'utf8');
  const body = pem.split('\n').filter((l) => l && !l.startsWith('-----'));
  // every line of the key's base64 body, the body as one string, and the PEM as base64 (client-key-data)
  secrets.push({ name, forms: [...body.filter((l) => l.length >= 16), body.join(''), Buffer.from(pem).toString('base64')] });
}

beforeAll(async () => {
  [htp, tls, small] = await Promise.all([startRegistry('htpasswd'), startRegistry('tls', { requireClientCert: true }), startSmallCluster('secrets')]);
  work = await mkdtemp(join(tmpdir(), 'reliability-secrets-'));
  const home = join(work, 'home');
  await mkdir(home);
  const cosignPassword = `cosign-${randomBytes(12).toString('hex')}`;
  // A proxy with a password in every run: loopback servers never go through it (so nothing else
  // changes), and a registry elsewhere does, to a proxy that is not there.
  const proxyPassword = `proxy-${randomBytes(12).toString('hex')}`;
  const proxy = `http://proxyuser:${proxyPassword}@127.0.0.1:9`;
  env = {
    HOME: home, DOCKER_CONFIG: join(home, '.docker'), REGISTRY_AUTH_FILE: join(home, 'auth.json'), XDG_RUNTIME_DIR: home, COSIGN_PASSWORD: cosignPassword, KUBECONFIG: '',
    HTTPS_PROXY: proxy, HTTP_PROXY: proxy, https_proxy: proxy, http_proxy: proxy, NO_PROXY: '', no_proxy: '',
  };

  const c = small.cluster;
  const wrongPassword = `wrong-${randomBytes(12).toString('hex')}`;
  const wrongToken = randomBytes(24).toString('base64url');
  stringSecret('registry password', htp.password!, htp.username);
  stringSecret('wrong registry password', wrongPassword, htp.username);
  stringSecret('cluster admin token', c.adminToken);
  stringSecret('cluster restricted token', c.restrictedToken);
  stringSecret('wrong cluster token', wrongToken);
  stringSecret('COSIGN_PASSWORD', cosignPassword);
  stringSecret('proxy password', proxyPassword, 'proxyuser');
  await keySecret('registry client key', tls.clientCert!.keyFile);
  await keySecret('cluster admin client key', c.adminClientCert.keyFile);
  const signKey = join(work, 'sign.key');
  const signPub = join(work, 'sign.pub');
  execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', signKey], { stdio: 'ignore' });
  execFileSync('openssl', ['pkey', '-in', signKey, '-pubout', '-out', signPub], { stdio: 'ignore' });
  await keySecret('signing key', signKey);
  for (const s of secrets) expect(s.forms.every((f) => f.length >= 16), s.name).toBe(true); // long enough to never match by chance

  const policies = join(work, 'policies');
  await mkdir(policies);
  for (const i of [1, 2]) await writeFile(join(policies, `p${i}.yaml`), stringify(kspPolicy(`secret-test-${i}`, 'm')));
  const deep = join(work, 'deep.json');
  await writeFile(deep, `{"apiVersion":"kyverno.io/v1","kind":"ClusterPolicy","metadata":{"name":"d"},"spec":${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}}`);

  // Kubeconfigs: a token, an exec plugin, the client certificate as files and inline (…-data), a wrong token.
  const pem = async (f: string) => Buffer.from(await readFile(f)).toString('base64');
  const inline = join(work, 'inline-kubeconfig');
  await writeFile(
    inline,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'c', cluster: { server: c.server, 'certificate-authority-data': await pem(c.caFile) } }],
      users: [{ name: 'u', user: { 'client-certificate-data': await pem(c.adminClientCert.certFile), 'client-key-data': await pem(c.adminClientCert.keyFile) } }],
      contexts: [{ name: 'inline', context: { cluster: 'c', user: 'u' } }],
      'current-context': 'inline',
    }),
    { mode: 0o600 },
  );
  const wrong = writeKubeconfig(join(work, 'wrong-kubeconfig'), {
    clusters: [{ name: 'c', server: c.server, caFile: c.caFile }],
    users: [{ name: 'u', token: wrongToken }],
    contexts: [{ name: 'wrong', cluster: 'c', user: 'u' }],
  });
  // Several contexts at once, one of them refused: the per-context errors of a fleet run.
  const fleet = writeKubeconfig(join(work, 'fleet-kubeconfig'), {
    clusters: [{ name: 'c', server: c.server, caFile: c.caFile }],
    users: [
      { name: 'tok', token: c.adminToken },
      { name: 'wrong', token: wrongToken },
    ],
    contexts: [
      { name: 'good', cluster: 'c', user: 'tok' },
      { name: 'wrong', cluster: 'c', user: 'wrong' },
    ],
  });
  const merged = writeKubeconfig(join(work, 'merged-kubeconfig'), {
    clusters: [{ name: 'c', server: c.server, caFile: c.caFile }],
    users: [
      { name: 'tok', token: c.adminToken },
      { name: 'cert', clientCertificate: c.adminClientCert.certFile, clientKey: c.adminClientCert.keyFile },
    ],
    contexts: [
      { name: 'from', cluster: 'c', user: 'tok' },
      { name: 'to', cluster: 'c', user: 'cert' },
    ],
  });

  const H = htp.host;
  const T = tls.host;
  const user = htp.username!;
  const tlsFlags = ['--ca-file', tls.caFile!, '--cert-file', tls.clientCert!.certFile, '--key-file', tls.clientCert!.keyFile];
  const add = (label: string, args: string[], input?: string) => runs.push({ label, args: [...args, '--debug'], ...(input !== undefined ? { input } : {}) });
  add('version', ['version']);
  add('completion', ['completion']);
  add('login, wrong password', ['login', H, '-u', user, '--password-stdin'], `${wrongPassword}\n`);
  add('login, wrong password as a flag', ['login', H, '-u', user, '-p', wrongPassword]);
  add('login', ['login', H, '-u', user, '--password-stdin'], `${htp.password}\n`);
  add('push, stored credentials', ['push', `${H}/sec:v1`, policies]);
  add('push, --password-stdin', ['push', `${H}/sec:v2`, policies, '-u', user, '--password-stdin', '--format', 'json'], htp.password);
  add('push, --password-stdin, wrong password', ['push', `${H}/sec:v3`, policies, '-u', user, '--password-stdin'], wrongPassword);
  add('pull', ['pull', `${H}/sec:v1`, '-o', join(work, 'pulled'), '--format', 'json']);
  add('inspect', ['inspect', `${H}/sec:v1`]);
  add('inspect, json', ['inspect', `${H}/sec:v1`, '--format', 'json']);
  add('tags', ['tags', `${H}/sec`]);
  add('tags, unreachable registry with credentials', ['tags', '127.0.0.1:1/x', '-u', user, '--password-stdin'], htp.password);
  add('tags through a proxy that is not there, with credentials', ['tags', 'registry.policyoci.invalid/x', '-u', user, '--password-stdin', '--debug'], htp.password);
  add('push, mutual TLS', ['push', `${T}/sec:v1`, policies, ...tlsFlags]);
  add('pull, mutual TLS', ['pull', `${T}/sec:v1`, '-o', join(work, 'pulled-tls'), ...tlsFlags]);
  add('tags, TLS without the client certificate', ['tags', `${T}/sec`, '--ca-file', tls.caFile!]);
  add('tags, TLS with a key that does not match the certificate', ['tags', `${T}/sec`, '--ca-file', tls.caFile!, '--cert-file', tls.clientCert!.certFile, '--key-file', c.adminClientCert.keyFile]);
  add('apply, token kubeconfig', ['apply', `${H}/sec:v1`, '--kubeconfig', c.kubeconfigs.token]);
  add('pull --apply, client certificate kubeconfig', ['pull', `${H}/sec:v1`, '--apply', '--kubeconfig', c.kubeconfigs.admin, '--format', 'json']);
  add('apply, inline client key kubeconfig', ['apply', `${H}/sec:v1`, '--kubeconfig', inline]);
  add('apply, wrong token', ['apply', `${H}/sec:v1`, '--kubeconfig', wrong]);
  add('diff, token kubeconfig', ['diff', `${H}/sec:v1`, '--kubeconfig', c.kubeconfigs.token]);
  add('status, token kubeconfig', ['status', `${H}/sec`, '--kubeconfig', c.kubeconfigs.token, '--format', 'json']);
  add('rollback, inline client key kubeconfig, --password-stdin', ['rollback', `${H}/sec`, '--to', 'v1', '--kubeconfig', inline, '-u', user, '--password-stdin'], htp.password);
  add('rollback, wrong token', ['rollback', `${H}/sec`, '--to', 'v1', '--kubeconfig', wrong]);
  add('status, all contexts, one with a wrong token', ['status', `${H}/sec`, '--kubeconfig', fleet, '--all-contexts']);
  add('export, exec plugin kubeconfig', ['export', `${H}/exported:v1`, '--kubeconfig', c.kubeconfigs.exec]);
  add('export, restricted token', ['export', '--output-dir', join(work, 'restricted'), '--kubeconfig', c.kubeconfigs.restricted]);
  add('migrate via the registry', ['migrate', '--kubeconfig', merged, '--from-context', 'from', '--to-context', 'to', '--via', `${H}/migrated:v1`]);
  add('attach', ['attach', `${H}/sec:v1`, policies, '--sign-key', signKey]);
  add('discover', ['discover', `${H}/sec:v1`]);
  add('sign', ['sign', `${H}/sec:v1`, '--key', signKey]);
  add('verify', ['verify', `${H}/sec:v1`, '--key', signPub]);
  add('copy', ['copy', `${H}/sec:v1`, `${H}/copied:v1`]);
  add('flux (a per-layer artifact: read with the credentials, then refused)', ['flux', `${H}/sec:v1`, '-u', user, '--password-stdin'], htp.password);
  add('internal error (exit 70) with credentials', ['push', `${H}/deep:v1`, deep, '-u', user, '--password-stdin'], htp.password);
  add('logout', ['logout', H]);
  add('push after logout', ['push', `${H}/sec:v4`, policies]);
  for (const r of runs) r.result = await runCli(r.args, { env, ...(r.input !== undefined ? { input: r.input } : {}) });
}, 600_000);

afterAll(async () => {
  await Promise.all([htp?.stop(), tls?.stop(), small?.stop()]);
  if (work) await rm(work, { recursive: true, force: true });
});

describe('secrets never appear in any output', () => {
  it('S01 the credentials were really in play: what needs them worked, what lacked them was refused', () => {
    const code = (label: string) => runs.find((r) => r.label === label)!.result!.code;
    const show = (label: string) => JSON.stringify(runs.find((r) => r.label === label)!.result).slice(0, 1500);
    for (const ok of ['login', 'push, stored credentials', 'push, --password-stdin', 'pull', 'push, mutual TLS', 'pull, mutual TLS', 'apply, token kubeconfig', 'pull --apply, client certificate kubeconfig', 'apply, inline client key kubeconfig', 'status, token kubeconfig', 'rollback, inline client key kubeconfig, --password-stdin', 'export, exec plugin kubeconfig', 'logout']) {
      expect(code(ok), show(ok)).toBe(0);
    }
    for (const [failed, exit] of [['login, wrong password', 5], ['push, --password-stdin, wrong password', 5], ['push after logout', 5], ['apply, wrong token', 5], ['rollback, wrong token', 5], ['status, all contexts, one with a wrong token', 9], ['tags, unreachable registry with credentials', 8], ['tags through a proxy that is not there, with credentials', 8]] as const) {
      expect(code(failed), show(failed)).toBe(exit);
    }
    expect(code('tags, TLS without the client certificate')).not.toBe(0);
    // The proxy was in play: named in the message, without its password.
    expect(runs.find((r) => r.label === 'tags through a proxy that is not there, with credentials')!.result!.stderr).toContain('the proxy http://127.0.0.1:9');
    expect(code('internal error (exit 70) with credentials')).not.toBe(0);
  });

  it('S01 every command listed by --help: run with credentials', async () => {
    const help = (await runOk(['--help'])).stdout;
    const commands = [...help.matchAll(/^\s+kubectl policyoci (\w+)/gm)].map((m) => m[1]!);
    expect(commands.length).toBeGreaterThan(10);
    const ran = new Set(runs.map((r) => r.args[0]));
    for (const c of commands) expect(ran, `no secrets run for the command "${c}"`).toContain(c);
  });

  function leaksIn(list: Run[]): string[] {
    const leaks: string[] = [];
    for (const r of list) {
      for (const [stream, text] of [['stdout', r.result!.stdout], ['stderr', r.result!.stderr]] as const) {
        for (const s of secrets) for (const form of s.forms) if (text.includes(form)) leaks.push(`${r.label} (${stream}): the ${s.name}`);
        if (/PRIVATE KEY-----/.test(text)) leaks.push(`${r.label} (${stream}): a PEM private key`);
      }
    }
    return leaks;
  }

  it('S01 every command with --debug, successes and failures, an internal error included: no password, token, key or COSIGN_PASSWORD in any stdout or stderr, in any encoding', () => {
    expect(leaksIn(runs)).toEqual([]);
    process.stderr.write(`secrets: ${runs.length} runs, exit codes: ${runs.map((r) => `${r.label}=${r.result!.code}`).join(', ')}\n`);
  });

  it('S01 control, a secret that is printed (an annotation of a --dry-run manifest): found by the search', async () => {
    const canary = secrets.find((s) => s.name === 'wrong registry password')!.forms[1]!;
    const file = join(work, 'policies', 'p1.yaml');
    const r = await runCli(['push', '--dry-run=client', `${htp.host}/canary:v1`, file, '--annotation', `canary=${canary}`], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(leaksIn([{ label: 'canary', args: [], result: r }])).toEqual(['canary (stdout): the wrong registry password']);
  });
});
