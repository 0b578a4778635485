// Trust in one manifest: find EVERY signature cosign may have left for its digest and check each
// against the policy (a public key, or a keyless identity and issuer with a trusted root):
//  - cosign v2 simple signing: layers of the `sha256-<hex>.sig` image and of cosign's signature
//    referrers (key-based, cosign.ts; keyless: the Fulcio certificate and Rekor bundle in the layer
//    annotations, turned into a v0.1 bundle and checked like any bundle);
//  - Sigstore bundles (cosign v3's default), attached as referrers (bundles.ts), checked by
//    sigstore-js through sigstore.ts's verifyBundle against the digest.
// Verification passes when at least one signature satisfies every constraint (as cosign); all are
// checked and each gets a verdict. Key-based bundles without a log entry are accepted with the key
// (like our simple-signing ones; cosign needs --insecure-ignore-tlog), entries present are verified;
// keyless always needs the log entry and a timestamp (sigstore-js's defaults).
import { createHash, type KeyObject, X509Certificate as NodeX509 } from 'node:crypto';
import type { Target } from '../content/types.ts';
import { PolicyOciError } from '../errors.ts';
import type { ReferrersClient } from '../referrers/client.ts';
import { findBundles } from './bundles.ts';
import { checkSignatures, fetchPayload, findSignatures, type FoundSignature, payloadClaims } from './cosign.ts';
import { loadPublicKey, publicKeyPem } from './keys.ts';
import { type BundleVerification, type GithubClaims, type Matcher, type SignerConstraint, verifyBundle } from './sigstore.ts';
import { TrustedRootLoader, type TrustedRootOptions, type TrustedRootUsed } from './trustroot.ts';

export type { TrustedRootUsed } from './trustroot.ts';

export interface KeylessConstraint {
  /** Exactly one of identity / identityRegexp. */
  identity?: string;
  identityRegexp?: string;
  /** Exactly one of issuer / issuerRegexp. */
  issuer?: string;
  issuerRegexp?: string;
  github?: GithubClaims;
}

export interface TrustPolicy {
  /** cosign.pub (PEM) */
  keyPath?: string;
  keyless?: KeylessConstraint;
  /** dev.sigstore.trustroot.v1 JSON; default: Sigstore's public good */
  trustedRootPath?: string;
}

export interface SignatureVerdict {
  format: 'cosign-simplesigning' | 'sigstore-bundle';
  bundleVersion?: 'v0.1' | 'v0.2' | 'v0.3';
  content?: 'message-signature' | 'dsse';
  /** Where it was found: the `sha256-<hex>.sig` tag, or a referrer (API or tag schema). */
  source: 'tag' | 'referrer';
  /** Digest of the signature/bundle manifest. */
  manifest: string;
  /** The layer holding the payload or bundle. */
  layer?: string;
  /** Signed with a key, or keyless (a certificate). */
  mode?: 'key' | 'keyless';
  valid: boolean;
  /** When not valid: the check that failed, and why. */
  failedCheck?: string;
  reason?: string;
  /** Keyless: the certificate's identity and issuer (verified when valid). */
  signer?: { identity?: string; issuer?: string };
  dockerReference?: string;
  annotations?: Record<string, unknown>;
}

export interface TrustCheck {
  digest: string;
  /** Every signature found, with its verdict. */
  verdicts: SignatureVerdict[];
  /** How many satisfy the policy. */
  verified: number;
}

const MAX_SIGNATURES = 500;

/** Whether any trust flag was given (key or keyless). */
export function wantsTrust(policy: TrustPolicy | undefined): policy is TrustPolicy {
  return policy !== undefined && (policy.keyPath !== undefined || policy.keyless !== undefined);
}

/**
 * Refuses a policy that cannot be meant (exit 2, one line naming the flags): key AND keyless,
 * keyless without exactly one identity and one issuer flag, regular expressions that do not
 * compile, a trusted root or GitHub claims with nothing to check.
 */
export function checkTrustPolicy(policy: TrustPolicy, keyFlag = '--verify-key'): void {
  const k = policy.keyless;
  if (!policy.keyPath && !k) {
    if (policy.trustedRootPath) throw new PolicyOciError('USAGE', `--trusted-root needs ${keyFlag} or --certificate-identity/--certificate-oidc-issuer`);
    return;
  }
  if (!k) return;
  if (policy.keyPath) throw new PolicyOciError('USAGE', `${keyFlag} and the --certificate-* flags exclude each other: verify with a key or keyless, not both`);
  const identities = [k.identity, k.identityRegexp].filter((v) => v !== undefined).length;
  const issuers = [k.issuer, k.issuerRegexp].filter((v) => v !== undefined).length;
  if (identities !== 1 || issuers !== 1) {
    const missing = [
      identities === 0 ? 'one of --certificate-identity or --certificate-identity-regexp' : identities > 1 ? 'only one of --certificate-identity and --certificate-identity-regexp' : '',
      issuers === 0 ? 'one of --certificate-oidc-issuer or --certificate-oidc-issuer-regexp' : issuers > 1 ? 'only one of --certificate-oidc-issuer and --certificate-oidc-issuer-regexp' : '',
    ].filter(Boolean);
    throw new PolicyOciError('USAGE', `keyless verification needs ${missing.join(' and ')}`);
  }
  for (const [flag, source] of [
    ['--certificate-identity-regexp', k.identityRegexp],
    ['--certificate-oidc-issuer-regexp', k.issuerRegexp],
  ] as const) {
    if (source === undefined) continue;
    try {
      new RegExp(source);
    } catch (err) {
      throw new PolicyOciError('USAGE', `${flag}: not a regular expression: ${(err as Error).message}`);
    }
  }
}

/** The policy in words, for messages: "the key cosign.pub", "identity "x" issued by "y"". */
export function describePolicy(policy: TrustPolicy): string {
  const k = policy.keyless;
  if (!k) return `the key ${policy.keyPath ?? ''}`.trim();
  const id = k.identity !== undefined ? JSON.stringify(k.identity) : `/${k.identityRegexp}/`;
  const issuer = k.issuer !== undefined ? JSON.stringify(k.issuer) : `/${k.issuerRegexp}/`;
  const claims = Object.entries(k.github ?? {}).filter(([, v]) => v);
  return `identity ${id} from issuer ${issuer}${claims.length ? ` with GitHub workflow ${claims.map(([c, v]) => `${c}=${v}`).join(', ')}` : ''}`;
}

/** Checks signatures against one policy; the key and the trusted root are loaded once, when first needed. */
export class TrustVerifier {
  private key: Promise<{ object: KeyObject; pem: string }> | undefined;
  private readonly roots: TrustedRootLoader;
  private readonly signer: Omit<SignerConstraint & { kind: 'keyless' }, 'kind'> | undefined;

  constructor(
    readonly policy: TrustPolicy,
    rootOptions: Omit<TrustedRootOptions, 'path'> = {},
  ) {
    checkTrustPolicy(policy);
    this.roots = new TrustedRootLoader({ ...rootOptions, ...(policy.trustedRootPath ? { path: policy.trustedRootPath } : {}) });
    const k = policy.keyless;
    if (k) {
      const matcher = (exact: string | undefined, pattern: string | undefined): Matcher => exact ?? new RegExp(pattern!);
      this.signer = { identity: matcher(k.identity, k.identityRegexp), issuer: matcher(k.issuer, k.issuerRegexp), ...(k.github ? { github: k.github } : {}) };
    }
  }

  /** The trusted root used so far (none when no check needed one). */
  get trustedRoot(): TrustedRootUsed | undefined {
    return this.roots.used;
  }

  private loadKey(): Promise<{ object: KeyObject; pem: string }> {
    this.key ??= loadPublicKey(this.policy.keyPath!).then((object) => ({ object, pem: publicKeyPem(object) }));
    return this.key;
  }

  /** Every signature of `digest`, each with its verdict. */
  async check(target: Target, digest: string, referrers: ReferrersClient): Promise<TrustCheck> {
    const simple = await findSignatures(target, digest, referrers);
    const bundles = await findBundles(target, digest, referrers);
    if (simple.length + bundles.length > MAX_SIGNATURES) throw new PolicyOciError('LIMIT', `${digest} has ${simple.length + bundles.length} signatures; at most ${MAX_SIGNATURES} are checked`);
    const verdicts: SignatureVerdict[] = [...(await this.checkSimple(target, digest, referrers, simple))];
    for (const b of bundles) {
      const base: SignatureVerdict = { format: 'sigstore-bundle', source: b.source, manifest: b.manifest, ...(b.layer ? { layer: b.layer } : {}), valid: false };
      if (!b.bytes) {
        verdicts.push({ ...base, failedCheck: 'bundle', reason: b.problem ?? 'unreadable' });
        continue;
      }
      verdicts.push(verdictOf(base, await this.verify(b.bytes, { digest }), b.bytes, digest));
    }
    return { digest, verdicts, verified: verdicts.filter((v) => v.valid).length };
  }

  private async checkSimple(target: Target, digest: string, referrers: ReferrersClient, found: FoundSignature[]): Promise<SignatureVerdict[]> {
    if (found.length === 0) return [];
    const base = (s: FoundSignature): SignatureVerdict => ({ format: 'cosign-simplesigning', source: s.source, manifest: s.manifest, layer: s.layer, mode: s.certificate ? 'keyless' : 'key', valid: false });
    if (!this.signer) {
      const { object } = await this.loadKey();
      return (await checkSignatures(target, digest, object, referrers, found)).map((c) => ({
        ...base(c),
        valid: c.valid,
        ...(c.valid ? {} : { failedCheck: c.failedCheck ?? 'signature', reason: c.reason ?? 'invalid' }),
        ...(c.dockerReference ? { dockerReference: c.dockerReference } : {}),
        ...(c.annotations ? { annotations: c.annotations } : {}),
      }));
    }
    const out: SignatureVerdict[] = [];
    for (const s of found) {
      if (!s.certificate) {
        out.push({ ...base(s), failedCheck: 'certificate', reason: 'signed with a key (no certificate): it cannot satisfy an identity and issuer' });
        continue;
      }
      try {
        const payload = await fetchPayload(target, s);
        const verification = await this.verify(legacyBundle(s, payload), { bytes: payload });
        const verdict = verdictOf({ ...base(s), mode: 'keyless' }, verification);
        // The signature holds; now the payload must name this very digest.
        out.push(verdict.valid ? { ...verdict, ...payloadClaims(payload, digest) } : verdict);
      } catch (err) {
        if (err instanceof PolicyOciError && ['REGISTRY', 'UNAUTHORIZED', 'DENIED', 'IO'].includes(err.code)) throw err;
        out.push({ ...base(s), failedCheck: 'bundle', reason: (err as Error).message });
      }
    }
    return out;
  }

  /** One bundle against the policy; the trusted root is loaded only when the bundle needs one. */
  private async verify(bundle: Uint8Array | object, artifact: { digest: string } | { bytes: Uint8Array }): Promise<BundleVerification> {
    if (this.signer) {
      const root = await this.roots.load();
      return verifyBundle({ bundle, artifact, signer: { kind: 'keyless', ...this.signer }, trustedRoot: root.json });
    }
    const { pem } = await this.loadKey();
    // Key-based without log entries or timestamps needs no trusted root: the shipped copy stands in, nothing is fetched.
    const needsRoot = this.policy.trustedRootPath !== undefined || bundleHasTimestamps(bundle);
    const trustedRoot = needsRoot ? (await this.roots.load()).json : undefined;
    return verifyBundle({ bundle, artifact, signer: { kind: 'key', publicKey: pem }, ignoreTlog: true, ...(trustedRoot ? { trustedRoot } : {}) });
  }
}

function verdictOf(base: SignatureVerdict, v: BundleVerification, bytes?: Buffer, digest?: string): SignatureVerdict {
  const out: SignatureVerdict = { ...base, valid: v.verified };
  if (v.bundleVersion) out.bundleVersion = v.bundleVersion;
  if (v.content) out.content = v.content;
  if (!out.mode) out.mode = v.mode;
  if (v.signer) out.signer = { ...(v.signer.identity ? { identity: v.signer.identity } : {}), ...(v.signer.issuer ? { issuer: v.signer.issuer } : {}) };
  if (!v.verified) Object.assign(out, { failedCheck: v.failedCheck, reason: v.reason });
  if (v.verified && bytes && digest && v.content === 'dsse') {
    const annotations = statementAnnotations(bytes, digest);
    if (annotations) out.annotations = annotations;
  }
  return out;
}

/** Whether a bundle carries log entries or signed timestamps, which only a trusted root can check. */
function bundleHasTimestamps(bundle: Uint8Array | object): boolean {
  try {
    const json = (bundle instanceof Uint8Array ? JSON.parse(Buffer.from(bundle).toString('utf8')) : bundle) as {
      verificationMaterial?: { tlogEntries?: unknown[]; timestampVerificationData?: { rfc3161Timestamps?: unknown[] } };
    };
    const m = json?.verificationMaterial;
    return (m?.tlogEntries?.length ?? 0) > 0 || (m?.timestampVerificationData?.rfc3161Timestamps?.length ?? 0) > 0;
  } catch {
    return false; // verifyBundle reports the malformed bundle
  }
}

/** cosign `sign -a k=v` annotations, which v3 writes on the in-toto subject (read after verification). */
function statementAnnotations(bytes: Buffer, digest: string): Record<string, unknown> | undefined {
  try {
    const bundle = JSON.parse(bytes.toString('utf8')) as { dsseEnvelope?: { payload?: string } };
    const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope?.payload ?? '', 'base64').toString('utf8')) as { subject?: Array<{ digest?: { sha256?: string }; annotations?: Record<string, unknown> }> };
    const hex = digest.slice('sha256:'.length);
    const annotations = statement.subject?.find((s) => s.digest?.sha256 === hex)?.annotations;
    return annotations && Object.keys(annotations).length > 0 ? annotations : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A cosign v2 keyless signature as the v0.1 bundle it amounts to (cosign checks the same things):
 * the message signature over the payload, the Fulcio leaf certificate, and the Rekor entry with its
 * signed entry timestamp (inclusion promise). The certificate chain annotation is not needed: the
 * chain comes from the trusted root.
 */
function legacyBundle(sig: FoundSignature, payload: Buffer): object {
  const leaf = new NodeX509(sig.certificate!);
  const entry: object[] = [];
  if (sig.rekorBundle) {
    const rekor = JSON.parse(sig.rekorBundle) as { SignedEntryTimestamp?: string; Payload?: { body?: string; integratedTime?: number; logIndex?: number; logID?: string } };
    const p = rekor.Payload ?? {};
    const body = JSON.parse(Buffer.from(p.body ?? '', 'base64').toString('utf8')) as { kind?: string; apiVersion?: string };
    entry.push({
      logIndex: String(p.logIndex ?? 0),
      logId: { keyId: Buffer.from(p.logID ?? '', 'hex').toString('base64') },
      kindVersion: { kind: body.kind ?? '', version: body.apiVersion ?? '' },
      integratedTime: String(p.integratedTime ?? 0),
      inclusionPromise: { signedEntryTimestamp: rekor.SignedEntryTimestamp ?? '' },
      canonicalizedBody: p.body ?? '',
    });
  }
  return {
    mediaType: 'application/vnd.dev.sigstore.bundle+json;version=0.1',
    verificationMaterial: { x509CertificateChain: { certificates: [{ rawBytes: leaf.raw.toString('base64') }] }, tlogEntries: entry },
    messageSignature: { messageDigest: { algorithm: 'SHA2_256', digest: createHash('sha256').update(payload).digest('base64') }, signature: sig.signature },
  };
}
