// The version is injected at build time by esbuild (see scripts/build.mjs); running from source
// reads package.json instead.
declare const __POLICYOCI_VERSION__: string | undefined;

export const TOOL_NAME = 'kubectl-policyoci';

export const VERSION: string =
  typeof __POLICYOCI_VERSION__ === 'string' ? __POLICYOCI_VERSION__ : '0.0.0-dev';
