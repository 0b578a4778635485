// flux: the Flux objects that reconcile one artifact into a cluster — an OCIRepository (source
// controller) and a Kustomization (kustomize controller) per manifest, and a ServiceAccount the
// Kustomization impersonates whose RBAC allows exactly the policy kinds that manifest holds, so the
// GitOps path applies nothing but policies either. Flux extracts ONE layer, chosen by media type,
// from ONE manifest (an index resolves to its first child): the artifact must hold a single
// tar+gzip layer per manifest (push --bundle, or a bundle-1.0 artifact), and an index is taken one
// engine's manifest at a time, pinned by digest. A manifest holding objects of a kind another of its
// objects defines (engine.json dynamicKinds: a kind a controller creates from a definition) gets two
// Kustomizations, since kustomize-controller applies a Kustomization all or nothing and the defined
// kind is unknown until the definition is applied: the second applies only the defined kinds'
// objects, after the first (dependsOn), each leaving out the other's with kustomize delete patches.
import { readArtifact, type ReadManifest, type ReadResult } from '../artifact/unpack.ts';
import { openTarget, type StoreOptions } from '../content/open.ts';
import type { Target } from '../content/types.ts';
import { findKind } from '../engines/index.ts';
import type { EngineDynamicKinds } from '../engines/types.ts';
import { PolicyOciError } from '../errors.ts';
import { parseReference } from '../reference/reference.ts';
import { registryScheme } from '../registry/transport.ts';
import { loadPublicKey, publicKeyPem } from '../signing/keys.ts';
import { count } from '../util/plural.ts';
import { collectWarnings, silentReporter, type Reporter } from './reporter.ts';

/** Flux's API versions this output is written for (source-controller ≥ 1.6, kustomize-controller ≥ 1.0). */
export const FLUX_SOURCE_API = 'source.toolkit.fluxcd.io/v1';
export const FLUX_KUSTOMIZE_API = 'kustomize.toolkit.fluxcd.io/v1';
/** What the impersonated ServiceAccount may do with each policy kind: what server-side apply and prune need. */
export const POLICY_VERBS = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] as const;
/** The retryInterval (at most) of a Kustomization that waits for kinds another one defines. */
export const FLUX_DEFINED_KINDS_RETRY = '30s';
/** Flux's duration pattern (its CRDs' `interval`). */
export const FLUX_DURATION = /^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** How the OCIRepository follows the artifact. */
export type FluxPin = { by: 'reference' } | { by: 'digest' } | { by: 'semver'; range: string };

/** Signature verification by Flux (cosign): a public key (a Secret to make, or one that exists), or keyless identities. */
export type FluxVerify =
  | { keyFile: string }
  | { secretName: string }
  | { keyless: FluxIdentity };

/** cosign's keyless flags: each of identity and issuer exactly or as a regular expression. */
export interface FluxIdentity {
  identity?: string;
  identityRegexp?: string;
  issuer?: string;
  issuerRegexp?: string;
}

export interface FluxOptions {
  reference: string;
  store: StoreOptions;
  /** Namespace of the Flux objects and the ServiceAccount (Flux's own: flux-system). */
  namespace: string;
  /** Base name of the objects (default: the repository's last path component). */
  name?: string;
  /** How often Flux looks at the registry and re-applies (a Flux duration). */
  interval: string;
  pin: FluxPin;
  /** Kustomization.spec.targetNamespace: every namespaced policy goes there. */
  targetNamespace?: string;
  /** A docker-registry Secret Flux pulls with (OCIRepository.spec.secretRef). */
  pullSecret?: string;
  verify?: FluxVerify;
}

export type KubeManifest = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; [k: string]: unknown }; [k: string]: unknown };

/** What `flux` prints: a v1 List (`kubectl apply -f -` takes it as JSON or as the YAML stream of its items). */
export interface FluxResult {
  apiVersion: 'v1';
  kind: 'List';
  items: KubeManifest[];
}

/** One manifest Flux can reconcile: its single tar+gzip layer and the kinds it holds. */
interface FluxUnit {
  name: string;
  engine: string;
  digest: string;
  layerMediaType: string;
  kinds: Array<{ group: string; plural: string; namespaced: boolean; kind: string }>;
  namespaces: string[];
  /** Groups of kinds the manifest also defines (dynamicKinds whose definition it holds): applied by a second Kustomization. */
  definedGroups: string[];
}

const TAR_GZIP = /tar\+gzip$/;

export async function flux(options: FluxOptions, reporter: Reporter = silentReporter): Promise<FluxResult> {
  checkOptions(options);
  if (options.store.ociLayout) throw new PolicyOciError('USAGE', 'Flux reads registries, not OCI image layouts: push the layout to a registry first (copy --from-oci-layout)');
  const ref = parseReference(options.reference);
  if (ref.tags.length > 1) throw new PolicyOciError('USAGE', `give one tag for Flux to follow, not ${ref.tags.length} (${options.reference})`);
  if (options.pin.by === 'semver' && ref.digest) throw new PolicyOciError('USAGE', '--semver picks a tag: give a repository (or a tag), not a digest');
  const verify = options.verify && 'keyFile' in options.verify ? { publicKeyPem: publicKeyPem(await loadPublicKey(options.verify.keyFile)) } : options.verify;
  const opened = await openTarget(options.reference, options.store, { push: false });
  const { warn } = collectWarnings(reporter);
  reporter.progress(`Reading ${opened.display}`);
  const read = await readArtifact(opened.target, opened.reference);
  for (const w of read.warnings) warn(w);
  const source: FluxSource = {
    display: opened.display,
    url: `oci://${ref.registry}/${ref.repository}`,
    ...(ref.digest ? { digest: ref.digest } : { tag: ref.tags[0] ?? 'latest' }),
    insecure: registryScheme(ref.registry, options.store.transport) === 'http',
    read,
  };
  const { reference: _r, store: _s, verify: _v, ...rest } = options;
  const items = fluxObjects(source, { ...rest, ...(verify ? { verify } : {}) }, warn);
  if (options.verify && 'keyFile' in options.verify) {
    // What Flux will verify, checked now: each digest an OCIRepository reconciles (REF's, or each pinned engine's).
    const digests = items.filter((i) => i.kind === 'OCIRepository').map((i) => (i as unknown as { spec: { ref: { digest?: string } } }).spec.ref.digest ?? read.root.digest);
    await requireSignedForFlux(opened.target, `${ref.registry}/${ref.repository}`, digests, options.verify.keyFile, reporter, warn);
  }
  return { apiVersion: 'v1', kind: 'List', items };
}

/**
 * Exit 6 unless each digest has a signature that verifies with the key (Flux would refuse it), and a
 * warning where only cosign v2's `.sig` does: measured with source-controller 1.9.6, Flux never
 * checks that such a payload names the digest it verifies.
 */
async function requireSignedForFlux(target: Target, repository: string, digests: string[], keyFile: string, reporter: Reporter, warn: (message: string) => void): Promise<void> {
  const [{ TrustVerifier }, { requireTrust }] = await Promise.all([import('../signing/trust.ts'), import('./verify.ts')]);
  const verifier = new TrustVerifier({ keyPath: keyFile });
  for (const digest of digests) {
    const at = `${repository}@${digest}`;
    reporter.progress(`Checking the signatures of ${at}`);
    const sign = `kubectl policyoci sign ${at} --key …`;
    let checked;
    try {
      checked = await requireTrust(target, repository, digest, verifier);
    } catch (err) {
      if (!(err instanceof PolicyOciError) || err.code !== 'UNSAFE_CONTENT') throw err;
      throw new PolicyOciError('UNSAFE_CONTENT', `${err.message}: Flux would refuse it too; sign it (${sign}), or give --verify-secret to skip this check`, { details: err.details, cause: err });
    }
    if (!checked.verdicts.some((v) => v.valid && v.format === 'sigstore-bundle')) {
      warn(`${at} is signed with the key only in cosign v2's format (a .sig tag): Flux accepts it, but does not check that such a signature names the digest, so a .sig copied from another artifact signed with the same key passes too; sign it in the default Sigstore bundle format (${sign})`);
    }
  }
}

/** An artifact as read, and where Flux finds it. */
export interface FluxSource {
  /** The reference, for messages. */
  display: string;
  /** oci://registry/repository */
  url: string;
  tag?: string;
  digest?: string;
  /** The registry speaks plain HTTP (Flux's `insecure`). */
  insecure: boolean;
  read: Pick<ReadResult, 'index' | 'manifests' | 'policies'>;
}

export type FluxObjectOptions = Omit<FluxOptions, 'reference' | 'store' | 'verify'> & {
  verify?: { publicKeyPem: string } | Exclude<FluxVerify, { keyFile: string }>;
};

/** The objects for an artifact already read (no I/O): what `flux` prints. */
export function fluxObjects(source: FluxSource, options: FluxObjectOptions, warn: (message: string) => void = () => undefined): KubeManifest[] {
  checkOptions(options);
  const { read, display } = source;
  if (read.policies.length === 0) throw new PolicyOciError('INVALID_INPUT', `${display} holds no policy`);
  const isIndex = read.index !== undefined;
  const baseName = options.name ?? defaultName(source.url.split('/').at(-1) ?? '');
  const units = unitsOf(read.manifests, read.policies, display, isIndex ? (engine) => `${baseName}-${engine}` : () => baseName, options.targetNamespace);
  if (isIndex) {
    if (options.pin.by === 'semver') {
      throw new PolicyOciError('USAGE', `${display} is an index of ${count(units.length, 'engine')} (${units.map((u) => u.engine).join(', ')}): Flux reads only its first manifest, so each engine is pinned by digest and --semver cannot apply; push with --split-engines (one artifact per engine, each tag with -<engine>) and point Flux at each engine's tags`);
    }
    warn(
      `${display} is an index of ${count(units.length, 'engine')} (${units.map((u) => u.engine).join(', ')}) and Flux reads only an index's first manifest: each engine's OCIRepository is pinned to its manifest's digest and will not follow the tag; to follow a tag, push with --split-engines and run flux on each engine's tag`,
    );
    if (options.verify) {
      const repo = source.url.replace(/^oci:\/\//, '');
      warn(`Flux verifies the signature of the digest it reconciles, here each engine's manifest: sign each (${units.map((u) => `sign ${repo}@${u.digest}`).join('; ')}), not only the index`);
    }
  }

  const items: KubeManifest[] = [];
  const keySecret: KubeManifest | undefined =
    options.verify && 'publicKeyPem' in options.verify
      ? { apiVersion: 'v1', kind: 'Secret', metadata: { name: `${baseName}-cosign-pub`, namespace: options.namespace }, type: 'Opaque', stringData: { 'cosign.pub': options.verify.publicKeyPem } }
      : undefined;
  if (keySecret) items.push(keySecret);
  for (const unit of units) {
    const refSpec = isIndex || options.pin.by === 'digest' ? { digest: unit.digest } : options.pin.by === 'semver' ? { semver: options.pin.range } : source.digest ? { digest: source.digest } : { tag: source.tag ?? 'latest' };
    items.push(...rbacFor(unit, options.namespace));
    items.push({
      apiVersion: FLUX_SOURCE_API,
      kind: 'OCIRepository',
      metadata: { name: unit.name, namespace: options.namespace },
      spec: {
        interval: options.interval,
        url: source.url,
        ref: refSpec,
        layerSelector: { mediaType: unit.layerMediaType, operation: 'extract' },
        ...(source.insecure ? { insecure: true } : {}),
        ...(options.pullSecret ? { secretRef: { name: options.pullSecret } } : {}),
        ...(options.verify ? { verify: verifySpec(options.verify, keySecret?.metadata.name) } : {}),
      },
    });
    items.push(...kustomizationsFor(unit, options));
  }
  return items;
}

/**
 * The Kustomization of a manifest, or two when it defines kinds it also holds objects of: the first
 * applies all but those objects, the second only those, once the first is Ready (its dependsOn), and
 * is retried at most FLUX_DEFINED_KINDS_RETRY apart until the defining controller serves the kinds.
 * Both impersonate the manifest's ServiceAccount.
 */
function kustomizationsFor(unit: FluxUnit, options: FluxObjectOptions): KubeManifest[] {
  const kustomization = (name: string, extra: Record<string, unknown>): KubeManifest => ({
    apiVersion: FLUX_KUSTOMIZE_API,
    kind: 'Kustomization',
    metadata: { name, namespace: options.namespace },
    spec: {
      interval: options.interval,
      sourceRef: { kind: 'OCIRepository', name: unit.name },
      path: './',
      prune: true,
      serviceAccountName: unit.name,
      ...(options.targetNamespace ? { targetNamespace: options.targetNamespace } : {}),
      ...extra,
    },
  });
  if (unit.definedGroups.length === 0) return [kustomization(unit.name, {})];
  const otherGroups = [...new Set(unit.kinds.map((k) => k.group))].filter((g) => !unit.definedGroups.includes(g));
  return [
    kustomization(unit.name, { patches: unit.definedGroups.map(deleteGroup) }),
    kustomization(definedKindsName(unit), {
      dependsOn: [{ name: unit.name }],
      retryInterval: durationMs(options.interval) < durationMs(FLUX_DEFINED_KINDS_RETRY) ? options.interval : FLUX_DEFINED_KINDS_RETRY,
      patches: otherGroups.map(deleteGroup),
    }),
  ];
}

/** The second Kustomization's name: the manifest's, and the first label of each defined kinds' group ("…-constraints"). */
function definedKindsName(unit: FluxUnit): string {
  return `${unit.name}-${unit.definedGroups.map((g) => g.split('.')[0]).join('-')}`;
}

/**
 * A Flux Kustomization patch that leaves every object of an API group out of what it applies: a
 * strategic-merge `$patch: delete` applied to each object the target selects (kustomize's
 * PatchTransformer; the patch's own kind and name are placeholders, the target selects; group is
 * an anchored Go regular expression).
 */
function deleteGroup(group: string): { patch: string; target: { group: string } } {
  return { patch: '$patch: delete\napiVersion: v1\nkind: Any\nmetadata:\n  name: any\n', target: { group: escapeRegexp(group) } };
}

/** A Flux duration (FLUX_DURATION) in milliseconds. Hand-written: Go's time.ParseDuration for four units, no library parses it. */
function durationMs(duration: string): number {
  const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 } as const;
  return [...duration.matchAll(/([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)/g)].reduce((sum, [, n, u]) => sum + Number(n) * unit[u as keyof typeof unit], 0);
}

function checkOptions(options: FluxOptions | FluxObjectOptions): void {
  if (!FLUX_DURATION.test(options.interval)) throw new PolicyOciError('USAGE', `--interval takes a Flux duration such as 30s, 5m or 1h30m, got "${options.interval}"`);
  for (const [flag, value] of [['--namespace', options.namespace], ['--target-namespace', options.targetNamespace], ['--name', options.name]] as const) {
    if (value !== undefined && (!DNS_LABEL.test(value) || value.length > 63)) throw new PolicyOciError('USAGE', `${flag} takes a Kubernetes name (lower-case letters, digits and '-', at most 63), got "${value}"`);
  }
  if (options.pullSecret !== undefined && !DNS_LABEL.test(options.pullSecret)) throw new PolicyOciError('USAGE', `--pull-secret takes the name of a Secret, got "${options.pullSecret}"`);
  const v = options.verify;
  if (v && 'keyless' in v) oidcIdentity(v.keyless);
  if (v && 'secretName' in v && !DNS_LABEL.test(v.secretName)) throw new PolicyOciError('USAGE', `--verify-secret takes the name of a Secret, got "${v.secretName}"`);
}

/** The repository's last path component as an object name ("acme/policies" → "policies"). */
export function defaultName(repository: string): string {
  const last = repository.split('/').at(-1) ?? 'policies';
  const name = last.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 50).replace(/-+$/, '');
  return name === '' ? 'policies' : name;
}

/**
 * Each manifest that holds policies, checked to be something Flux can take: exactly one layer, a
 * tar+gzip. Anything else (one layer per policy: what push writes without --bundle) is refused,
 * with how to push it instead.
 */
function unitsOf(manifests: ReadManifest[], policies: ReadResult['policies'], display: string, nameOf: (engine: string) => string, targetNamespace: string | undefined): FluxUnit[] {
  const units: FluxUnit[] = [];
  for (const m of manifests) {
    const layers = new Set(m.manifest.layers.map((l) => l.digest));
    const held = policies.filter((p) => layers.has(p.layer));
    if (held.length === 0) continue;
    const engine = m.engine ?? held[0]!.engine;
    const only = m.manifest.layers.length === 1 ? m.manifest.layers[0]! : undefined;
    if (!only || !TAR_GZIP.test(only.mediaType)) {
      throw new PolicyOciError(
        'UNSAFE_CONTENT',
        `${display}${manifests.length > 1 ? ` (${engine} manifest ${m.descriptor.digest})` : ''} has ${count(m.manifest.layers.length, 'layer')}, one per policy: Flux extracts exactly one tar+gzip layer, so it cannot reconcile this artifact; push it with --bundle (one tar+gzip layer per engine; --split-engines for one artifact per engine) or --kyverno-format bundle-1.0`,
      );
    }
    const kinds = new Map<string, FluxUnit['kinds'][number]>();
    const namespaces = new Set<string>();
    const dynamic = new Set<EngineDynamicKinds>();
    for (const p of held) {
      const match = findKind(p.object.apiVersion, p.object.kind);
      if (!match) throw new PolicyOciError('UNSAFE_CONTENT', `${p.source.file}: ${p.object.apiVersion} ${p.object.kind} is not a policy kind of a known engine`);
      if (match.kind.dynamic) dynamic.add(match.kind.dynamic);
      kinds.set(`${match.kind.group}/${match.kind.plural}`, { group: match.kind.group, plural: match.kind.plural, namespaced: match.kind.namespaced, kind: match.kind.kind });
      if (!match.kind.namespaced) continue;
      const ns = targetNamespace ?? p.object.metadata.namespace;
      if (!ns) {
        throw new PolicyOciError('USAGE', `${p.object.kind} ${p.object.metadata.name} has no namespace and Flux does not choose one: give --target-namespace (every namespaced policy goes there), or set metadata.namespace and push again`);
      }
      namespaces.add(ns);
    }
    // Kinds whose definition the manifest holds too: unknown to the API server until it is applied.
    const heldKinds = [...kinds.values()];
    const definedGroups = [...new Set([...dynamic].filter((d) => heldKinds.some((k) => k.group === d.definedBy.group && k.kind === d.definedBy.kind)).map((d) => d.group))].sort();
    units.push({ name: nameOf(engine), engine, digest: m.descriptor.digest, layerMediaType: only.mediaType, kinds: heldKinds.sort((a, b) => `${a.group}/${a.plural}`.localeCompare(`${b.group}/${b.plural}`)), namespaces: [...namespaces].sort(), definedGroups });
  }
  const names = units.flatMap((u) => (u.definedGroups.length > 0 ? [u.name, definedKindsName(u)] : [u.name]));
  // Flux labels what a Kustomization applies with its name: a label value (at most 63).
  const long = names.find((n) => n.length > 63);
  if (long) throw new PolicyOciError('USAGE', `the Flux object name ${long} would be longer than 63 characters (Flux labels what it applies with it): give a shorter --name`);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice) throw new PolicyOciError('UNSAFE_CONTENT', `${display} holds two manifests of one engine, or one whose Flux objects take another's name (${twice}): Flux objects would share a name`);
  return units;
}

/** `[{apiGroups: [group], resources: [plurals…], verbs}]`, one rule per API group. */
function rulesFor(kinds: FluxUnit['kinds']): object[] {
  const byGroup = new Map<string, string[]>();
  for (const k of kinds) byGroup.set(k.group, [...(byGroup.get(k.group) ?? []), k.plural]);
  return [...byGroup.entries()].map(([group, resources]) => ({ apiGroups: [group], resources, verbs: [...POLICY_VERBS] }));
}

/**
 * The ServiceAccount the Kustomization impersonates, and what it may do: the cluster-scoped policy
 * kinds everywhere (ClusterRole + ClusterRoleBinding), the namespaced ones only in the namespaces
 * the policies go to (a ClusterRole bound by a RoleBinding in each).
 */
function rbacFor(unit: FluxUnit, namespace: string): KubeManifest[] {
  const subject = { kind: 'ServiceAccount', name: unit.name, namespace };
  const roleName = `policyoci-flux:${namespace}:${unit.name}`;
  const out: KubeManifest[] = [{ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: unit.name, namespace } }];
  const cluster = unit.kinds.filter((k) => !k.namespaced);
  const namespaced = unit.kinds.filter((k) => k.namespaced);
  if (cluster.length > 0) {
    out.push({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: roleName }, rules: rulesFor(cluster) });
    out.push({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: roleName },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: roleName },
      subjects: [subject],
    });
  }
  if (namespaced.length > 0) {
    const nsRole = `${roleName}:namespaced`;
    out.push({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: nsRole }, rules: rulesFor(namespaced) });
    for (const ns of unit.namespaces) {
      out.push({
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: roleName, namespace: ns },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: nsRole },
        subjects: [subject],
      });
    }
  }
  return out;
}

function verifySpec(v: NonNullable<FluxObjectOptions['verify']>, keySecret: string | undefined): object {
  if ('keyless' in v) return { provider: 'cosign', matchOIDCIdentity: [oidcIdentity(v.keyless)] };
  return { provider: 'cosign', secretRef: { name: 'secretName' in v ? v.secretName : keySecret! } };
}

/** Flux's matchOIDCIdentity entry (two regular expressions) of cosign's keyless flags; one of each pair is required. */
export function oidcIdentity(k: FluxIdentity): { issuer: string; subject: string } {
  for (const [exact, regexp, what] of [['identity', 'identityRegexp', 'certificate-identity'], ['issuer', 'issuerRegexp', 'certificate-oidc-issuer']] as const) {
    if (k[exact] !== undefined && k[regexp] !== undefined) throw new PolicyOciError('USAGE', `--${what} and --${what}-regexp exclude each other`);
    if (k[exact] === undefined && k[regexp] === undefined) throw new PolicyOciError('USAGE', `keyless verification needs --${what} (or --${what}-regexp): Flux matches both the identity and the issuer`);
  }
  return { issuer: k.issuerRegexp ?? exactly(k.issuer!), subject: k.identityRegexp ?? exactly(k.identity!) };
}

/** A regular expression (Go RE2, as Flux reads it) matching exactly `text`. Hand-written: one line, no library spells RE2's escapes. */
export function exactly(text: string): string {
  return `^${escapeRegexp(text)}$`;
}

/** `text` escaped for a Go RE2 regular expression (every metacharacter RE2 reads). */
function escapeRegexp(text: string): string {
  return text.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');
}
