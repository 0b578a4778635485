// sign: a cosign-compatible, key-based signature of a manifest (a policy artifact or an image),
// stored as cosign's `sha256-<hex>.sig` image and, where the registry has the referrers API, also
// as an OCI 1.1 signature referrer.
import { openTarget, type StoreOptions } from '../content/open.ts';
import { ReferrersClient, type ReferrersMode } from '../referrers/client.ts';
import { signManifest, type SignedManifest } from '../signing/cosign.ts';
import { signingIdentity } from '../signing/identity.ts';
import { loadPrivateKey } from '../signing/keys.ts';
import { silentReporter, type Reporter } from './reporter.ts';

export interface SignOptions {
  reference: string;
  store: StoreOptions;
  /** cosign.key (password in $COSIGN_PASSWORD) or a PEM private key. */
  keyPath: string;
  /** Signed annotations, written into the payload. */
  annotations?: Record<string, string>;
  /** Also write an OCI 1.1 signature referrer where the registry has the API (default true). */
  referrer?: boolean;
  referrersMode?: ReferrersMode;
}

export interface SignResult extends SignedManifest {
  reference: string;
}

export async function signReference(options: SignOptions, reporter: Reporter = silentReporter): Promise<SignResult> {
  const opened = await openTarget(options.reference, options.store, { push: false });
  // Before the registry is contacted: a wrong password writes nothing.
  const key = await loadPrivateKey(options.keyPath);
  const referrers = new ReferrersClient(opened.target, options.referrersMode ? { mode: options.referrersMode } : {});
  reporter.progress(`Signing ${opened.display}`);
  const subject = await opened.target.resolve(opened.reference);
  const signed = await signManifest(opened.target, subject, key, referrers, {
    dockerReference: signingIdentity(opened),
    ...(options.referrer === false ? { referrer: false } : {}),
    ...(options.annotations && Object.keys(options.annotations).length > 0 ? { annotations: options.annotations } : {}),
  });
  return { reference: opened.display, ...signed };
}
