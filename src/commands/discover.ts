import type { Argv } from 'yargs';
import type { DiscoverOptions } from '../core/discover.ts';
import { PolicyOciError } from '../errors.ts';
import { type ReferrersFlags, type RegistryFlags, withReferrersFlags, withRegistryFlags } from './options.ts';

interface DiscoverArgs extends RegistryFlags, ReferrersFlags {
  ref: string;
  'artifact-type'?: string[];
  depth: number;
}

export const command = 'discover <ref>';
export const describe = 'List the artifacts that refer to an image or artifact (attached policies, signatures)';

export function builder(y: Argv): Argv<DiscoverArgs> {
  return withReferrersFlags(withRegistryFlags(y))
    .positional('ref', { type: 'string', demandOption: true })
    .option('artifact-type', { type: 'string', array: true, describe: 'Only referrers of this artifact type (first level; repeatable)' })
    .option('depth', { type: 'number', default: 3, describe: 'Levels of referrers to follow (1: only what refers to REF itself)' })
    .example('$0 discover localhost:5000/app:v1', 'Tree of what refers to the image')
    .example('$0 discover localhost:5000/app:v1 --depth 1 --artifact-type application/vnd.cncf.kyverno.config.v1+json', 'Only the Kyverno policies attached to it')
    .example('$0 discover localhost:5000/app:v1 --format json', 'The same, for scripts') as unknown as Argv<DiscoverArgs>;
}

export async function handler(args: DiscoverArgs): Promise<void> {
  if (!Number.isInteger(args.depth) || args.depth < 1) throw new PolicyOciError('USAGE', `--depth takes a whole number of levels, at least 1 (got ${String(args.depth)})`);
  const [{ discover }, { storeOptionsFrom }, { reporting }, { render }, { discoverText }] = await Promise.all([
    import('../core/discover.ts'),
    import('./options.ts'),
    import('../output/reporter.ts'),
    import('../output/render.ts'),
    import('../output/discover.ts'),
  ]);
  const options: DiscoverOptions = {
    reference: args.ref,
    store: await storeOptionsFrom(args),
    depth: args.depth,
    ...(args['artifact-type']?.length ? { artifactTypes: args['artifact-type'] } : {}),
    ...(args['referrers-mode'] ? { referrersMode: args['referrers-mode'] } : {}),
  };
  const result = await reporting((reporter) => discover(options, reporter));
  render(args.format, result, discoverText);
}
