// Tag list pages (`GET /v2/<name>/tags/list?n=…`) and their RFC 8288 `Link: <…>; rel="next"` header.
import { PolicyOciError } from '../errors.ts';

/** The tags of one page; `null` or a missing list is an empty page. */
export function parseTagPage(body: Buffer, name: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new PolicyOciError('REGISTRY', `${name}: the tag list is not JSON`);
  }
  const tags = (parsed as { tags?: unknown } | null)?.tags;
  if (tags === undefined || tags === null) return [];
  if (!Array.isArray(tags) || !tags.every((t): t is string => typeof t === 'string')) {
    throw new PolicyOciError('REGISTRY', `${name}: the tag list is malformed`);
  }
  return tags;
}

/** The target of the `rel="next"` link, if any (relative to the registry). */
export function nextLink(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  for (const match of header.matchAll(/<([^>]*)>((?:\s*;\s*[^,;<]*)*)/g)) {
    const params = match[2] ?? '';
    if (/;\s*rel\s*=\s*"?(?:[^";]*\s)?next(?:\s[^";]*)?"?\s*(?:;|$)/i.test(params)) return match[1];
  }
  return undefined;
}
