import type { Argv } from 'yargs';
import type { FluxOptions, FluxPin, FluxVerify } from '../core/flux.ts';
import { PolicyOciError } from '../errors.ts';
import { storeOptionsFrom, withRegistryFlags, type RegistryFlags } from './options.ts';

interface FluxArgs extends RegistryFlags {
  ref: string;
  name?: string;
  namespace: string;
  interval: string;
  semver?: string;
  'pin-digest'?: boolean;
  'target-namespace'?: string;
  'pull-secret'?: string;
  'verify-key'?: string;
  'verify-secret'?: string;
  'certificate-identity'?: string;
  'certificate-identity-regexp'?: string;
  'certificate-oidc-issuer'?: string;
  'certificate-oidc-issuer-regexp'?: string;
}

export const command = 'flux <ref>';
export const describe = 'Print the Flux OCIRepository + Kustomization that reconcile an artifact, with RBAC allowing only its policy kinds';

const DETAILS =
  'The artifact must hold one tar+gzip layer per manifest (push --bundle, or --kyverno-format bundle-1.0): Flux extracts one ' +
  'layer. For an index of several engines, one OCIRepository + Kustomization per engine, each pinned to its manifest digest. ' +
  'A manifest holding definitions and objects of the kinds they define (Gatekeeper templates and constraints) gets a second ' +
  'Kustomization for the latter, dependsOn the first: Flux applies a set all or nothing, and their kinds exist only later. ' +
  'The Kustomization (prune: true) impersonates a ServiceAccount allowed only the policy kinds of the artifact; ' +
  'kustomize-controller must be allowed to impersonate it (Flux\'s default install is). Flux fetches oci://REGISTRY/REPO of REF ' +
  'itself (insecure: true when REF is reached over plain HTTP): name the registry as the cluster reaches it.';

export function builder(y: Argv): Argv<FluxArgs> {
  return withRegistryFlags(y)
    .hide('oci-layout') // Flux reads registries only: refused by core/flux.ts when given
    .usage(`$0 flux <ref>\n\n${describe}.\n${DETAILS}`)
    .positional('ref', { type: 'string', demandOption: true, describe: 'The artifact, e.g. ghcr.io/acme/policies:v1' })
    .option('name', { type: 'string', describe: 'Name of the Flux objects and the ServiceAccount (default: the repository\'s last path component; -<engine> added for an index)' })
    .option('namespace', { alias: 'n', type: 'string', default: 'flux-system', describe: 'Namespace of the Flux objects and the ServiceAccount' })
    .option('interval', { type: 'string', default: '10m', describe: 'How often Flux checks the registry and corrects drift (Flux duration: 30s, 5m, 1h)' })
    .option('semver', { type: 'string', describe: 'Follow the highest tag matching this semver range (e.g. ">=1.0.0 <2.0.0") instead of REF\'s tag' })
    .option('pin-digest', { type: 'boolean', describe: 'Pin the OCIRepository to the digest REF has now (ref.digest) instead of following its tag' })
    .option('target-namespace', { type: 'string', describe: 'Kustomization targetNamespace: every namespaced policy goes there (RBAC for that namespace only)' })
    .option('pull-secret', { type: 'string', describe: 'docker-registry Secret (in --namespace) Flux pulls with (OCIRepository secretRef)' })
    .option('verify-key', { type: 'string', describe: 'Flux verifies the cosign signature with this public key (cosign.pub): also prints the Secret holding it; exit 6 when what Flux will verify is not signed with it now' })
    .option('verify-secret', { type: 'string', describe: 'Flux verifies the cosign signature with the public keys (*.pub) of this existing Secret' })
    .option('certificate-identity', { type: 'string', requiresArg: true, describe: 'Keyless: the signing certificate\'s identity, exactly (matchOIDCIdentity subject)' })
    .option('certificate-identity-regexp', { type: 'string', requiresArg: true, describe: 'Keyless: the certificate identity as a regular expression (Go syntax, as Flux reads it)' })
    .option('certificate-oidc-issuer', { type: 'string', requiresArg: true, describe: 'Keyless: the OIDC issuer, exactly (e.g. https://token.actions.githubusercontent.com)' })
    .option('certificate-oidc-issuer-regexp', { type: 'string', requiresArg: true, describe: 'Keyless: the OIDC issuer as a regular expression' })
    .group(['verify-key', 'verify-secret', 'certificate-identity', 'certificate-identity-regexp', 'certificate-oidc-issuer', 'certificate-oidc-issuer-regexp'], 'Signature verification by Flux (cosign):')
    .example('$0 flux localhost:5000/policies:v1', 'The Flux objects for an artifact pushed with --bundle (YAML for kubectl apply -f -)')
    .example('$0 flux localhost:5000/policies:v1 --verify-key cosign.pub --interval 5m', 'Flux refuses what is not signed with this key')
    .example("$0 flux localhost:5000/policies:1.0.0 --semver '>=1.0.0 <2.0.0' -n flux-system", 'Follow the highest 1.x tag (the kinds are read from 1.0.0)')
    .example('$0 flux localhost:5000/policies:v1 --pin-digest --format json', 'Pinned to the digest the tag has now, as a JSON List') as unknown as Argv<FluxArgs>;
}

function pinFrom(args: FluxArgs): FluxPin {
  if (args.semver !== undefined && args['pin-digest']) throw new PolicyOciError('USAGE', '--semver and --pin-digest exclude each other');
  if (args.semver !== undefined) {
    if (args.semver.trim() === '') throw new PolicyOciError('USAGE', '--semver takes a range, e.g. ">=1.0.0"');
    return { by: 'semver', range: args.semver };
  }
  return args['pin-digest'] ? { by: 'digest' } : { by: 'reference' };
}

function verifyFrom(args: FluxArgs): FluxVerify | undefined {
  const keyless = {
    ...(args['certificate-identity'] !== undefined ? { identity: args['certificate-identity'] } : {}),
    ...(args['certificate-identity-regexp'] !== undefined ? { identityRegexp: args['certificate-identity-regexp'] } : {}),
    ...(args['certificate-oidc-issuer'] !== undefined ? { issuer: args['certificate-oidc-issuer'] } : {}),
    ...(args['certificate-oidc-issuer-regexp'] !== undefined ? { issuerRegexp: args['certificate-oidc-issuer-regexp'] } : {}),
  };
  const given = [args['verify-key'] !== undefined && '--verify-key', args['verify-secret'] !== undefined && '--verify-secret', Object.keys(keyless).length > 0 && 'keyless (--certificate-…)'].filter(Boolean);
  if (given.length > 1) throw new PolicyOciError('USAGE', `${given.join(', ')}: give one way for Flux to verify`);
  if (args['verify-key'] !== undefined) return { keyFile: args['verify-key'] };
  if (args['verify-secret'] !== undefined) return { secretName: args['verify-secret'] };
  return Object.keys(keyless).length > 0 ? { keyless } : undefined;
}

export async function handler(args: FluxArgs): Promise<void> {
  const [{ flux }, { render }, { fluxText }, { reporting }] = await Promise.all([import('../core/flux.ts'), import('../output/render.ts'), import('../output/flux.ts'), import('../output/reporter.ts')]);
  const verify = verifyFrom(args);
  const options: FluxOptions = {
    reference: args.ref,
    store: await storeOptionsFrom(args),
    namespace: args.namespace,
    interval: args.interval,
    pin: pinFrom(args),
    ...(args.name !== undefined ? { name: args.name } : {}),
    ...(args['target-namespace'] !== undefined ? { targetNamespace: args['target-namespace'] } : {}),
    ...(args['pull-secret'] !== undefined ? { pullSecret: args['pull-secret'] } : {}),
    ...(verify ? { verify } : {}),
  };
  const result = await reporting((reporter) => flux(options, reporter));
  render(args.format, result, fluxText);
}
