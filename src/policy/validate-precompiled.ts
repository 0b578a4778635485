// The schema validators compiled at build time. In the source tree this table is empty and every
// validator is compiled on first use (crd-schema.ts); scripts/build.mjs replaces this module in
// the bundle by one entry per "group/version/kind", each loading its validator's standalone code
// (validate-standalone.ts) only when a policy of that kind is validated.
import type { ValidateFunction } from 'ajv';

export const precompiled: Readonly<Record<string, () => Promise<ValidateFunction>>> = {};
