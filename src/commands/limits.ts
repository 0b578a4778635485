import type { Argv } from 'yargs';
import { DEFAULT_READ_LIMITS, type ReadLimits } from '../artifact/limits.ts';

export interface LimitFlags {
  'max-manifest-size': number;
  'max-layers': number;
  'max-layer-size': number;
  'max-uncompressed-size': number;
  'max-archive-entries': number;
}

export function withLimitFlags<T>(y: Argv<T>): Argv<T & LimitFlags> {
  const d = DEFAULT_READ_LIMITS;
  return y
    .option('max-manifest-size', { type: 'number', default: d.maxManifestBytes, describe: 'Largest manifest accepted (bytes)' })
    .option('max-layers', { type: 'number', default: d.maxLayers, describe: 'Most layers accepted' })
    .option('max-layer-size', { type: 'number', default: d.maxLayerBytes, describe: 'Largest layer accepted (bytes)' })
    .option('max-uncompressed-size', { type: 'number', default: d.tar.maxUncompressedBytes, describe: 'Largest decompressed archive (bytes)' })
    .option('max-archive-entries', { type: 'number', default: d.tar.maxEntries, describe: 'Most entries in an archive layer' }) as unknown as Argv<T & LimitFlags>;
}

export function limitsFrom(args: LimitFlags): ReadLimits {
  return {
    ...DEFAULT_READ_LIMITS,
    maxManifestBytes: args['max-manifest-size'],
    maxLayers: args['max-layers'],
    maxLayerBytes: args['max-layer-size'],
    tar: { maxUncompressedBytes: args['max-uncompressed-size'], maxEntries: args['max-archive-entries'] },
  };
}
