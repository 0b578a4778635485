// Plain scalars resolved as Kubernetes resolves them: kubectl and the API server read YAML with
// sigs.k8s.io/yaml over go-yaml v2, whose rules are YAML 1.1's with Go's number parsing (checked
// against them by test/differential/yaml-k8s.test.ts). The yaml library ships YAML 1.1 and 1.2
// schemas, but neither is go-yaml's (timestamps stay strings there, `0o17`, `1_0` and `08` are
// numbers, `1:20` is not), so these tags replace the library's scalar tags.
import type { ScalarTag } from 'yaml';

const MAPPED: Record<string, unknown> = {};
for (const s of ['y', 'Y', 'yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON']) MAPPED[s] = true;
for (const s of ['n', 'N', 'no', 'No', 'NO', 'false', 'False', 'FALSE', 'off', 'Off', 'OFF']) MAPPED[s] = false;
for (const s of ['', '~', 'null', 'Null', 'NULL']) MAPPED[s] = null;
for (const s of ['.nan', '.NaN', '.NAN']) MAPPED[s] = NaN;
for (const s of ['.inf', '.Inf', '.INF', '+.inf', '+.Inf', '+.INF']) MAPPED[s] = Infinity;
for (const s of ['-.inf', '-.Inf', '-.INF']) MAPPED[s] = -Infinity;

const INT64_MIN = -(2n ** 63n);
const UINT64_MAX = 2n ** 64n - 1n;
/** go-yaml's float syntax (checked after `_` are removed). */
const YAML_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;
/** What Go's strconv.ParseFloat reads from a text starting with `.` (no `_`, no hex, no inf/nan). */
const DOT_FLOAT = /^\.[0-9]+([eE][-+]?[0-9]+)?$/;

/** An integer as Go's strconv.ParseInt/ParseUint(s, 0, 64) reads it, or undefined. */
function goInteger(s: string): bigint | undefined {
  const m = /^([-+]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)$/.exec(s);
  if (!m) return undefined;
  const body = m[2]!;
  let v: bigint;
  if (/^0[oO]/.test(body)) v = BigInt(`0o${body.slice(2)}`);
  else if (/^0[0-7]+$/.test(body)) v = BigInt(`0o${body.slice(1)}`);
  else v = BigInt(body); // decimal, 0x, 0b (BigInt reads both prefixes)
  if (m[1] === '-') v = -v;
  // ParseInt gives int64; failing that ParseUint (no sign) gives uint64.
  if (v >= INT64_MIN && v < 2n ** 63n) return v;
  if (m[1] === '' && v <= UINT64_MAX) return v;
  return undefined;
}

/**
 * A plain scalar's value as go-yaml v2 resolves it: a boolean, null, a number, or the text itself.
 * NaN and ±Infinity are returned as such (JSON cannot hold them: the reader refuses them).
 * Integers a JavaScript number would write back as another integer (9007199254740993) come back as bigint.
 */
export function goPlainScalar(s: string): unknown {
  if (Object.hasOwn(MAPPED, s)) return MAPPED[s];
  const c = s.charCodeAt(0);
  if (s[0] === '.') return DOT_FLOAT.test(s) ? Number(s) : s;
  const digitOrSign = (c >= 48 && c <= 57) || s[0] === '-' || s[0] === '+';
  if (!digitOrSign) return s;
  if (isGoTimestamp(s)) return s;
  const plain = s.replaceAll('_', '');
  const int = goInteger(plain);
  // A number when JavaScript writes it back as the same integer (what we send is what kubectl sends).
  if (int !== undefined) return String(Number(int)) === int.toString() ? Number(int) : int;
  if (YAML_FLOAT.test(plain)) {
    const f = Number(plain);
    if (Number.isFinite(f)) return f; // Go's ParseFloat refuses what overflows: then it is text
  }
  return s;
}

/** Go's time.Parse with go-yaml's formats: `2006-1-2`, `…T15:4:5.999999999Z07:00`, `… 15:4:5.999999999`. */
function isGoTimestamp(s: string): boolean {
  return (
    /^\d{4}-\d{1,2}-\d{1,2}$/.test(s) ||
    /^\d{4}-\d{1,2}-\d{1,2}[Tt]\d{1,2}:\d{1,2}:\d{1,2}(\.\d+)?(Z|[-+]\d{2}:\d{2})$/.test(s) ||
    /^\d{4}-\d{1,2}-\d{1,2} \d{1,2}:\d{1,2}:\d{1,2}(\.\d+)?$/.test(s)
  ) && validDate(s);
}

function validDate(s: string): boolean {
  const [y, mo, d] = s.split(/[-Tt ]/).slice(0, 3).map(Number) as [number, number, number];
  if (mo < 1 || mo > 12 || d < 1) return false;
  const days = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  if (d > days) return false;
  const t = /[Tt ](\d{1,2}):(\d{1,2}):(\d{1,2})/.exec(s);
  return !t || (Number(t[1]) < 24 && Number(t[2]) < 60 && Number(t[3]) < 60);
}

/**
 * The one tag for every untagged plain scalar (test matches all), resolved by goPlainScalar. Its
 * tag name is only a label: our writer never uses these tags (canonical.ts writes on its own).
 */
export const goScalarTag: ScalarTag = {
  tag: 'tag:policyoci,2026:go-yaml-v2-plain',
  default: true,
  test: /^(?!<<$)[\s\S]*$/, // `<<` as a key is the merge tag's (a value `<<` stays a string)
  resolve: (s: string) => goPlainScalar(s) as string,
};
