// The version, commit and build date are injected at build time by esbuild (see scripts/build.mjs);
// running from source they are unknown.
declare const __POLICYOCI_VERSION__: string | undefined;
declare const __POLICYOCI_BUILD_ID__: string | undefined;
declare const __POLICYOCI_COMMIT__: string | undefined;
declare const __POLICYOCI_BUILD_DATE__: string | undefined;

export const TOOL_NAME = 'kubectl-policyoci';

export const VERSION: string =
  typeof __POLICYOCI_VERSION__ === 'string' ? __POLICYOCI_VERSION__ : '0.0.0-dev';

/** The git commit built (with "-dirty" when tracked files had changes), or null (a tree without git). */
export const COMMIT: string | null = typeof __POLICYOCI_COMMIT__ === 'string' && __POLICYOCI_COMMIT__ !== '' ? __POLICYOCI_COMMIT__ : null;

/**
 * RFC 3339 UTC: SOURCE_DATE_EPOCH, else the commit's time (so the same commit builds the same
 * bytes), else the time of the build (no git). Null from source.
 */
export const BUILD_DATE: string | null = typeof __POLICYOCI_BUILD_DATE__ === 'string' && __POLICYOCI_BUILD_DATE__ !== '' ? __POLICYOCI_BUILD_DATE__ : null;

/**
 * SHA-256 of everything the build was made from (sources, engine schemas, locked dependencies):
 * what the cache of checked files (policy/checked-cache.ts) is keyed by. Undefined from source.
 */
export const BUILD_ID: string | undefined = typeof __POLICYOCI_BUILD_ID__ === 'string' ? __POLICYOCI_BUILD_ID__ : undefined;

/** What `version --format json` prints. */
export interface VersionInfo {
  version: string;
  commit: string | null;
  buildDate: string | null;
  node: string;
  platform: string;
  arch: string;
}

export function versionInfo(): VersionInfo {
  return { version: VERSION, commit: COMMIT, buildDate: BUILD_DATE, node: process.versions.node, platform: process.platform, arch: process.arch };
}

/** `kubectl-policyoci 0.1.0 (node 26.10.0, linux/x64, commit 1a2b3c4d5e6f, built 2025-01-01T00:00:00Z)` */
export function versionLine(info: VersionInfo = versionInfo()): string {
  const parts = [`node ${info.node}`, `${info.platform}/${info.arch}`];
  if (info.commit) parts.push(`commit ${info.commit.replace(/^([0-9a-f]{12})[0-9a-f]{28}/, '$1')}`);
  if (info.buildDate) parts.push(`built ${info.buildDate}`);
  return `${TOOL_NAME} ${info.version} (${parts.join(', ')})`;
}
