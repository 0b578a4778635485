// Counted nouns for messages: "1 policy", "2 policies", "0 policies". Every message is English:
// Intl.PluralRules('en') picks the form, and the few irregular plurals are listed here (a
// pluralisation library would be a dependency for three words).

const rules = new Intl.PluralRules('en');

/** Nouns whose plural is not the singular + "s". */
const IRREGULAR: Record<string, string> = {
  policy: 'policies',
  entry: 'entries',
};

/** The noun in the form that goes with `n`: noun(1, 'policy') = "policy", noun(2, 'policy') = "policies". */
export function noun(n: number, singular: string, plural?: string): string {
  if (rules.select(n) === 'one') return singular;
  return plural ?? IRREGULAR[singular] ?? `${singular}s`;
}

/** `n` and its noun: count(1, 'policy') = "1 policy", count(3, 'file') = "3 files". */
export function count(n: number, singular: string, plural?: string): string {
  return `${n} ${noun(n, singular, plural)}`;
}
