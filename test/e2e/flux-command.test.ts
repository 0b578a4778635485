// `flux` through the executable against a real registry: what push --bundle writes is what the
// command describes (each engine's manifest digest, printed by push, pinned by flux), what Flux
// cannot take is refused, and the RBAC it prints, applied to a real API server, lets the
// ServiceAccount the Kustomization impersonates write exactly the artifact's policy kinds and
// nothing else. The reconciliation by the real Flux controllers is test/e2e/flux-*.test.ts (H3).
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { generateKeyPair } from '../../src/signing/keys.ts';
import { REPO_ROOT, runCli, runOk, runProcess, type CliResult } from '../support/cli.ts';
import { clusterAgent, kubeRequest, startCluster, type RunningCluster } from '../support/cluster.ts';
import { startRegistry, type RunningRegistry } from '../support/registry.ts';
import { toolPath } from '../support/tools.ts';

const EXAMPLES = join(REPO_ROOT, 'examples', 'policies');
const FLUX_GROUPS = /^(source|kustomize)\.toolkit\.fluxcd\.io\//;
const PASSWORD = randomBytes(12).toString('hex');

interface Item {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: { ref?: Record<string, string>; layerSelector?: { mediaType: string; operation: string }; url?: string; insecure?: boolean; prune?: boolean; serviceAccountName?: string };
}

/** The YAML stream flux printed, parsed with the yaml library (each document without error). */
function yamlItems(result: CliResult): Item[] {
  return parseAllDocuments(result.stdout).map((doc) => {
    expect(doc.errors).toEqual([]);
    return doc.toJS() as Item;
  });
}

describe('kubectl policyoci flux', () => {
  let registry: RunningRegistry;
  let cluster: RunningCluster;
  let work: string;
  let kubectl: (args: string[], input?: string) => Promise<CliResult>;
  const keys = { key: '', pub: '' };

  beforeAll(async () => {
    [registry, cluster] = await Promise.all([startRegistry('open'), startCluster('flux-command')]);
    work = await mkdtemp(join(tmpdir(), 'flux-command-'));
    const pair = await generateKeyPair(PASSWORD);
    keys.key = join(work, 'cosign.key');
    keys.pub = join(work, 'cosign.pub');
    await writeFile(keys.key, pair.privateKey);
    await writeFile(keys.pub, pair.publicKey);
    const env = { ...process.env, KUBECONFIG: cluster.kubeconfigs.admin };
    kubectl = (args, input) => runProcess(toolPath('kubectl'), args, { env, cwd: work, ...(input !== undefined ? { input } : {}) });
  }, 180_000);

  afterAll(async () => {
    await Promise.all([registry?.stop(), cluster?.stop()]);
  });

  it('push --bundle of two engines prints each engine\'s manifest digest; flux pins each engine\'s OCIRepository to it', async () => {
    const ref = `${registry.host}/acme/policies:v1`;
    const pushed = JSON.parse((await runOk(['push', ref, EXAMPLES, '--bundle', '--format', 'json'])).stdout) as { digest: string; engines: Array<{ engine: string; digest: string }> };
    expect(pushed.engines.map((e) => e.engine)).toEqual(['kubearmor', 'kyverno']);
    // The same set again: unchanged, and the text still names each engine's manifest.
    const again = await runOk(['push', ref, EXAMPLES, '--bundle']);
    expect(again.stdout).toMatch(/^unchanged: /);
    for (const e of pushed.engines) expect(again.stdout).toMatch(new RegExp(`^  ${e.engine} +${e.digest}$`, 'm'));

    const result = await runOk(['flux', ref]);
    expect(result.stderr).toMatch(/is an index of 2 engines \(kubearmor, kyverno\) and Flux reads only an index's first manifest/);
    const items = yamlItems(result);
    const repos = items.filter((i) => i.kind === 'OCIRepository');
    expect(repos.map((r) => [r.metadata.name, r.spec?.ref])).toEqual(pushed.engines.map((e) => [`policies-${e.engine}`, { digest: e.digest }]));
    for (const r of repos) {
      expect(r.spec?.url).toBe(`oci://${registry.host}/acme/policies`);
      expect(r.spec?.insecure, 'a loopback registry is reached over plain HTTP, so is it by Flux').toBe(true);
      expect(r.spec?.layerSelector).toEqual({ mediaType: `application/vnd.cncf.${r.metadata.name.replace('policies-', '')}.policy.layer.v1.tar+gzip`, operation: 'extract' });
    }
    expect(items.filter((i) => i.kind === 'Kustomization').map((k) => [k.metadata.name, k.spec?.prune, k.spec?.serviceAccountName])).toEqual([
      ['policies-kubearmor', true, 'policies-kubearmor'],
      ['policies-kyverno', true, 'policies-kyverno'],
    ]);
    // --format json: a v1 List of the same objects.
    expect(JSON.parse((await runOk(['flux', ref, '--format', 'json'])).stdout)).toEqual({ apiVersion: 'v1', kind: 'List', items });
  });

  it('refuses an artifact of one layer per policy (exit 6), telling to push with --bundle; prints nothing', async () => {
    const ref = `${registry.host}/acme/layers:v1`;
    await runOk(['push', ref, join(EXAMPLES, 'kyverno')]);
    const refused = await runCli(['flux', ref]);
    expect(refused.code, refused.stderr).toBe(6);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(/^Error: .*has 4 layers, one per policy: Flux extracts exactly one tar\+gzip layer.*push it with --bundle/m);
    const asJson = await runCli(['flux', ref, '--format', 'json']);
    expect(JSON.parse(asJson.stderr)).toMatchObject({ error: { code: 'UNSAFE_CONTENT', exitCode: 6 } });
  });

  it('--split-engines: each engine\'s artifact by its own tag, followed by tag, RBAC for that engine\'s kinds only', async () => {
    const ref = `${registry.host}/acme/split:v2`;
    await runOk(['push', ref, EXAMPLES, '--bundle', '--split-engines']);
    const kyverno = yamlItems(await runOk(['flux', `${ref}-kyverno`, '--name', 'baseline']));
    expect(kyverno.find((i) => i.kind === 'OCIRepository')?.spec?.ref).toEqual({ tag: 'v2-kyverno' });
    expect(kyverno.filter((i) => i.kind === 'ClusterRole').map((r) => r.metadata.name)).toEqual(['policyoci-flux:flux-system:baseline']);
    expect(JSON.stringify(kyverno)).not.toMatch(/kubearmor/);
  });

  it('--verify-key checks now what Flux will verify: each engine\'s manifest of an index (exit 6 until each is signed)', async () => {
    const ref = `${registry.host}/acme/signed:v1`;
    const pushed = JSON.parse((await runOk(['push', ref, EXAMPLES, '--bundle', '--format', 'json'])).stdout) as { engines: Array<{ engine: string; digest: string }> };
    const env = { env: { COSIGN_PASSWORD: PASSWORD } };
    await runOk(['sign', ref, '--key', keys.key], env);
    // The index is signed, its manifests are not: Flux, pinned to each manifest, would refuse them.
    const unsigned = await runCli(['flux', ref, '--verify-key', keys.pub]);
    expect(unsigned.code, unsigned.stderr).toBe(6);
    expect(unsigned.stdout).toBe('');
    expect(unsigned.stderr).toContain(`Flux would refuse it too; sign it (kubectl policyoci sign ${registry.host}/acme/signed@${pushed.engines[0]!.digest} --key …)`);
    for (const e of pushed.engines) await runOk(['sign', `${registry.host}/acme/signed@${e.digest}`, '--key', keys.key], env);
    const signed = await runOk(['flux', ref, '--verify-key', keys.pub]);
    expect(signed.stderr).toMatch(/Flux verifies the signature of the digest it reconciles, here each engine's manifest/);
    const items = yamlItems(signed);
    const secret = items.find((i) => i.kind === 'Secret') as unknown as { metadata: { name: string }; stringData: Record<string, string> };
    expect(secret.stringData['cosign.pub']).toBe(await readFile(keys.pub, 'utf8'));
    for (const r of items.filter((i) => i.kind === 'OCIRepository')) expect((r.spec as { verify?: unknown }).verify).toEqual({ provider: 'cosign', secretRef: { name: secret.metadata.name } });
  });

  it('--verify-key warns when the only signature is cosign v2\'s .sig, which Flux does not bind to the digest', async () => {
    const ref = `${registry.host}/acme/legacy:v1`;
    await runOk(['push', ref, join(EXAMPLES, 'kyverno'), '--bundle']);
    const env = { env: { COSIGN_PASSWORD: PASSWORD } };
    await runOk(['sign', ref, '--key', keys.key, '--new-bundle-format=false'], env);
    const legacy = await runOk(['flux', ref, '--verify-key', keys.pub]);
    expect(legacy.stderr).toMatch(/is signed with the key only in cosign v2's format \(a \.sig tag\): Flux accepts it, but does not check that such a signature names the digest/);
    await runOk(['sign', ref, '--key', keys.key], env);
    const bundled = await runOk(['flux', ref, '--verify-key', keys.pub]);
    expect(bundled.stderr).not.toMatch(/cosign v2/);
  });

  it('the RBAC, applied to an API server, lets each ServiceAccount write its artifact\'s policy kinds, where they live, and nothing else', async () => {
    const result = await runOk(['flux', `${registry.host}/acme/policies:v1`]);
    // The API server has no Flux CRDs here: the printed YAML documents, as printed, but the Flux objects.
    const rbacDocs = result.stdout.split(/^---\n/m).filter((doc) => doc !== '' && !/^apiVersion: (source|kustomize)\.toolkit\.fluxcd\.io\//m.test(doc));
    const rbac = yamlItems(result).filter((i) => !FLUX_GROUPS.test(i.apiVersion));
    expect(rbacDocs).toHaveLength(rbac.length);
    expect([...new Set(rbac.map((i) => i.kind))]).toEqual(['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'RoleBinding']);
    expect((await kubectl(['create', 'namespace', 'flux-system'])).code).toBe(0);
    const applied = await kubectl(['apply', '-f', '-'], rbacDocs.map((doc) => `---\n${doc}`).join(''));
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout.trim().split('\n')).toHaveLength(rbac.length);

    // A SubjectAccessReview per check (what `kubectl auth can-i --as` asks, without a process each).
    const agent = clusterAgent(cluster);
    const can = async (sa: string, verb: string, resource: string, namespace?: string) => {
      const dot = resource.indexOf('.');
      const review = await kubeRequest(cluster.server, '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
        method: 'POST',
        token: cluster.adminToken,
        dispatcher: agent,
        body: {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SubjectAccessReview',
          spec: {
            user: `system:serviceaccount:flux-system:${sa}`,
            groups: ['system:serviceaccounts', 'system:serviceaccounts:flux-system', 'system:authenticated'],
            resourceAttributes: { verb, resource: dot < 0 ? resource : resource.slice(0, dot), group: dot < 0 ? '' : resource.slice(dot + 1), ...(namespace ? { namespace } : {}) },
          },
        },
      });
      expect(review.status, review.text).toBe(201);
      return (review.json as { status: { allowed: boolean } }).status.allowed;
    };
    const kyverno = 'policies-kyverno';
    const kubearmor = 'policies-kubearmor';
    // [ServiceAccount, verb, resource, namespace, allowed]. What each artifact holds: ClusterPolicy and
    // ValidatingPolicy; KubeArmorHostPolicy and a KubeArmorPolicy in "default".
    const checks: Array<[string, string, string, string | undefined, boolean]> = [
      ...['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'].flatMap((verb): Array<[string, string, string, string | undefined, boolean]> => [
        [kyverno, verb, 'clusterpolicies.kyverno.io', undefined, true],
        [kyverno, verb, 'validatingpolicies.policies.kyverno.io', undefined, true],
      ]),
      [kubearmor, 'create', 'kubearmorhostpolicies.security.kubearmor.com', undefined, true],
      [kubearmor, 'patch', 'kubearmorpolicies.security.kubearmor.com', 'default', true],
      // Not in another namespace, not the other engine's kinds, not a kind the artifact lacks, nothing that is not a policy.
      [kubearmor, 'patch', 'kubearmorpolicies.security.kubearmor.com', 'kube-system', false],
      [kubearmor, 'create', 'clusterpolicies.kyverno.io', undefined, false],
      [kyverno, 'create', 'kubearmorhostpolicies.security.kubearmor.com', undefined, false],
      [kyverno, 'create', 'policies.kyverno.io', 'default', false],
      [kyverno, 'create', 'validatingadmissionpolicies.admissionregistration.k8s.io', undefined, false],
      ...[kyverno, kubearmor].flatMap((sa) =>
        (
          [
            ['secrets', 'default'],
            ['configmaps', 'default'],
            ['deployments.apps', 'default'],
            ['clusterrolebindings.rbac.authorization.k8s.io', undefined],
            ['customresourcedefinitions.apiextensions.k8s.io', undefined],
            ['namespaces', undefined],
          ] as const
        ).map(([resource, namespace]): [string, string, string, string | undefined, boolean] => [sa, 'create', resource, namespace, false]),
      ),
    ];
    const answers = await Promise.all(checks.map(async ([sa, verb, resource, namespace]) => can(sa, verb, resource, namespace)));
    await agent.close();
    expect(checks.map((c, i) => `${c[0]} ${c[1]} ${c[2]}${c[3] ? ` -n ${c[3]}` : ''}: ${answers[i]}`)).toEqual(checks.map((c) => `${c[0]} ${c[1]} ${c[2]}${c[3] ? ` -n ${c[3]}` : ''}: ${c[4]}`));
    // And the API server itself refuses a Secret sent as the ServiceAccount.
    const secret = join(work, 'secret.yaml');
    await writeFile(secret, 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: smuggled\n  namespace: default\nstringData:\n  a: b\n');
    const smuggled = await kubectl(['apply', '--server-side', '-f', secret, `--as=system:serviceaccount:flux-system:${kyverno}`]);
    expect(smuggled.code).not.toBe(0);
    expect(smuggled.stderr).toMatch(/forbidden/i);
  });
});
