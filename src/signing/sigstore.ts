// Verification of a Sigstore bundle (v0.1–v0.3, what cosign v3 writes) against one artifact, on
// sigstore-js: @sigstore/bundle parses and validates, @sigstore/verify checks timestamps, the
// signing key or certificate (chain, SCTs), the transparency-log entries and the signature.
// What this module adds around it:
//  - the artifact may be given as its bytes or only as its digest (`sha256:<hex>`, how an OCI
//    subject is checked): a message signature's messageDigest must equal it and the signature is
//    checked over that digest (ECDSA and RSA PKCS#1 v1.5 verify over a digest; Ed25519 cannot);
//    a DSSE envelope must hold an in-toto statement with a subject of that digest;
//  - the signer constraint: a public key (key-based) or a certificate identity and OIDC issuer,
//    each exact or a regular expression (keyless, matched as cosign does: unanchored), and the
//    GitHub workflow claims cosign checks (`--certificate-github-workflow-*`: Fulcio's extensions
//    1.3.6.1.4.1.57264.1.2 to .6, raw strings compared exactly, as sigstore-go does);
//  - the trusted root: the caller's JSON, or Sigstore's public-good root as shipped inside
//    @sigstore/tuf (its seeds; read offline, never fetched here);
//  - a plain result: every failure is `verified: false` with the check that failed and why.
// Thresholds are sigstore-js's defaults: one transparency-log entry, one timestamp (the log's
// integrated time or an RFC 3161 one) and one SCT. Key-based bundles written without a log
// (cosign `--tlog-upload=false`) are refused unless the caller says `ignoreTlog`, as cosign's
// `--insecure-ignore-tlog` does; entries that are present are verified either way.
import { constants, createHash, createPublicKey, type KeyObject, publicDecrypt } from 'node:crypto';
import { p256, p384, p521 } from '@noble/curves/nist.js';
import {
  type Bundle,
  BUNDLE_V01_MEDIA_TYPE,
  BUNDLE_V02_MEDIA_TYPE,
  BUNDLE_V03_LEGACY_MEDIA_TYPE,
  BUNDLE_V03_MEDIA_TYPE,
  bundleFromJSON,
} from '@sigstore/bundle';
import { X509Certificate } from '@sigstore/core';
import { HashAlgorithm, TrustedRoot } from '@sigstore/protobuf-specs';
import { type SignedEntity, type Signer, toSignedEntity, toTrustMaterial, type TrustMaterial, VerificationError, Verifier } from '@sigstore/verify';
import tufSeeds from '@sigstore/tuf/seeds.json' with { type: 'json' };

const BUNDLE_VERSIONS: Readonly<Record<string, BundleVersion>> = {
  [BUNDLE_V01_MEDIA_TYPE]: 'v0.1',
  [BUNDLE_V02_MEDIA_TYPE]: 'v0.2',
  [BUNDLE_V03_LEGACY_MEDIA_TYPE]: 'v0.3',
  [BUNDLE_V03_MEDIA_TYPE]: 'v0.3',
};
const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
const IN_TOTO_STATEMENT_TYPES = new Set(['https://in-toto.io/Statement/v1', 'https://in-toto.io/Statement/v0.1']);
const PUBLIC_GOOD_TUF = 'https://tuf-repo-cdn.sigstore.dev';
const DIGEST_PATTERN = /^sha256:([a-f0-9]{64})$/;

export type BundleVersion = 'v0.1' | 'v0.2' | 'v0.3';
/** An identity or issuer constraint: a string matches exactly, a RegExp as `test` does. */
export type Matcher = string | RegExp;

export type SignerConstraint =
  | { kind: 'key'; /** PEM (SPKI) public key */ publicKey: string }
  | { kind: 'keyless'; identity: Matcher; issuer: Matcher; github?: GithubClaims };

/** The GitHub Actions claims Fulcio writes into a certificate; each given one must equal the certificate's. */
export interface GithubClaims {
  trigger?: string;
  sha?: string;
  name?: string;
  repository?: string;
  ref?: string;
}

/** Fulcio's (deprecated, raw-string) GitHub workflow extensions, by claim. */
const GITHUB_CLAIM_OIDS: Readonly<Record<keyof GithubClaims, string>> = {
  trigger: '1.3.6.1.4.1.57264.1.2',
  sha: '1.3.6.1.4.1.57264.1.3',
  name: '1.3.6.1.4.1.57264.1.4',
  repository: '1.3.6.1.4.1.57264.1.5',
  ref: '1.3.6.1.4.1.57264.1.6',
};

export type ArtifactInput = { bytes: Uint8Array } | { /** `sha256:<hex>` */ digest: string };

export interface VerifyBundleOptions {
  /** The bundle as read (bytes or text of its JSON), or its parsed JSON. */
  bundle: Uint8Array | string | object;
  artifact: ArtifactInput;
  signer: SignerConstraint;
  /** A trusted root (JSON of dev.sigstore.trustroot.v1.TrustedRoot); default: Sigstore's public good. */
  trustedRoot?: object;
  /** Key-based only: accept a bundle without transparency-log entry or timestamp (cosign's --insecure-ignore-tlog). */
  ignoreTlog?: boolean;
}

/** The checks, in the order they are made. */
export type BundleCheck =
  | 'trusted-root'
  | 'bundle'
  | 'artifact-digest'
  | 'statement-subject'
  | 'timestamps'
  | 'public-key'
  | 'certificate'
  | 'tlog'
  | 'signature'
  | 'identity'
  | 'issuer'
  | `github-workflow-${keyof GithubClaims}`;

export interface BundleVerification {
  verified: boolean;
  /** When not verified: the check that failed and why. */
  failedCheck?: BundleCheck;
  reason?: string;
  /** Checks that passed, in order. */
  checked: BundleCheck[];
  mode: 'key' | 'keyless';
  trustedRoot: 'given' | 'public-good (shipped with @sigstore/tuf)';
  bundleVersion?: BundleVersion;
  content?: 'message-signature' | 'dsse';
  /** Keyless: the certificate's subject alternative name and the Fulcio OIDC issuer extension. */
  signer?: { identity: string | undefined; issuer: string | undefined };
  tlogEntries?: number;
  rfc3161Timestamps?: number;
}

class CheckFailure extends Error {
  constructor(
    readonly check: BundleCheck,
    message: string,
  ) {
    super(message);
  }
}

export function verifyBundle(options: VerifyBundleOptions): BundleVerification {
  const { signer } = options;
  const digestHex = artifactDigest(options.artifact);
  const result: BundleVerification = {
    verified: false,
    checked: [],
    mode: signer.kind,
    trustedRoot: options.trustedRoot ? 'given' : 'public-good (shipped with @sigstore/tuf)',
  };
  const pass = (check: BundleCheck): void => {
    result.checked.push(check);
  };
  let keyHint: string | undefined;
  try {
    const trust = trustMaterial(options.trustedRoot, signer);
    pass('trusted-root');

    const bundle = parseBundle(options.bundle);
    result.bundleVersion = BUNDLE_VERSIONS[bundle.mediaType];
    result.content = bundle.content.$case === 'dsseEnvelope' ? 'dsse' : 'message-signature';
    result.tlogEntries = bundle.verificationMaterial.tlogEntries.length;
    result.rfc3161Timestamps = bundle.verificationMaterial.timestampVerificationData?.rfc3161Timestamps.length ?? 0;
    const material = bundle.verificationMaterial.content;
    const keyBased = material.$case === 'publicKey';
    if (material.$case === 'publicKey') keyHint = material.publicKey.hint;
    if (keyBased && signer.kind !== 'key') throw new CheckFailure('bundle', 'the bundle is signed with a key (no certificate) but no public key was given');
    if (!keyBased && signer.kind === 'key') throw new CheckFailure('bundle', 'the bundle carries a certificate, not a key hint: verify it keyless (identity and issuer), not with a key');
    assertNoRootInChain(bundle);
    pass('bundle');

    const entity = signedEntity(bundle, options.artifact, digestHex);
    pass(bundle.content.$case === 'dsseEnvelope' ? 'statement-subject' : 'artifact-digest');

    const ignoreTlog = signer.kind === 'key' && options.ignoreTlog === true;
    const verifier = new Verifier(trust, ignoreTlog ? { tlogThreshold: 0, timestampThreshold: 0 } : {});
    const verifiedSigner = runVerifier(verifier, entity);
    result.checked.push('timestamps', signer.kind === 'key' ? 'public-key' : 'certificate', 'tlog', 'signature');

    if (signer.kind === 'keyless') {
      const identity = verifiedSigner.identity?.subjectAlternativeName;
      const issuer = verifiedSigner.identity?.extensions?.issuer;
      result.signer = { identity, issuer };
      if (!matches(signer.identity, identity)) throw new CheckFailure('identity', `certificate identity ${JSON.stringify(identity ?? '')} does not match ${describe(signer.identity)}`);
      pass('identity');
      if (!matches(signer.issuer, issuer)) throw new CheckFailure('issuer', `certificate OIDC issuer ${JSON.stringify(issuer ?? '')} does not match ${describe(signer.issuer)}`);
      pass('issuer');
      for (const [claim, wanted] of Object.entries(signer.github ?? {}) as Array<[keyof GithubClaims, string | undefined]>) {
        if (!wanted) continue;
        const oid = GITHUB_CLAIM_OIDS[claim];
        const found = verifiedSigner.identity?.oids?.find((o) => o.oid?.id.join('.') === oid);
        const actual = found ? Buffer.from(found.value).toString('utf8') : undefined;
        if (actual !== wanted) {
          throw new CheckFailure(`github-workflow-${claim}`, `certificate GitHub workflow ${claim} (${oid}) is ${actual === undefined ? 'absent' : JSON.stringify(actual)}, not ${JSON.stringify(wanted)}`);
        }
        pass(`github-workflow-${claim}`);
      }
    }
    result.verified = true;
    return result;
  } catch (err) {
    if (!(err instanceof CheckFailure)) throw err;
    result.failedCheck = err.check;
    result.reason = err.message + (err.check === 'signature' && signer.kind === 'key' ? otherKeyNote(keyHint, signer.publicKey) : '');
    return result;
  }
}

/**
 * When a key-based bundle's key hint (cosign writes the base64 SHA-256 of the key's DER
 * SubjectPublicKeyInfo) is not the given key's, the plain "signature verification failed" most
 * likely means "signed with another key": say so. Hints are optional and unauthenticated, so this
 * only words the refusal; it never decides it.
 */
function otherKeyNote(hint: string | undefined, publicKeyPem: string): string {
  if (!hint) return '';
  try {
    const ours = createHash('sha256').update(createPublicKey(publicKeyPem).export({ format: 'der', type: 'spki' })).digest('base64');
    return hint === ours ? '' : ` (the bundle names another key: hint ${hint}, the given key's is ${ours})`;
  } catch {
    return '';
  }
}

/** What a bundle says of itself, read WITHOUT verifying anything (for discover and inspect). */
export interface BundleSummary {
  bundleVersion?: BundleVersion;
  content?: 'message-signature' | 'dsse';
  mode?: 'key' | 'keyless';
  /** Keyless: the leaf certificate's subject alternative name and Fulcio issuer (unverified). */
  identity?: string;
  issuer?: string;
  tlogEntries?: number;
  /** Why the bundle could not be read. */
  problem?: string;
}

export function summarizeBundle(input: VerifyBundleOptions['bundle']): BundleSummary {
  let bundle: Bundle;
  try {
    bundle = parseBundle(input);
  } catch (err) {
    return { problem: message(err) };
  }
  const summary: BundleSummary = {
    bundleVersion: BUNDLE_VERSIONS[bundle.mediaType]!,
    content: bundle.content.$case === 'dsseEnvelope' ? 'dsse' : 'message-signature',
    tlogEntries: bundle.verificationMaterial.tlogEntries.length,
  };
  const material = bundle.verificationMaterial.content;
  if (material.$case === 'publicKey') return { ...summary, mode: 'key' };
  summary.mode = 'keyless';
  const raw = material.$case === 'certificate' ? material.certificate.rawBytes : material.x509CertificateChain.certificates[0]?.rawBytes;
  return { ...summary, ...certificateSigner(Buffer.from(raw ?? [])) };
}

/** The identity (SAN) and Fulcio issuer a certificate (DER or PEM) names, read WITHOUT verifying it. */
export function certificateSigner(cert: Buffer | string): { identity?: string; issuer?: string; problem?: string } {
  try {
    const leaf = X509Certificate.parse(typeof cert === 'string' ? cert : Buffer.from(cert));
    const out: { identity?: string; issuer?: string } = {};
    const identity = leaf.subjectAltName;
    if (identity) out.identity = identity;
    const v2 = leaf.extension('1.3.6.1.4.1.57264.1.8');
    const issuer = v2 ? v2.valueObj.subs[0]?.value.toString('utf8') : leaf.extension('1.3.6.1.4.1.57264.1.1')?.value.toString('utf8');
    if (issuer) out.issuer = issuer;
    return out;
  } catch (err) {
    return { problem: `the certificate cannot be read: ${message(err)}` };
  }
}

/** Sigstore's public-good trusted root as @sigstore/tuf ships it (its TUF seed, not refreshed). */
export function publicGoodTrustedRoot(): object {
  const seed = (tufSeeds as Record<string, { targets: Record<string, string> }>)[PUBLIC_GOOD_TUF];
  const encoded = seed?.targets['trusted_root.json'];
  if (!encoded) throw new Error('@sigstore/tuf ships no trusted_root.json seed');
  return JSON.parse(Buffer.from(encoded, 'base64').toString('utf8')) as object;
}

function artifactDigest(artifact: ArtifactInput): string {
  if ('bytes' in artifact) return createHash('sha256').update(artifact.bytes).digest('hex');
  const match = DIGEST_PATTERN.exec(artifact.digest);
  if (!match?.[1]) throw new TypeError(`artifact digest must be sha256:<64 lowercase hex>, got ${JSON.stringify(artifact.digest)}`);
  return match[1];
}

function trustMaterial(root: object | undefined, signer: SignerConstraint): TrustMaterial {
  let key: KeyObject | undefined;
  if (signer.kind === 'key') {
    try {
      key = createPublicKey(signer.publicKey);
    } catch (err) {
      throw new CheckFailure('public-key', `the public key is not a PEM public key: ${message(err)}`);
    }
  }
  try {
    const trustedRoot = TrustedRoot.fromJSON(root ?? publicGoodTrustedRoot());
    assertTimeRanges(trustedRoot);
    return toTrustMaterial(
      trustedRoot,
      key ? () => ({ publicKey: key, validFor: () => true }) : undefined,
    );
  } catch (err) {
    if (err instanceof CheckFailure) throw err;
    throw new CheckFailure('trusted-root', `the trusted root is not usable: ${message(err)}`);
  }
}

// Every authority's validity must have a start (the spec makes it required; a missing start must
// not widen trust to "since forever").
function assertTimeRanges(root: TrustedRoot): void {
  const groups = [
    ['transparency log', root.tlogs.map((t) => t.publicKey?.validFor)],
    ['CT log', root.ctlogs.map((t) => t.publicKey?.validFor)],
    ['certificate authority', root.certificateAuthorities.map((c) => c.validFor)],
    ['timestamp authority', root.timestampAuthorities.map((c) => c.validFor)],
  ] as const;
  for (const [what, ranges] of groups) {
    for (const range of ranges) {
      if (!range?.start) throw new CheckFailure('trusted-root', `a ${what} in the trusted root has no validity start`);
    }
  }
}

function parseBundle(input: VerifyBundleOptions['bundle']): Bundle {
  let json: unknown = input;
  if (typeof input === 'string' || input instanceof Uint8Array) {
    try {
      json = JSON.parse(typeof input === 'string' ? input : Buffer.from(input).toString('utf8'));
    } catch (err) {
      throw new CheckFailure('bundle', `the bundle is not JSON: ${message(err)}`);
    }
  }
  const mediaType = (json as { mediaType?: unknown } | null)?.mediaType;
  if (typeof mediaType !== 'string' || !(mediaType in BUNDLE_VERSIONS)) {
    throw new CheckFailure('bundle', `unsupported bundle media type ${JSON.stringify(mediaType ?? null)} (v0.1 to v0.3 are read)`);
  }
  try {
    return bundleFromJSON(json);
  } catch (err) {
    throw new CheckFailure('bundle', `the bundle is invalid: ${message(err)}`);
  }
}

// A chain in the bundle may hold the leaf and intermediates, never a root: trust anchors come from
// the trusted root only (sigstore-js does not check this itself).
function assertNoRootInChain(bundle: Bundle): void {
  const material = bundle.verificationMaterial.content;
  if (material.$case !== 'x509CertificateChain') return;
  material.x509CertificateChain.certificates.forEach((raw, index) => {
    let cert: X509Certificate;
    try {
      cert = X509Certificate.parse(Buffer.from(raw.rawBytes));
    } catch (err) {
      throw new CheckFailure('bundle', `certificate ${index} of the bundle's chain cannot be read: ${message(err)}`);
    }
    if (cert.subject.equals(cert.issuer)) throw new CheckFailure('bundle', `the bundle's certificate chain contains a self-signed (root) certificate at position ${index}`);
  });
}

// The entity sigstore-js verifies, with the artifact bound to it: for a message signature the
// messageDigest must be the artifact's digest (and, given only the digest, the signature is
// checked over it); for DSSE the in-toto statement must name the artifact's digest as a subject.
function signedEntity(bundle: Bundle, artifact: ArtifactInput, digestHex: string): SignedEntity {
  const bytes = 'bytes' in artifact ? Buffer.from(artifact.bytes) : undefined;
  let entity: SignedEntity;
  try {
    entity = toSignedEntity(bundle, bytes);
  } catch (err) {
    throw new CheckFailure('bundle', `the bundle's certificate or timestamps cannot be read: ${message(err)}`);
  }
  const content = bundle.content;
  if (content.$case === 'messageSignature') {
    const { messageDigest } = content.messageSignature;
    const algorithm = messageDigest?.algorithm ?? HashAlgorithm.HASH_ALGORITHM_UNSPECIFIED;
    if (algorithm !== HashAlgorithm.SHA2_256 && algorithm !== HashAlgorithm.HASH_ALGORITHM_UNSPECIFIED) {
      throw new CheckFailure('artifact-digest', `the bundle's message digest is not SHA-256 (algorithm ${HashAlgorithm[algorithm]})`);
    }
    const signedDigest = Buffer.from(messageDigest?.digest ?? []).toString('hex');
    if (signedDigest !== digestHex) {
      throw new CheckFailure('artifact-digest', `the bundle's message digest sha256:${signedDigest} is not the artifact's sha256:${digestHex}`);
    }
    if (!bytes) entity = { ...entity, signature: overDigest(entity.signature, Buffer.from(digestHex, 'hex')) };
    return entity;
  }
  const envelope = content.dsseEnvelope;
  if (envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    throw new CheckFailure('statement-subject', `the DSSE payload type is ${JSON.stringify(envelope.payloadType)}, not an in-toto statement`);
  }
  let statement: { _type?: unknown; subject?: unknown };
  try {
    statement = JSON.parse(Buffer.from(envelope.payload).toString('utf8')) as typeof statement;
  } catch (err) {
    throw new CheckFailure('statement-subject', `the in-toto statement is not JSON: ${message(err)}`);
  }
  if (!IN_TOTO_STATEMENT_TYPES.has(String(statement?._type)) || !Array.isArray(statement.subject)) {
    throw new CheckFailure('statement-subject', 'the DSSE payload is not an in-toto statement with subjects');
  }
  const named = statement.subject.some((s: unknown) => (s as { digest?: { sha256?: unknown } } | null)?.digest?.sha256 === digestHex);
  if (!named) throw new CheckFailure('statement-subject', `no subject of the in-toto statement has the artifact's digest sha256:${digestHex}`);
  return entity;
}

// A message signature checked over the artifact's digest instead of its bytes.
function overDigest(content: SignedEntity['signature'], digest: Buffer): SignedEntity['signature'] {
  return {
    signature: content.signature,
    compareSignature: (s) => content.compareSignature(s),
    compareDigest: (d) => content.compareDigest(d),
    compareSignedDigest: (d) => content.compareSignedDigest(d),
    verifySignature: (key) => verifyDigestSignature(key, digest, content.signature),
  };
}

const CURVES = { prime256v1: p256, secp384r1: p384, secp521r1: p521 } as const;
// DER DigestInfo prefix for SHA-256 (RFC 8017 §9.2 note 1).
const SHA256_DIGEST_INFO = Buffer.from('3031300d060960864801650304020105000420', 'hex');

function verifyDigestSignature(key: KeyObject, digest: Buffer, signature: Buffer): boolean {
  try {
    if (key.asymmetricKeyType === 'ec') {
      const curve = CURVES[key.asymmetricKeyDetails?.namedCurve as keyof typeof CURVES];
      const jwk = key.export({ format: 'jwk' });
      if (!curve || !jwk.x || !jwk.y) return false;
      const point = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x, 'base64url'), Buffer.from(jwk.y, 'base64url')]);
      return curve.verify(signature, digest, point, { prehash: false, lowS: false, format: 'der' });
    }
    if (key.asymmetricKeyType === 'rsa') {
      const recovered = publicDecrypt({ key, padding: constants.RSA_PKCS1_PADDING }, signature);
      return recovered.equals(Buffer.concat([SHA256_DIGEST_INFO, digest]));
    }
    // Ed25519 signs the message itself and RSA-PSS is not read here: the bytes are needed.
    return false;
  } catch {
    return false;
  }
}

function runVerifier(verifier: Verifier, entity: SignedEntity): Signer {
  try {
    return verifier.verify(entity);
  } catch (err) {
    if (err instanceof VerificationError) throw new CheckFailure(checkFor(err.code), explain(message(err)));
    // sigstore-js also throws plain errors on malformed data it does not expect (ASN.1, a proof
    // without checkpoint): still a refusal, named as the log check, where they come from.
    throw new CheckFailure('tlog', `malformed bundle data: ${message(err)}`);
  }
}

// sigstore-js's words for "nothing in the trusted root vouches for this", which alone do not say
// that the root is what lacks the authority (often: the signature comes from another Sigstore).
const ROOT_EXPLANATIONS: ReadonlyArray<readonly [string, string]> = [
  ['timestamp could not be verified', 'no timestamp authority of the trusted root signed its RFC 3161 timestamp'],
  ['inclusion promise could not be verified', 'no transparency log of the trusted root signed its inclusion promise'],
  ['invalid checkpoint signature', 'no transparency log of the trusted root signed its checkpoint'],
  ['no trusted certificate path found', 'the certificate does not chain to a certificate authority of the trusted root'],
  ['no valid certificate path found', 'no certificate authority of the trusted root issued the certificate'],
  ['SCT verification failed', 'no CT log of the trusted root signed the certificate\'s SCT'],
];

function explain(text: string): string {
  const known = ROOT_EXPLANATIONS.find(([words]) => text.includes(words));
  return known ? `${text} (${known[1]})` : text;
}

function checkFor(code: VerificationError['code']): BundleCheck {
  switch (code) {
    case 'TIMESTAMP_ERROR':
      return 'timestamps';
    case 'CERTIFICATE_ERROR':
      return 'certificate';
    case 'PUBLIC_KEY_ERROR':
      return 'public-key';
    case 'SIGNATURE_ERROR':
      return 'signature';
    case 'TLOG_ERROR':
    case 'TLOG_INCLUSION_PROOF_ERROR':
    case 'TLOG_INCLUSION_PROMISE_ERROR':
    case 'TLOG_MISSING_INCLUSION_ERROR':
    case 'TLOG_BODY_ERROR':
    case 'NOT_IMPLEMENTED_ERROR':
      return 'tlog';
  }
}

function matches(matcher: Matcher, value: string | undefined): boolean {
  if (value === undefined) return false;
  if (typeof matcher === 'string') return matcher === value;
  matcher.lastIndex = 0;
  return matcher.test(value);
}

function describe(matcher: Matcher): string {
  // RegExp.source escapes "/" (https:\/\/…): shown as the user typed it, as describePolicy does.
  return typeof matcher === 'string' ? JSON.stringify(matcher) : `/${matcher.source.replace(/\\\//g, '/')}/${matcher.flags}`;
}

function message(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = (err as { cause?: unknown }).cause;
  return cause instanceof Error && cause.message && !err.message.includes(cause.message) ? `${err.message}: ${cause.message}` : err.message;
}
