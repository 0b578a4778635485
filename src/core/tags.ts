// tags: the tags of a repository (or an OCI layout), as the store lists them.
import { openTarget, type StoreOptions } from '../content/open.ts';
import { silentReporter, type Reporter } from './reporter.ts';

export interface TagsOptions {
  /** A repository (`registry/repo`; a tag or digest in it is ignored) or, with store.ociLayout, a directory. */
  reference: string;
  store: StoreOptions;
}

export interface TagsResult {
  repository: string;
  tags: string[];
}

export async function listTags(options: TagsOptions, reporter: Reporter = silentReporter): Promise<TagsResult> {
  const opened = await openTarget(options.reference, options.store, { push: false, repositoryOnly: true });
  reporter.progress(`Listing the tags of ${opened.display}`);
  return { repository: opened.display, tags: await opened.target.listTags() };
}
