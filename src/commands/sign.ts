import { basename } from 'node:path';
import type { Argv } from 'yargs';
import { atDigest } from '../referrers/display.ts';
import type { OpenedTarget } from '../content/open.ts';
import { withReferrersFlags, type ReferrersFlags } from './attach.ts';
import { parseAnnotations, withRegistryFlags, type RegistryFlags } from './options.ts';

interface SignArgs extends RegistryFlags, ReferrersFlags {
  ref: string;
  key: string;
  annotation?: string[];
  referrer: boolean;
}

export const command = 'sign <ref>';
export const describe = 'Sign an artifact or image with a key, in cosign\'s format (sha256-<hex>.sig)';

/** docker-reference of the payload: the repository, as cosign writes it. */
export function signingIdentity(opened: Pick<OpenedTarget, 'repository'>): string {
  if (!opened.repository.startsWith('oci-layout:')) {
    const slash = opened.repository.indexOf('/');
    const registry = opened.repository.slice(0, slash);
    return `${registry === 'docker.io' ? 'index.docker.io' : registry}${opened.repository.slice(slash)}`;
  }
  // A layout has no registry name: a stable repository-like name from the directory.
  const name = basename(opened.repository.slice('oci-layout:'.length)).toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '');
  return `oci-layout/${name || 'layout'}`;
}

export function builder(y: Argv): Argv<SignArgs> {
  return withReferrersFlags(withRegistryFlags(y))
    .positional('ref', { type: 'string', demandOption: true })
    .option('key', { type: 'string', demandOption: true, describe: 'Private key: cosign.key (password in COSIGN_PASSWORD) or a PEM EC P-256 key' })
    .option('annotation', { alias: 'a', type: 'string', array: true, describe: 'Signed annotation key=value in the payload (repeatable)' })
    .option('referrer', { type: 'boolean', default: true, describe: 'Also store the signature as an OCI 1.1 referrer where the registry has the API' })
    .example('COSIGN_PASSWORD=… $0 sign localhost:5000/policies:v1 --key cosign.key', 'Sign a policy artifact')
    .example('$0 verify localhost:5000/policies:v1 --key cosign.pub', 'Check it') as unknown as Argv<SignArgs>;
}

export async function handler(args: SignArgs): Promise<void> {
  const [{ signReference }, { openTarget }, { render }] = await Promise.all([import('../core/sign.ts'), import('../content/open.ts'), import('../output/render.ts')]);
  const opened = await openTarget(args.ref, args, { push: false });
  const annotations = parseAnnotations(args.annotation);
  const summary = await signReference(opened.target, opened.display, opened.reference, {
    keyPath: args.key,
    dockerReference: signingIdentity(opened),
    referrer: args.referrer,
    ...(Object.keys(annotations).length ? { annotations } : {}),
    ...(args['referrers-mode'] ? { mode: args['referrers-mode'] } : {}),
  });
  render(args.format, summary, (s) =>
    [`Signed ${atDigest(s.reference, s.digest)}${s.added ? '' : ' (this signature was already there)'}`, `  signature: ${s.signatureTag} (${s.signatureManifest})`, ...(s.referrer ? [`  referrer:  ${s.referrer}`] : [])].join('\n'),
  );
}
