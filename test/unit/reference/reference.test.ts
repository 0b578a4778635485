import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isPolicyOciError } from '../../../src/errors.ts';
import { parseReference, referenceString, registryApiHost } from '../../../src/reference/reference.ts';

const SHA = `sha256:${'a'.repeat(64)}`;
const SHA512 = `sha512:${'b'.repeat(128)}`;

function reasonOf(input: string): string {
  try {
    parseReference(input);
  } catch (err) {
    if (isPolicyOciError(err) && err.code === 'INVALID_REFERENCE') return err.message;
    throw err;
  }
  throw new Error(`"${input}" parsed`);
}

describe('parseReference', () => {
  it.each([
    ['nginx', 'docker.io', 'library/nginx', [], undefined],
    ['docker.io/nginx:1.27', 'docker.io', 'library/nginx', ['1.27'], undefined],
    ['index.docker.io/org/app', 'docker.io', 'org/app', [], undefined],
    ['org/app:v1', 'docker.io', 'org/app', ['v1'], undefined],
    ['localhost:5000/policies:v1', 'localhost:5000', 'policies', ['v1'], undefined],
    ['localhost/policies', 'localhost', 'policies', [], undefined],
    ['oci://ghcr.io/acme/policies/kyverno:v1,latest', 'ghcr.io', 'acme/policies/kyverno', ['v1', 'latest'], undefined],
    [`ghcr.io/acme/p:v1@${SHA}`, 'ghcr.io', 'acme/p', ['v1'], SHA],
    [`127.0.0.1:5000/a/b@${SHA512}`, '127.0.0.1:5000', 'a/b', [], SHA512],
    ['[::1]:5000/repo:tag', '[::1]:5000', 'repo', ['tag'], undefined],
    ['Registry.Example.COM:443/a-b/c__d/e.f:T_1', 'registry.example.com:443', 'a-b/c__d/e.f', ['T_1'], undefined],
    ['myhost:5000', 'docker.io', 'library/myhost', ['5000'], undefined],
  ])('%s', (input, registry, repository, tags, digest) => {
    const ref = parseReference(input);
    expect(ref).toEqual({ registry, repository, tags, raw: input, ...(digest ? { digest } : {}) });
  });

  it.each([
    ['', /empty reference/],
    ['oci://', /empty reference/],
    ['localhost:5000/Policies', /must be lowercase/],
    ['ghcr.io/acme/p:-bad', /bad tag "-bad"/],
    ['ghcr.io/acme/p:v1,', /empty tag/],
    [`ghcr.io/acme/p:${'x'.repeat(129)}`, /bad tag/],
    ['ghcr.io/acme/p@sha256:abc', /bad digest/],
    [`ghcr.io/acme/p@sha256:${'A'.repeat(64)}`, /hex must be lowercase/],
    [`ghcr.io/acme/p@md5:${'a'.repeat(32)}`, /bad digest/],
    ['localhost:5000/', /missing repository/],
    ['localhost:5000', /missing repository/],
    ['ghcr.io', /missing repository/],
    [':v1', /missing repository/],
    ['ghcr.io/acme//p', /empty path component/],
    ['ghcr.io/acme/p_-x', /not allowed/],
    ['bad_host.io:5000/x', /bad registry/],
    [`ghcr.io/${'a'.repeat(250)}`, /longer than 255/],
  ])('rejects %j', (input, reason) => {
    expect(reasonOf(input)).toMatch(reason);
  });

  it('keeps one copy of a repeated tag', () => {
    expect(parseReference('ghcr.io/a:v1,v1,v2').tags).toEqual(['v1', 'v2']);
  });
});

describe('referenceString and registryApiHost', () => {
  it('formats tags, digests and a chosen tag or digest', () => {
    const ref = parseReference(`localhost:5000/p:v1,latest@${SHA}`);
    expect(referenceString(ref)).toBe(`localhost:5000/p:v1,latest@${SHA}`);
    expect(referenceString(ref, 'v2')).toBe('localhost:5000/p:v2');
    expect(referenceString(ref, SHA)).toBe(`localhost:5000/p@${SHA}`);
  });
  it('maps docker.io to its API host only', () => {
    expect(registryApiHost('docker.io')).toBe('registry-1.docker.io');
    expect(registryApiHost('ghcr.io')).toBe('ghcr.io');
  });
});

const component = fc.stringMatching(/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/).filter((s) => s.length <= 30);
const registryArb = fc.oneof(
  fc.constantFrom('docker.io', 'ghcr.io', 'localhost', 'localhost:5000', '127.0.0.1:5000', '[::1]:5000', 'registry.example.com:8443'),
  fc.tuple(fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?$/), fc.constantFrom('io', 'com', 'local')).map(([a, b]) => `${a}.${b}`),
);
const tagArb = fc.stringMatching(/^[\w][\w.-]{0,20}$/);
const digestArb = fc.oneof(
  fc.stringMatching(/^[a-f0-9]{64}$/).map((h) => `sha256:${h}`),
  fc.stringMatching(/^[a-f0-9]{128}$/).map((h) => `sha512:${h}`),
);

describe('property: format → parse → format is stable', () => {
  it('holds for generated valid references', () => {
    fc.assert(
      fc.property(
        registryArb,
        fc.array(component, { minLength: 1, maxLength: 4 }),
        fc.uniqueArray(tagArb, { maxLength: 3 }),
        fc.option(digestArb, { nil: undefined }),
        (registry, parts, tags, digest) => {
          const text = referenceString({ registry, repository: parts.join('/'), tags, digest });
          const parsed = parseReference(text);
          const again = referenceString(parsed);
          expect(parseReference(again)).toEqual({ ...parsed, raw: again });
          expect(parsed.registry).toBe(registry);
          expect(parsed.tags).toEqual(tags);
          expect(parsed.digest).toBe(digest);
          if (registry !== 'docker.io' || parts.length > 1) expect(again).toBe(text);
        },
      ),
      { numRuns: 300 },
    );
  });
});
