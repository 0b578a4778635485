import type { Argv } from 'yargs';
import { DEFAULT_READ_LIMITS, type ReadLimits } from '../artifact/limits.ts';
import { wholeNumber } from './options.ts';

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
    .option('max-manifest-size', { type: 'string', default: String(d.maxManifestBytes), coerce: wholeNumber('--max-manifest-size', 1), describe: 'Largest manifest accepted (bytes)' })
    .option('max-layers', { type: 'string', default: String(d.maxLayers), coerce: wholeNumber('--max-layers', 1), describe: 'Most layers accepted' })
    .option('max-layer-size', { type: 'string', default: String(d.maxLayerBytes), coerce: wholeNumber('--max-layer-size', 1), describe: 'Largest layer accepted (bytes)' })
    .option('max-uncompressed-size', { type: 'string', default: String(d.tar.maxUncompressedBytes), coerce: wholeNumber('--max-uncompressed-size', 1), describe: 'Largest decompressed archive (bytes)' })
    .option('max-archive-entries', { type: 'string', default: String(d.tar.maxEntries), coerce: wholeNumber('--max-archive-entries', 1), describe: 'Most entries in an archive layer' }) as unknown as Argv<T & LimitFlags>;
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
