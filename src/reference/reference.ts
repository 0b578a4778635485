// Registry references after docker's rules (distribution/reference): `[registry/]repository
// [:tag[,tag...]][@digest]`, with an optional `oci://` prefix. Tags are parsed before the digest is
// applied, several comma-separated tags are allowed, and every failure names its reason.
import { PolicyOciError } from '../errors.ts';
import { DIGEST_RE, isDigest } from '../oci/digest.ts';

export interface Reference {
  registry: string;
  repository: string;
  tags: string[];
  digest?: string;
  /** original text */
  raw: string;
}

export const DOCKER_HUB = 'docker.io';
const DOCKER_HUB_API = 'registry-1.docker.io';
const MAX_NAME_LENGTH = 255;

const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN_RE = new RegExp(`^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?$`);
export const PATH_COMPONENT_RE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
export const TAG_RE = /^[\w][\w.-]{0,127}$/;

function invalid(input: string, why: string): PolicyOciError {
  const shown = input.length > 120 ? `${input.slice(0, 120)}…` : input;
  return new PolicyOciError('INVALID_REFERENCE', `invalid reference "${shown}": ${why}`);
}

/** True when `component` (the first path component) names a registry rather than a repository. */
function looksLikeRegistry(component: string): boolean {
  return component.includes('.') || component.includes(':') || component === 'localhost' || component.startsWith('[');
}

/** Throws INVALID_REFERENCE unless `repository` follows the distribution path grammar. */
export function validateRepository(repository: string, input = repository): void {
  if (repository === '') throw invalid(input, 'missing repository');
  for (const component of repository.split('/')) {
    if (component === '') throw invalid(input, 'empty path component in repository');
    if (PATH_COMPONENT_RE.test(component)) continue;
    if (PATH_COMPONENT_RE.test(component.toLowerCase())) throw invalid(input, 'repository must be lowercase');
    throw invalid(input, `repository component "${component}" is not allowed (lowercase letters, digits and . _ - separators)`);
  }
}

export function validateTag(tag: string, input = tag): void {
  if (tag === '') throw invalid(input, 'empty tag');
  if (!TAG_RE.test(tag)) throw invalid(input, `bad tag "${tag}" (letters, digits, _ . -, at most 128, not starting with . or -)`);
}

export function validateDigest(digest: string, input = digest): void {
  if (DIGEST_RE.test(digest)) return;
  if (/^sha(256|512):/i.test(digest) && digest !== digest.toLowerCase()) {
    throw invalid(input, `bad digest "${digest}" (hex must be lowercase)`);
  }
  throw invalid(input, `bad digest "${digest}" (expected sha256:<64 hex> or sha512:<128 hex>)`);
}


function normaliseRegistry(registry: string): string {
  const lower = registry.toLowerCase();
  return lower === 'index.docker.io' ? DOCKER_HUB : lower;
}

export function parseReference(input: string): Reference {
  const raw = input;
  let rest = input.trim();
  if (rest.toLowerCase().startsWith('oci://')) rest = rest.slice('oci://'.length);
  if (rest === '') throw invalid(raw, 'empty reference');

  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    validateDigest(digest, raw);
  }

  let tags: string[] = [];
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    const tagText = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    tags = [...new Set(tagText.split(','))];
    for (const tag of tags) validateTag(tag, raw);
  }
  if (rest === '') throw invalid(raw, 'missing repository');

  const slash = rest.indexOf('/');
  let registry = DOCKER_HUB;
  let repository = rest;
  if (slash >= 0 && looksLikeRegistry(rest.slice(0, slash))) {
    registry = rest.slice(0, slash);
    repository = rest.slice(slash + 1);
    if (!DOMAIN_RE.test(registry)) throw invalid(raw, `bad registry "${registry}"`);
  } else if (slash < 0 && (rest.includes('.') || rest.startsWith('[') || (rest === 'localhost' && /^\d+$/.test(tags[0] ?? '')))) {
    // "localhost:5000" or "ghcr.io": a registry without a repository, not docker.io/library/<x>.
    throw invalid(raw, 'missing repository after the registry');
  }
  registry = normaliseRegistry(registry);
  validateRepository(repository, raw);
  if (registry === DOCKER_HUB && !repository.includes('/')) repository = `library/${repository}`;
  if (registry.length + 1 + repository.length > MAX_NAME_LENGTH) {
    throw invalid(raw, `name longer than ${MAX_NAME_LENGTH} characters`);
  }

  const ref: Reference = { registry, repository, tags, raw };
  if (digest !== undefined) ref.digest = digest;
  return ref;
}

/**
 * `registry/repository` followed by `tagOrDigest` when given (":tag" or "@digest"), otherwise by
 * every tag (comma-separated) and the digest of `ref`.
 */
export function referenceString(ref: Pick<Reference, 'registry' | 'repository' | 'tags' | 'digest'>, tagOrDigest?: string): string {
  const name = `${ref.registry}/${ref.repository}`;
  if (tagOrDigest !== undefined) return isDigest(tagOrDigest) ? `${name}@${tagOrDigest}` : `${name}:${tagOrDigest}`;
  const tags = ref.tags.length > 0 ? `:${ref.tags.join(',')}` : '';
  const digest = ref.digest !== undefined ? `@${ref.digest}` : '';
  return `${name}${tags}${digest}`;
}

/** The host that serves the registry API: docker.io → registry-1.docker.io. */
export function registryApiHost(registry: string): string {
  return registry === DOCKER_HUB ? DOCKER_HUB_API : registry;
}
