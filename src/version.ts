// The version is injected at build time by esbuild (see scripts/build.mjs); running from source
// reads package.json instead.
declare const __POLICYOCI_VERSION__: string | undefined;
declare const __POLICYOCI_BUILD_ID__: string | undefined;

export const TOOL_NAME = 'kubectl-policyoci';

export const VERSION: string =
  typeof __POLICYOCI_VERSION__ === 'string' ? __POLICYOCI_VERSION__ : '0.0.0-dev';

/**
 * SHA-256 of everything the build was made from (sources, engine schemas, locked dependencies):
 * what the cache of checked files (policy/checked-cache.ts) is keyed by. Undefined from source.
 */
export const BUILD_ID: string | undefined = typeof __POLICYOCI_BUILD_ID__ === 'string' ? __POLICYOCI_BUILD_ID__ : undefined;
