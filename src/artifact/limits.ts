// Bounds on what a pull will read. Pulled artifacts are untrusted input: every size and count is
// checked before the bytes are fetched or expanded. Each limit has a CLI flag (see README).
import { MAX_MANIFEST_BYTES } from '../oci/limits.ts';
import type { TarLimits } from './tarball.ts';
import { DEFAULT_TAR_LIMITS } from './tarball.ts';

export interface ReadLimits {
  maxManifestBytes: number;
  maxLayers: number;
  maxLayerBytes: number;
  maxTotalBytes: number;
  tar: TarLimits;
}

export const DEFAULT_READ_LIMITS: ReadLimits = {
  maxManifestBytes: MAX_MANIFEST_BYTES,
  maxLayers: 20_000,
  maxLayerBytes: 16 * 1024 * 1024,
  maxTotalBytes: 512 * 1024 * 1024,
  tar: DEFAULT_TAR_LIMITS,
};
