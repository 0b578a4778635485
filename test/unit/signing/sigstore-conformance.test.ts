// Sigstore's own conformance cases (sigstore/sigstore-conformance test/assets/bundle-verify, see
// ../shared/fixtures/sigstore-conformance/SOURCE.md) through verifyBundle, each case twice: with
// the artifact's bytes and with only its digest (how an OCI subject is checked). A folder ending in
// `_fail` must be rejected, every other one must verify.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type ArtifactInput, type SignerConstraint, verifyBundle } from '../../../src/signing/sigstore.ts';
import { REPO_ROOT } from '../../support/cli.ts';

const SUITE = join(REPO_ROOT, '..', 'shared', 'fixtures', 'sigstore-conformance', 'bundle-verify');
const DEFAULT_IDENTITY =
  'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main';
const DEFAULT_ISSUER = 'https://token.actions.githubusercontent.com';
const MODES = ['bytes', 'digest'] as const;

interface Case {
  name: string;
  mustFail: boolean;
  bundle: Buffer;
  artifact: Buffer;
  signer: SignerConstraint;
  trustedRoot: object | undefined;
}

function optional(dir: string, file: string): string | undefined {
  const path = join(dir, file);
  return existsSync(path) ? readFileSync(path, 'utf8') : undefined;
}

function loadCase(name: string): Case {
  const dir = join(SUITE, name);
  const key = optional(dir, 'key.pub');
  const root = optional(dir, 'trusted_root.json');
  return {
    name,
    mustFail: name.endsWith('_fail'),
    bundle: readFileSync(join(dir, 'bundle.sigstore.json')),
    artifact: readFileSync(existsSync(join(dir, 'artifact')) ? join(dir, 'artifact') : join(SUITE, 'a.txt')),
    signer: key
      ? { kind: 'key', publicKey: key }
      : { kind: 'keyless', identity: optional(dir, 'identity')?.trim() ?? DEFAULT_IDENTITY, issuer: optional(dir, 'issuer')?.trim() ?? DEFAULT_ISSUER },
    trustedRoot: root === undefined ? undefined : (JSON.parse(root) as object),
  };
}

const cases = readdirSync(SUITE)
  .filter((name) => statSync(join(SUITE, name)).isDirectory())
  .sort()
  .map(loadCase);

const tally = { bytes: { pass: 0, total: 0 }, digest: { pass: 0, total: 0 } };

function artifactInput(c: Case, mode: (typeof MODES)[number]): ArtifactInput {
  return mode === 'bytes' ? { bytes: c.artifact } : { digest: `sha256:${createHash('sha256').update(c.artifact).digest('hex')}` };
}

describe('sigstore conformance: bundle-verify', () => {
  it('has the 70 cases SOURCE.md describes (21 verify, 49 must fail)', () => {
    expect(cases).toHaveLength(70);
    expect(cases.filter((c) => !c.mustFail)).toHaveLength(21);
  });

  for (const mode of MODES) {
    describe(`with the artifact's ${mode}`, () => {
      for (const c of cases) {
        it(`${c.name} ${c.mustFail ? 'is rejected' : 'verifies'}`, () => {
          tally[mode].total++;
          const result = verifyBundle({ bundle: c.bundle, artifact: artifactInput(c, mode), signer: c.signer, trustedRoot: c.trustedRoot });
          expect(result.verified, `${result.failedCheck ?? ''}: ${result.reason ?? 'verified'}`).toBe(!c.mustFail);
          if (result.verified) {
            expect(result.failedCheck).toBeUndefined();
            if (c.signer.kind === 'keyless') expect(result.signer?.identity).toBe(c.signer.identity);
          } else {
            expect(result.reason).toBeTruthy();
          }
          tally[mode].pass++;
        });
      }
    });
  }

  describe('constraints around a happy-path case', () => {
    const happy = cases.find((c) => c.name === 'happy-path-v0.3')!;
    const digest = artifactInput(happy, 'digest');
    const run = (signer: SignerConstraint) => verifyBundle({ bundle: happy.bundle, artifact: digest, signer });

    it('uses the public-good root shipped with @sigstore/tuf and reports the signer', () => {
      const result = run({ kind: 'keyless', identity: /^https:\/\/github\.com\/sigstore-conformance\//, issuer: /actions\.githubusercontent\.com$/ });
      expect(result).toMatchObject({ verified: true, mode: 'keyless', trustedRoot: 'public-good (shipped with @sigstore/tuf)', bundleVersion: 'v0.3' });
      expect(result.signer).toEqual({ identity: DEFAULT_IDENTITY, issuer: DEFAULT_ISSUER });
      expect(result.checked).toEqual(['trusted-root', 'bundle', 'artifact-digest', 'timestamps', 'certificate', 'tlog', 'signature', 'identity', 'issuer']);
    });

    it('refuses the wrong identity or issuer, naming the check', () => {
      expect(run({ kind: 'keyless', identity: `${DEFAULT_IDENTITY}x`, issuer: DEFAULT_ISSUER })).toMatchObject({ verified: false, failedCheck: 'identity' });
      expect(run({ kind: 'keyless', identity: DEFAULT_IDENTITY, issuer: /^https:\/\/accounts\.google\.com$/ })).toMatchObject({ verified: false, failedCheck: 'issuer' });
    });

    it('refuses a certificate bundle checked with a key, and a tampered digest', () => {
      const key = readFileSync(join(SUITE, 'managed-key-happy-path', 'key.pub'), 'utf8');
      expect(run({ kind: 'key', publicKey: key })).toMatchObject({ verified: false, failedCheck: 'bundle' });
      const tampered = verifyBundle({ bundle: happy.bundle, artifact: { digest: `sha256:${'0'.repeat(64)}` }, signer: happy.signer });
      expect(tampered).toMatchObject({ verified: false, failedCheck: 'artifact-digest' });
    });

    it('throws only for a malformed digest argument (a programming error)', () => {
      expect(() => verifyBundle({ bundle: happy.bundle, artifact: { digest: 'sha256:xyz' }, signer: happy.signer })).toThrow(TypeError);
    });
  });

  afterAll(() => {
    const total = tally.bytes.pass + tally.digest.pass;
    // The count is the test's report (stderr, like vitest's own output).
    process.stderr.write(
      `sigstore conformance: ${total}/${tally.bytes.total + tally.digest.total} verdicts as expected ` +
        `(bytes ${tally.bytes.pass}/${tally.bytes.total}, digest ${tally.digest.pass}/${tally.digest.total}; ${cases.length} cases)\n`,
    );
  });
});
