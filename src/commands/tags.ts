import type { Argv } from 'yargs';
import { storeOptionsFrom, withRegistryFlags, type RegistryFlags } from './options.ts';

interface TagsArgs extends RegistryFlags {
  repo: string;
}

export const command = 'tags <repo>';
export const describe = 'List the tags of a repository (or an OCI layout)';

export function builder(y: Argv): Argv<TagsArgs> {
  return withRegistryFlags(y)
    .positional('repo', { type: 'string', demandOption: true })
    .example('$0 tags localhost:5000/policies', 'One tag per line')
    .example('$0 tags --oci-layout ./layout', 'The tags of an OCI image layout') as unknown as Argv<TagsArgs>;
}

export async function handler(args: TagsArgs): Promise<void> {
  const [{ listTags }, { render }, { tagsText }, { reporting }] = await Promise.all([
    import('../core/tags.ts'),
    import('../output/render.ts'),
    import('../output/tags.ts'),
    import('../output/reporter.ts'),
  ]);
  const options = { reference: args.repo, store: await storeOptionsFrom(args) };
  const result = await reporting((reporter) => listTags(options, reporter));
  render(args.format, result, tagsText);
}
