// Push options, completion and mutual TLS, through the executable against real registries.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CORPUS, REPO_ROOT, runCli, runOk } from '../support/cli.ts';
import { startRegistry, type RunningRegistry } from '../support/registry.ts';

const KYVERNO = join(REPO_ROOT, 'examples', 'policies', 'kyverno');

describe('push options against an open registry', () => {
  let reg: RunningRegistry;
  beforeAll(async () => {
    reg = await startRegistry('open');
  });
  afterAll(async () => reg?.stop());

  it('--annotation lands on the manifest and changes the digest; --bundle writes one tar+gzip layer', async () => {
    const plain = JSON.parse((await runOk(['push', `${reg.host}/opt:plain`, KYVERNO, '--format', 'json'])).stdout);
    const annotated = JSON.parse(
      (await runOk(['push', `${reg.host}/opt:annotated`, KYVERNO, '-a', 'org.opencontainers.image.source=https://example.com/p', '--annotation', 'team=platform', '--format', 'json'])).stdout,
    );
    expect(annotated.digest).not.toBe(plain.digest);
    const inspected = JSON.parse((await runOk(['inspect', `${reg.host}/opt:annotated`, '--format', 'json'])).stdout);
    expect(inspected.annotations).toEqual({ 'org.opencontainers.image.source': 'https://example.com/p', team: 'platform' });

    await runOk(['push', `${reg.host}/opt:bundle`, KYVERNO, '--bundle']);
    const bundle = JSON.parse((await runOk(['inspect', `${reg.host}/opt:bundle`, '--format', 'json'])).stdout);
    expect(bundle.manifests[0].layers.map((l: { mediaType: string }) => l.mediaType)).toEqual(['application/vnd.cncf.kyverno.policy.layer.v1.tar+gzip']);
    expect(bundle.policies).toHaveLength(4);
    const bad = await runCli(['push', `${reg.host}/opt:x`, KYVERNO, '--annotation', 'novalue']);
    expect(bad.code).toBe(2);
  });

  it('--skip-validation pushes a policy that fails its schema (and only then)', async () => {
    const file = join(CORPUS, 'bad', 'kubearmor-policy-schema-violations.yaml');
    expect((await runCli(['push', `${reg.host}/skip:v1`, file])).code).toBe(3);
    await runOk(['push', `${reg.host}/skip:v1`, file, '--skip-validation']);
    // Not a policy at all is refused even then.
    const deployment = await runCli(['push', `${reg.host}/skip:v2`, join(CORPUS, 'bad', 'non-policy-deployment.yaml'), '--skip-validation']);
    expect(deployment.code).toBe(3);
  });

  it('prints a bash completion script', async () => {
    const r = await runOk(['completion', 'bash']);
    expect(r.stdout).toContain('complete -F _kubectl_policyoci_complete kubectl-policyoci');
    const words = await runOk(['__complete', 'pu']);
    expect(words.stdout.split('\n').map((l) => l.split('\t')[0])).toEqual(expect.arrayContaining(['push', 'pull']));
  });
});

describe('mutual TLS', () => {
  let reg: RunningRegistry;
  beforeAll(async () => {
    reg = await startRegistry('tls', { requireClientCert: true });
  });
  afterAll(async () => reg?.stop());

  it('needs the client certificate', async () => {
    const policy = join(KYVERNO, 'require-labels.yaml');
    const without = await runCli(['push', `${reg.host}/mtls:v1`, policy, '--ca-file', reg.caFile!]);
    expect(without.code).toBe(8);
    const cert = reg.clientCert!;
    await runOk(['push', `${reg.host}/mtls:v1`, policy, '--ca-file', reg.caFile!, '--cert-file', cert.certFile, '--key-file', cert.keyFile]);
    const key = await readFile(cert.keyFile, 'utf8');
    const r = await runCli(['tags', `${reg.host}/mtls`, '--ca-file', reg.caFile!, '--cert-file', cert.certFile, '--key-file', cert.keyFile, '--debug']);
    expect(r.stdout.trim()).toBe('v1');
    expect(r.stderr + r.stdout).not.toContain(key.split('\n')[1]!);
  });
});
