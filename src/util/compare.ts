// Sorting by UTF-16 code unit: the same order on every platform and in every locale (what
// Array.prototype.sort does without a comparator, for callers that sort by a derived string).

export function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
