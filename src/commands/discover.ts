import type { Argv } from 'yargs';
import { withReferrersFlags, type ReferrersFlags } from './attach.ts';
import { withRegistryFlags, type RegistryFlags } from './options.ts';

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
    .option('depth', { type: 'number', default: 3, describe: 'Levels of referrers to follow' })
    .example('$0 discover localhost:5000/app:v1', 'Tree of what refers to the image')
    .example('$0 discover localhost:5000/app:v1 --format json', 'The same, for scripts') as unknown as Argv<DiscoverArgs>;
}

export async function handler(args: DiscoverArgs): Promise<void> {
  const [{ discover, renderDiscoverTree }, { openTarget }, { render }] = await Promise.all([import('../core/discover.ts'), import('../content/open.ts'), import('../output/render.ts')]);
  const opened = await openTarget(args.ref, args, { push: false });
  const result = await discover(opened.target, opened.display, opened.reference, {
    depth: args.depth,
    ...(args['artifact-type']?.length ? { artifactTypes: args['artifact-type'] } : {}),
    ...(args['referrers-mode'] ? { mode: args['referrers-mode'] } : {}),
  });
  render(args.format, result, renderDiscoverTree);
}
