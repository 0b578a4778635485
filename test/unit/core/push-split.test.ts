// Where a split push (one artifact per engine) puts each engine's artifact.
import { describe, expect, it } from 'vitest';
import { engineReference } from '../../../src/core/push.ts';

describe('engineReference', () => {
  it('adds -<engine> to every tag; no tag is latest', () => {
    expect(engineReference('localhost:5000/policies:v1', 'kyverno')).toBe('localhost:5000/policies:v1-kyverno');
    expect(engineReference('oci://ghcr.io/acme/p:v1,latest', 'kubearmor')).toBe('ghcr.io/acme/p:v1-kubearmor,latest-kubearmor');
    expect(engineReference('ghcr.io/acme/p', 'kyverno')).toBe('ghcr.io/acme/p:latest-kyverno');
    expect(engineReference('./layout:v1', 'kyverno', true)).toBe('./layout:v1-kyverno');
    expect(engineReference('./layout', 'kyverno', true)).toBe('./layout:latest-kyverno');
  });

  it('replaces {engine} wherever it is, in the repository, the tag or a layout directory', () => {
    expect(engineReference('ghcr.io/acme/{engine}-policies:v1', 'kyverno')).toBe('ghcr.io/acme/kyverno-policies:v1');
    expect(engineReference('ghcr.io/acme/p:{engine}-v1,{engine}', 'kubearmor')).toBe('ghcr.io/acme/p:kubearmor-v1,kubearmor');
    expect(engineReference('./out/{engine}:v1', 'kyverno', true)).toBe('./out/kyverno:v1');
  });

  it('refuses a digest: each engine gets a new artifact', () => {
    expect(() => engineReference(`r.io/p@sha256:${'a'.repeat(64)}`, 'kyverno')).toThrow(/give tags, not a digest/);
    expect(() => engineReference(`./l@sha256:${'a'.repeat(64)}`, 'kyverno', true)).toThrow(/give tags, not a digest/);
  });
});
