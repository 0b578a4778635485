import { isPolicyOciError } from '../errors.ts';
import type { Descriptor } from '../oci/types.ts';
import type { Target } from './types.ts';

/** `target.resolve`, with "not there" as undefined instead of a NOT_FOUND error. */
export async function resolveOptional(target: Target, reference: string): Promise<Descriptor | undefined> {
  try {
    return await target.resolve(reference);
  } catch (err) {
    if (isPolicyOciError(err) && err.code === 'NOT_FOUND') return undefined;
    throw err;
  }
}
