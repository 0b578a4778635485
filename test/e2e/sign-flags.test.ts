// Each flag of sign, verify and discover changes what they do, shown with the executable on a
// registry WITH the referrers API (go-containerregistry's), where the OCI 1.1 signature referrer
// is written. What a layout shows already (depth, artifact types) is in test/unit/signing.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COSIGN_SIG_ARTIFACT_TYPE } from '../../src/oci/mediatypes.ts';
import { runCli, runOk } from '../support/cli.ts';
import { pushTestImage, startTestRegistry, type TestRegistry } from '../support/referrers-registry.ts';

interface Node {
  digest: string;
  artifactType?: string;
  via: string;
  referrers: Node[];
}

const json = async (args: string[]) => JSON.parse((await runOk([...args, '--format', 'json'])).stdout);
const sigReferrers = (tree: { referrers: Node[] }) => tree.referrers.filter((n) => n.artifactType === COSIGN_SIG_ARTIFACT_TYPE);
/** cosign v2's format (.sig tag, and a signature referrer where the API is); the default is a Sigstore bundle. */
const LEGACY = ['--new-bundle-format=false'];

describe('sign, verify and discover flags on a registry with the referrers API', () => {
  let reg: TestRegistry;
  let key: string;
  let pub: string;
  beforeAll(async () => {
    reg = await startTestRegistry('ggcr-registry');
    const work = await mkdtemp(join(tmpdir(), 'sign-flags-'));
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    key = join(work, 'ec.key');
    pub = join(work, 'ec.pub');
    await writeFile(key, privateKey.export({ format: 'pem', type: 'sec1' }));
    await writeFile(pub, publicKey.export({ format: 'pem', type: 'spki' }));
  });
  afterAll(async () => reg?.stop());

  it('sign --new-bundle-format=false: --no-referrer and --referrers-mode tag write the .sig tag only; by default a referrer too, with the signed annotations', async () => {
    const img = `${reg.host}/flags:v1`;
    await pushTestImage(img, 'flags');
    expect((await json(['sign', img, '--key', key, ...LEGACY, '--no-referrer'])).referrer).toBeUndefined();
    expect((await json(['sign', img, '--key', key, ...LEGACY, '--referrers-mode', 'tag'])).referrer).toBeUndefined();
    expect(sigReferrers(await json(['discover', img]))).toHaveLength(0);
    expect((await json(['verify', img, '--key', pub])).signatures.map((s: { source: string }) => s.source)).toEqual(['tag', 'tag']);

    const signed = await json(['sign', img, '--key', key, ...LEGACY, '-a', 'team=platform']);
    expect(signed.referrer).toMatch(/^sha256:/);
    expect(sigReferrers(await json(['discover', img])).map((n) => n.digest)).toEqual([signed.referrer]);
    const verified = await json(['verify', img, '--key', pub]);
    expect(verified.signatures.map((s: { source: string; annotations?: unknown }) => [s.source, s.annotations])).toEqual([
      ['tag', undefined],
      ['tag', undefined],
      ['tag', { team: 'platform' }],
      ['referrer', { team: 'platform' }],
    ]);
    // verify and discover --referrers-mode tag do not ask the API: the referrer is not seen.
    expect((await json(['verify', img, '--key', pub, '--referrers-mode', 'tag'])).signatures).toHaveLength(3);
    const byTag = await json(['discover', img, '--referrers-mode', 'tag']);
    expect(byTag.referrersBy).toBe('tag');
    expect(sigReferrers(byTag)).toHaveLength(0);
  });

  it('sign (default: a Sigstore bundle referrer) is indexed by the API; by the tag schema with --referrers-mode tag; --no-referrer is refused', async () => {
    const img = `${reg.host}/bundle-flags:v1`;
    const digest = await pushTestImage(img, 'bundle-flags');
    const byApi = await json(['sign', img, '--key', key]);
    expect(byApi).toMatchObject({ format: 'sigstore-bundle', indexedBy: 'api' });
    expect(byApi).not.toHaveProperty('indexTag');
    const byTag = await json(['sign', img, '--key', key, '--referrers-mode', 'tag']);
    expect(byTag).toMatchObject({ format: 'sigstore-bundle', indexedBy: 'tag', indexTag: digest.replace(':', '-') });
    // Both are referrers of the image: the API lists every manifest whose subject it is.
    const listed = JSON.parse(await (await request(`${reg.url}/v2/bundle-flags/referrers/${digest}`)).body.text()) as { manifests: Array<{ digest: string }> };
    expect(listed.manifests.map((m) => m.digest).sort()).toEqual([byApi.referrer, byTag.referrer].sort());
    const refused = await runCli(['sign', img, '--key', key, '--no-referrer']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/--no-referrer applies to the legacy format/);
  });

  it('discover --depth and --artifact-type cut the tree; a depth below 1 is refused', async () => {
    const img = `${reg.host}/flags:v1`;
    const referrer = sigReferrers(await json(['discover', img]))[0]!;
    // Something below the first level: a signature of the signature referrer (its own .sig tag).
    await runOk(['sign', `${reg.host}/flags@${referrer.digest}`, '--key', key, ...LEGACY, '--no-referrer']);
    expect(sigReferrers(await json(['discover', img]))[0]!.referrers.map((n) => n.via)).toEqual(['cosign-tag']);
    expect(sigReferrers(await json(['discover', img, '--depth', '1']))[0]!.referrers).toEqual([]);
    // The first level holds the referrer and the image's own .sig tag; the filter keeps the referrer.
    expect((await json(['discover', img])).referrers.map((n: Node) => n.via)).toEqual(['referrers', 'cosign-tag']);
    expect((await json(['discover', img, '--artifact-type', COSIGN_SIG_ARTIFACT_TYPE])).referrers.map((n: Node) => n.via)).toEqual(['referrers']);
    const bad = await runCli(['discover', img, '--depth', '0']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--depth/);
  });
});
