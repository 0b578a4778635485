import type { Argv } from 'yargs';
import { withRegistryFlags, type RegistryFlags } from './options.ts';

interface TagsArgs extends RegistryFlags {
  repo: string;
}

export const command = 'tags <repo>';
export const describe = 'List the tags of a repository (or an OCI layout)';

export function builder(y: Argv): Argv<TagsArgs> {
  return withRegistryFlags(y)
    .positional('repo', { type: 'string', demandOption: true })
    .example('$0 tags localhost:5000/policies', 'One tag per line') as unknown as Argv<TagsArgs>;
}

export async function handler(args: TagsArgs): Promise<void> {
  const [{ openTarget }, { render }] = await Promise.all([import('../content/open.ts'), import('../output/render.ts')]);
  const opened = await openTarget(args.repo, args, { push: false, repositoryOnly: true });
  const tags = await opened.target.listTags();
  render(args.format, { repository: opened.display, tags }, (r) => r.tags.join('\n'));
}
