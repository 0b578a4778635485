import { describe, expect, it } from 'vitest';
import { buildReferrersIndex, cosignTag, filterByArtifactType, mergeReferrer, parseReferrersIndex, referrerDescriptor, referrersTag, unionReferrers } from '../../../src/referrers/tagschema.ts';

const d = (n: number, artifactType?: string) => ({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${String(n).repeat(64).slice(0, 64)}`, size: n, ...(artifactType ? { artifactType } : {}) });

describe('referrers tag schema', () => {
  it('names tags as the distribution spec and cosign do', () => {
    expect(referrersTag(`sha256:${'ab'.repeat(32)}`)).toBe(`sha256-${'ab'.repeat(32)}`);
    expect(cosignTag(`sha256:${'ab'.repeat(32)}`, 'sig')).toBe(`sha256-${'ab'.repeat(32)}.sig`);
    expect(referrersTag(`sha512:${'c'.repeat(128)}`)).toHaveLength(128);
    expect(() => referrersTag('latest')).toThrow(/malformed digest/);
  });

  it('takes artifactType from the manifest, else its config media type', () => {
    expect(referrerDescriptor(d(1), { artifactType: 'a/b', config: { mediaType: 'c/d', digest: '', size: 0 } }).artifactType).toBe('a/b');
    expect(referrerDescriptor(d(1), { config: { mediaType: 'c/d', digest: '', size: 0 }, annotations: { k: 'v' } })).toMatchObject({ artifactType: 'c/d', annotations: { k: 'v' } });
  });

  it('merges without dropping entries, and filters by artifact type', () => {
    const merged = mergeReferrer([d(1), d(2)], d(3));
    expect(merged.map((x) => x.size)).toEqual([1, 2, 3]);
    expect(mergeReferrer(merged, { ...d(2), annotations: { x: 'y' } })).toHaveLength(3);
    expect(unionReferrers([d(1), d(2)], [d(2), d(4)]).map((x) => x.size)).toEqual([1, 2, 4]);
    const index = buildReferrersIndex([d(1, 't1'), d(2, 't2')]);
    const parsed = parseReferrersIndex(index.content, 'x');
    expect(filterByArtifactType(parsed, ['t2']).map((x) => x.size)).toEqual([2]);
    expect(filterByArtifactType(parsed, undefined)).toHaveLength(2);
    expect(() => parseReferrersIndex(Buffer.from('{"manifests":3}'), 'bad')).toThrow(/not an image index/);
  });
});
