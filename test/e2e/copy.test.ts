// copy with the executable: registry → OCI layout → registry (the air-gapped path) and registry →
// registry, between a registry with the referrers API and one without, both ways; attached
// policies and signatures (ours and cosign's) travel along with --include-referrers.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cosignTag, referrersTag } from '../../src/referrers/tagschema.ts';
import { SIGSTORE_BUNDLE_ARTIFACT_TYPE } from '../../src/signing/bundle-sign.ts';
import { REPO_ROOT, runOk } from '../support/cli.ts';
import { pushTestImage, startTestRegistry, type TestRegistry } from '../support/referrers-registry.ts';
import { runTool } from '../support/tools.ts';

const EXAMPLES = join(REPO_ROOT, 'examples', 'policies');
const COSIGN_ENV = { COSIGN_PASSWORD: 'pw', COSIGN_YES: 'true' };
const POLICY_TYPES = ['application/vnd.cncf.kubearmor.config.v1+json', 'application/vnd.cncf.kyverno.config.v1+json'];

interface Node {
  digest: string;
  artifactType?: string;
  via?: string;
  referrers: Node[];
}

const policyNodes = (nodes: Node[]) => nodes.filter((n) => n.artifactType !== undefined && POLICY_TYPES.includes(n.artifactType));

describe('copy between registries and OCI layouts', () => {
  let api: TestRegistry;
  let noApi: TestRegistry;
  let work: string;
  let ecKey: string;
  let ecPub: string;
  beforeAll(async () => {
    [api, noApi] = await Promise.all([startTestRegistry('ggcr-registry'), startTestRegistry('docker-registry')]);
    work = await mkdtemp(join(tmpdir(), 'copy-'));
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    ecKey = join(work, 'ec.key');
    ecPub = join(work, 'ec.pub');
    await writeFile(ecKey, privateKey.export({ format: 'pem', type: 'pkcs8' }));
    await writeFile(ecPub, publicKey.export({ format: 'pem', type: 'spki' }));
    runTool('cosign', ['generate-key-pair'], { cwd: work, env: COSIGN_ENV });
  });
  afterAll(async () => Promise.all([api?.stop(), noApi?.stop()]));

  /** An image with two signed policy artifacts attached and a cosign signature of its own. */
  async function prepare(reg: TestRegistry, repo: string): Promise<{ ref: string; digest: string }> {
    const ref = `${reg.host}/${repo}:v1`;
    const digest = await pushTestImage(ref, repo);
    await runOk(['attach', ref, join(EXAMPLES, 'kyverno'), join(EXAMPLES, 'kubearmor'), '--sign-key', ecKey]);
    runTool('cosign', ['sign', '--key', join(work, 'cosign.key'), '--tlog-upload=false', '--allow-http-registry', ref], { env: COSIGN_ENV });
    return { ref, digest };
  }

  async function expectComplete(ref: string, digest: string, extra: string[] = []): Promise<void> {
    const tree = JSON.parse((await runOk(['discover', ref, ...extra, '--format', 'json'])).stdout) as { digest: string; referrers: Node[] };
    expect(tree.digest).toBe(digest);
    const policies = policyNodes(tree.referrers);
    expect(policies.map((n) => n.artifactType).sort()).toEqual(POLICY_TYPES);
    // Each attached artifact still carries its signature (a Sigstore bundle referrer, what attach
    // --sign-key writes), and the image its own (cosign v2's tag).
    for (const p of policies) expect(p.referrers.some((s) => s.via === 'referrers' && s.artifactType === SIGSTORE_BUNDLE_ARTIFACT_TYPE)).toBe(true);
    expect(tree.referrers.some((n) => n.via === 'cosign-tag')).toBe(true);
  }

  for (const [fromName, toName] of [
    ['ggcr-registry', 'docker-registry'],
    ['docker-registry', 'ggcr-registry'],
  ] as const) {
    it(`${fromName} → OCI layout → ${toName}, with referrers: policies and signatures travel, digests unchanged`, async () => {
      const from = fromName === 'ggcr-registry' ? api : noApi;
      const to = toName === 'ggcr-registry' ? api : noApi;
      const repo = `air-${fromName.slice(0, 4)}`;
      const { ref, digest } = await prepare(from, repo);
      const layout = join(work, `layout-${fromName}`);

      const out = JSON.parse((await runOk(['copy', ref, '--to-oci-layout', `${layout}:v1`, '--include-referrers', '--format', 'json'])).stdout);
      expect(out.digest).toBe(digest);
      expect(out.tags).toEqual(['v1']);
      const copied = out.referrers as Array<{ digest: string; subject: string; tag?: string; artifactType?: string }>;
      expect(copied.filter((r) => r.artifactType && POLICY_TYPES.includes(r.artifactType)).map((r) => r.subject)).toEqual([digest, digest]);
      expect(copied.some((r) => r.tag === cosignTag(digest, 'sig'))).toBe(true);

      // In the layout: the tag-schema index and cosign tags sit in index.json; we and oras see them.
      const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as { manifests: Array<{ annotations?: Record<string, string> }> };
      const names = index.manifests.map((m) => m.annotations?.['org.opencontainers.image.ref.name']);
      expect(names).toContain('v1');
      expect(names).toContain(referrersTag(digest));
      expect(names).toContain(cosignTag(digest, 'sig'));
      await expectComplete(`${layout}:v1`, digest, ['--oci-layout']);
      const oras = JSON.parse(runTool('oras', ['discover', '--oci-layout', '--format', 'json', `${layout}:v1`])) as { referrers: Node[] };
      expect(policyNodes(oras.referrers).map((n) => n.artifactType).sort()).toEqual(POLICY_TYPES);
      await runOk(['verify', `${layout}:v1`, '--oci-layout', '--key', join(work, 'cosign.pub')]);

      // Layout → the other registry: everything arrives, and verifies with cosign and with us.
      const target = `${to.host}/${repo}-copy:v1`;
      const back = JSON.parse((await runOk(['copy', '--from-oci-layout', `${layout}:v1`, target, '-r', '--format', 'json'])).stdout);
      expect(back.digest).toBe(digest);
      await expectComplete(target, digest);
      const payloads = JSON.parse(runTool('cosign', ['verify', '--key', join(work, 'cosign.pub'), '--insecure-ignore-tlog=true', '--allow-http-registry', target]));
      expect(payloads[0].critical.image['docker-manifest-digest']).toBe(digest);
      const pulled = JSON.parse((await runOk(['pull', target, '--from-referrers', '--verify-key', ecPub, '-o', join(work, `pulled-${fromName}`), '--format', 'json'])).stdout);
      expect(pulled.artifacts).toHaveLength(2);
      expect(pulled.verified).toBe(true);
      // Once more: nothing new to send.
      const again = JSON.parse((await runOk(['copy', '--from-oci-layout', `${layout}:v1`, target, '-r', '--format', 'json'])).stdout);
      expect(again.blobsCopied).toBe(0);
    }, 180_000);
  }

  it('registry → registry directly, with and without referrers', async () => {
    const { ref, digest } = await prepare(noApi, 'direct');
    const plain = JSON.parse((await runOk(['copy', ref, `${api.host}/direct-plain`, '--format', 'json'])).stdout);
    expect(plain).toMatchObject({ digest, tags: ['v1'], referrers: [] });
    const bare = JSON.parse((await runOk(['discover', `${api.host}/direct-plain:v1`, '--format', 'json'])).stdout);
    expect(bare.referrers).toEqual([]);

    const full = JSON.parse((await runOk(['copy', ref, `${api.host}/direct:copied`, '-r', '--format', 'json'])).stdout);
    expect(full.tags).toEqual(['copied']);
    expect(full.blobsCopied).toBeGreaterThan(0);
    await expectComplete(`${api.host}/direct:copied`, digest);
    const oras = JSON.parse(runTool('oras', ['discover', '--plain-http', '--format', 'json', `${api.host}/direct:copied`])) as { referrers: Node[] };
    expect(policyNodes(oras.referrers)).toHaveLength(2);
  }, 180_000);
});
