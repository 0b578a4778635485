// The line verify, pull, apply and diff print when a signature needed a Sigstore trusted root.
import type { TrustedRootUsed } from '../signing/trust.ts';

/** `Trusted root: <source> (<detail>)`, or nothing when no trusted root was used. */
export function trustedRootLines(root: TrustedRootUsed | undefined): string[] {
  return root ? [`Trusted root: ${root.source} (${root.detail})`] : [];
}
