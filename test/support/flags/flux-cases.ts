// The flags of `flux` that shape the Flux objects it prints (its registry and output flags are the
// generic cases of registry-ops.ts). Each case runs flux without and with the flag against the open
// registry and compares the objects of its --format json List.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { SEED, SEED_NAMESPACE, SEED_OTHER_NAMESPACE, type FlagCase, type FlagContext } from './context.ts';
import { expectExit, json } from './kit.ts';

interface Item {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: Record<string, unknown> & { ref?: Record<string, string>; verify?: Record<string, unknown> };
  subjects?: Array<{ namespace: string }>;
  stringData?: Record<string, string>;
}

const single = new WeakMap<FlagContext, Promise<{ ref: string; repo: string; digest: string }>>();

/** One Kyverno ClusterPolicy pushed with --bundle at tag 1.0.0 and signed (once): a single-engine artifact. */
function singleEngine(ctx: FlagContext): Promise<{ ref: string; repo: string; digest: string }> {
  let made = single.get(ctx);
  if (!made) {
    made = (async () => {
      const repo = ctx.kit.id('flux-single');
      const ref = `${ctx.open.host}/${repo}:1.0.0`;
      const pushed = json<{ digest: string }>(await ctx.kit.ok({ args: ['push', ref, join(ctx.files.policies, 'clusterpolicy-fw-seed-cp-a.yaml'), '--bundle', '--format', 'json'] }), 'push --bundle');
      await ctx.kit.ok({ args: ['sign', ref, '--key', ctx.files.key] }); // for --verify-key, which checks it
      return { ref, repo, digest: pushed.digest };
    })();
    single.set(ctx, made);
  }
  return made;
}

/** flux on REF with `extra`, its items (exit 0 demanded). */
async function items(ctx: FlagContext, ref: string, extra: string[]): Promise<Item[]> {
  const result = await ctx.kit.run({ args: ['flux', ref, '--format', 'json', ...extra] });
  expectExit(result, [0], `flux ${ref} ${extra.join(' ')}`);
  const list = json<{ kind: string; items: Item[] }>(result, 'flux --format json');
  expect(list.kind).toBe('List');
  return list.items;
}

const one = (all: Item[], kind: string): Item => {
  const found = all.filter((i) => i.kind === kind);
  expect(found, `one ${kind}`).toHaveLength(1);
  return found[0]!;
};

/** A case comparing the single-engine artifact's objects without and with `flag`. */
function fluxCase(flag: string, how: string, withArgs: (ctx: FlagContext) => string[], check: (without: Item[], withFlag: Item[], ctx: FlagContext, artifact: { repo: string; digest: string }) => void, base: string[] = []): FlagCase {
  return {
    command: 'flux',
    flag,
    how,
    async run(ctx) {
      const artifact = await singleEngine(ctx);
      check(await items(ctx, artifact.ref, base), await items(ctx, artifact.ref, [...base, ...withArgs(ctx)]), ctx, artifact);
    },
  };
}

/** A keyless case: without the flag the other half of the identity is refused (exit 2); with it, the pair. */
function keylessCase(flag: string, value: string, other: string[], expected: { issuer: string; subject: string }): FlagCase {
  return {
    command: 'flux',
    flag,
    how: `${other[0]} alone: exit 2 (Flux needs identity and issuer); with --${flag}: verify.matchOIDCIdentity [${JSON.stringify(expected)}]`,
    async run(ctx) {
      const artifact = await singleEngine(ctx);
      const alone = await ctx.kit.run({ args: ['flux', artifact.ref, ...other] });
      expectExit(alone, [2], `flux ${other.join(' ')}`);
      const repo = one(await items(ctx, artifact.ref, [...other, `--${flag}`, value]), 'OCIRepository');
      expect(repo.spec?.verify).toEqual({ provider: 'cosign', matchOIDCIdentity: [expected] });
    },
  };
}

export function fluxCases(): FlagCase[] {
  return [
    fluxCase('name', 'objects named after the repository without; --name baseline names OCIRepository, Kustomization and ServiceAccount', () => ['--name', 'baseline'], (without, withFlag, _ctx, artifact) => {
      expect(one(without, 'OCIRepository').metadata.name).toBe(artifact.repo);
      for (const kind of ['OCIRepository', 'Kustomization', 'ServiceAccount']) expect(one(withFlag, kind).metadata.name).toBe('baseline');
      expect(one(withFlag, 'Kustomization').spec?.serviceAccountName).toBe('baseline');
    }),
    fluxCase('namespace', 'objects in flux-system without; with -n gitops there, and the binding names the ServiceAccount there', () => ['-n', 'gitops'], (without, withFlag) => {
      expect(one(without, 'OCIRepository').metadata.namespace).toBe('flux-system');
      expect(one(withFlag, 'OCIRepository').metadata.namespace).toBe('gitops');
      expect(one(withFlag, 'ServiceAccount').metadata.namespace).toBe('gitops');
      expect(one(withFlag, 'ClusterRoleBinding').subjects).toEqual([expect.objectContaining({ namespace: 'gitops' })]);
    }),
    fluxCase('interval', 'interval 10m without; 30s on the OCIRepository and the Kustomization with --interval 30s', () => ['--interval', '30s'], (without, withFlag) => {
      expect(one(without, 'OCIRepository').spec?.interval).toBe('10m');
      expect(one(withFlag, 'OCIRepository').spec?.interval).toBe('30s');
      expect(one(withFlag, 'Kustomization').spec?.interval).toBe('30s');
    }),
    fluxCase('semver', 'ref {tag: 1.0.0} without; ref {semver: ">=1.0.0 <2.0.0"} with', () => ['--semver', '>=1.0.0 <2.0.0'], (without, withFlag) => {
      expect(one(without, 'OCIRepository').spec?.ref).toEqual({ tag: '1.0.0' });
      expect(one(withFlag, 'OCIRepository').spec?.ref).toEqual({ semver: '>=1.0.0 <2.0.0' });
    }),
    fluxCase('pin-digest', 'ref {tag: 1.0.0} without; ref {digest: <the digest push reported>} with', () => ['--pin-digest'], (without, withFlag, _ctx, artifact) => {
      expect(one(without, 'OCIRepository').spec?.ref).toEqual({ tag: '1.0.0' });
      expect(one(withFlag, 'OCIRepository').spec?.ref).toEqual({ digest: artifact.digest });
    }),
    {
      command: 'flux',
      flag: 'target-namespace',
      how: 'seed bundle (an index): RoleBindings in the policies\' namespaces without; with --target-namespace fw-flux only there, and Kustomization targetNamespace',
      async run(ctx) {
        const ref = `${ctx.open.host}/${SEED.bundle}`;
        const without = await items(ctx, ref, []);
        expect([...new Set(without.filter((i) => i.kind === 'RoleBinding').map((i) => i.metadata.namespace))].sort()).toEqual([SEED_NAMESPACE, SEED_OTHER_NAMESPACE].sort());
        expect(without.filter((i) => i.kind === 'Kustomization').every((k) => k.spec?.targetNamespace === undefined)).toBe(true);
        const withFlag = await items(ctx, ref, ['--target-namespace', 'fw-flux']);
        expect([...new Set(withFlag.filter((i) => i.kind === 'RoleBinding').map((i) => i.metadata.namespace))]).toEqual(['fw-flux']);
        expect(withFlag.filter((i) => i.kind === 'Kustomization').map((k) => k.spec?.targetNamespace)).toEqual(['fw-flux', 'fw-flux']);
      },
    },
    fluxCase('pull-secret', 'no secretRef without; OCIRepository secretRef {name: regcred} with', () => ['--pull-secret', 'regcred'], (without, withFlag) => {
      expect(one(without, 'OCIRepository').spec).not.toHaveProperty('secretRef');
      expect(one(withFlag, 'OCIRepository').spec?.secretRef).toEqual({ name: 'regcred' });
    }),
    fluxCase('verify-key', 'no verify and no Secret without; with: a Secret holding the key as cosign.pub and verify {provider: cosign, secretRef} to it', (ctx) => ['--verify-key', ctx.files.pub], (without, withFlag, ctx) => {
      expect(without.some((i) => i.kind === 'Secret')).toBe(false);
      expect(one(without, 'OCIRepository').spec).not.toHaveProperty('verify');
      const secret = one(withFlag, 'Secret');
      expect(secret.stringData?.['cosign.pub']?.trim()).toBe(readFileSync(ctx.files.pub, 'utf8').trim());
      expect(one(withFlag, 'OCIRepository').spec?.verify).toEqual({ provider: 'cosign', secretRef: { name: secret.metadata.name } });
    }),
    fluxCase('verify-secret', 'no verify without; verify {provider: cosign, secretRef: {name: cosign-keys}} with, and no Secret printed', () => ['--verify-secret', 'cosign-keys'], (without, withFlag) => {
      expect(one(without, 'OCIRepository').spec).not.toHaveProperty('verify');
      expect(one(withFlag, 'OCIRepository').spec?.verify).toEqual({ provider: 'cosign', secretRef: { name: 'cosign-keys' } });
      expect(withFlag.some((i) => i.kind === 'Secret')).toBe(false);
    }),
    keylessCase('certificate-identity', 'ci@acme.example', ['--certificate-oidc-issuer', 'https://issuer.example'], { issuer: '^https://issuer\\.example$', subject: '^ci@acme\\.example$' }),
    keylessCase('certificate-identity-regexp', '^https://github.com/acme/', ['--certificate-oidc-issuer', 'https://issuer.example'], { issuer: '^https://issuer\\.example$', subject: '^https://github.com/acme/' }),
    keylessCase('certificate-oidc-issuer', 'https://issuer.example', ['--certificate-identity', 'ci@acme.example'], { issuer: '^https://issuer\\.example$', subject: '^ci@acme\\.example$' }),
    keylessCase('certificate-oidc-issuer-regexp', '^https://issuer\\.', ['--certificate-identity', 'ci@acme.example'], { issuer: '^https://issuer\\.', subject: '^ci@acme\\.example$' }),
  ];
}
