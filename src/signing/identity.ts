// The docker-reference cosign writes into a signature payload (its "identity"): the repository the
// signed manifest lives in, named as go-containerregistry names it. Verification does not compare
// it (signatures stay valid after a copy), but cosign prints it, so it should say where it was signed.
import { basename } from 'node:path';
import type { OpenedTarget } from '../content/open.ts';
import { dockerReference } from './simplesigning.ts';

const LAYOUT_PREFIX = 'oci-layout:';

export function signingIdentity(opened: Pick<OpenedTarget, 'repository'>): string {
  const { repository } = opened;
  if (!repository.startsWith(LAYOUT_PREFIX)) {
    const slash = repository.indexOf('/');
    return dockerReference(repository.slice(0, slash), repository.slice(slash + 1));
  }
  // A layout has no registry name: a stable repository-like name from its directory.
  const name = basename(repository.slice(LAYOUT_PREFIX.length))
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '');
  return `oci-layout/${name || 'layout'}`;
}
