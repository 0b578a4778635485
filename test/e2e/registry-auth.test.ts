// Credentials, token auth and TLS against real registries; secrets never appear in any output.
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runCli, runOk, secretShownIn, type CliResult } from '../support/cli.ts';
import { startRegistry, type RunningRegistry } from '../support/registry.ts';

const POLICY = join(REPO_ROOT, 'examples', 'policies', 'kyverno', 'require-labels.yaml');

describe('htpasswd registry: login, push, logout', () => {
  let reg: RunningRegistry;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    reg = await startRegistry('htpasswd');
    const home = await mkdtemp(join(tmpdir(), 'home-'));
    env = { HOME: home, DOCKER_CONFIG: join(home, '.docker'), REGISTRY_AUTH_FILE: '', XDG_RUNTIME_DIR: home };
  });
  afterAll(async () => reg?.stop());

  it('refuses without credentials, logs in, pushes and pulls, logs out', async () => {
    const results: CliResult[] = [];
    const anonymous = await runCli(['push', `${reg.host}/auth:v1`, POLICY], { env });
    results.push(anonymous);
    expect(anonymous.code).toBe(5);
    expect(anonymous.stderr).toMatch(/login/);

    const wrong = await runCli(['login', reg.host, '-u', reg.username!, '--password-stdin'], { env, input: 'not-the-password\n' });
    results.push(wrong);
    expect(wrong.code).toBe(5);

    results.push(await runOk(['login', reg.host, '-u', reg.username!, '--password-stdin'], { env, input: `${reg.password}\n` }));
    const config = JSON.parse(await readFile(join(env.DOCKER_CONFIG!, 'config.json'), 'utf8'));
    expect(Buffer.from(config.auths[reg.host].auth, 'base64').toString()).toBe(`${reg.username}:${reg.password}`);

    results.push(await runOk(['push', `${reg.host}/auth:v1`, POLICY], { env }));
    results.push(await runOk(['pull', `${reg.host}/auth:v1`, '-o', join(env.HOME!, 'out'), '--format', 'json'], { env }));
    results.push(await runOk(['tags', `${reg.host}/auth`, '--debug'], { env }));
    results.push(await runOk(['logout', reg.host], { env }));
    const after = await runCli(['tags', `${reg.host}/auth`], { env });
    results.push(after);
    expect(after.code).toBe(5);
    expect(secretShownIn(results, reg.password!)).toEqual([]);
  });

  it('takes --username with --password-stdin on any command', async () => {
    const home = await mkdtemp(join(tmpdir(), 'home-'));
    const r = await runOk(['push', `${reg.host}/flags:v1`, POLICY, '-u', reg.username!, '--password-stdin'], { env: { HOME: home, DOCKER_CONFIG: home }, input: reg.password! });
    expect(secretShownIn([r], reg.password!)).toEqual([]);
  });
});

describe('token-auth registry (distribution bearer flow with a real token issuer)', () => {
  let reg: RunningRegistry;
  beforeAll(async () => {
    reg = await startRegistry('token', { readOnlyUser: { username: 'reader', password: 'reader-secret-123' } });
  });
  afterAll(async () => reg?.stop());

  it('pushes many policies with a handful of token requests, and a read-only user cannot push', async () => {
    const home = await mkdtemp(join(tmpdir(), 'home-'));
    const env = { HOME: home, DOCKER_CONFIG: home };
    const before = reg.tokenIssuer!.requestCount;
    const push = await runOk(['push', `${reg.host}/tok:v1`, join(REPO_ROOT, 'examples', 'policies'), '-u', reg.username!, '--password-stdin'], { env, input: reg.password! });
    // One anonymous probe may be answered with an empty token; then one token per scope set.
    expect(reg.tokenIssuer!.requestCount - before).toBeLessThanOrEqual(3);
    const reader = await runCli(['push', `${reg.host}/tok:v2`, POLICY, '-u', 'reader', '--password-stdin'], { env, input: 'reader-secret-123' });
    expect(reader.code).toBe(5);
    const read = await runOk(['inspect', `${reg.host}/tok:v1`, '-u', 'reader', '--password-stdin', '--format', 'json'], { env, input: 'reader-secret-123' });
    expect(JSON.parse(read.stdout).policies.length).toBe(6);
    expect(secretShownIn([push, reader, read], reg.password!)).toEqual([]);
    expect(secretShownIn([reader, read], 'reader-secret-123')).toEqual([]);
  });
});

describe('TLS registry with a test CA', () => {
  let reg: RunningRegistry;
  beforeAll(async () => {
    reg = await startRegistry('tls');
  });
  afterAll(async () => reg?.stop());

  it('needs --ca-file (or --insecure) and then works', async () => {
    const untrusted = await runCli(['push', `${reg.host}/tls:v1`, POLICY]);
    expect(untrusted.code).toBe(8);
    expect(untrusted.stderr).toMatch(/certificate|--ca-file/i);
    await runOk(['push', `${reg.host}/tls:v1`, POLICY, '--ca-file', reg.caFile!]);
    const tags = await runOk(['tags', `${reg.host}/tls`, '--insecure']);
    expect(tags.stdout.trim()).toBe('v1');
  });
});
