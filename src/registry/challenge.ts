// WWW-Authenticate parsing (RFC 9110 §11.6.1): several challenges per header or across headers,
// auth-params with token or quoted-string values (commas and escaped quotes inside quotes).

export interface Challenge {
  /** Lowercased scheme: "bearer", "basic", ... */
  scheme: string;
  /** Lowercased parameter names → values. */
  params: Record<string, string>;
}

const TOKEN_CHAR = /[!#$%&'*+.^_`|~0-9A-Za-z-]/;

class Scanner {
  pos = 0;
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }

  skipWhile(chars: RegExp): void {
    while (this.pos < this.text.length && chars.test(this.text[this.pos] ?? '')) this.pos++;
  }

  peek(): string | undefined {
    return this.text[this.pos];
  }

  token(): string {
    const start = this.pos;
    while (this.pos < this.text.length && TOKEN_CHAR.test(this.text[this.pos] ?? '')) this.pos++;
    return this.text.slice(start, this.pos);
  }

  quoted(): string {
    let out = '';
    this.pos++; // opening quote
    while (this.pos < this.text.length) {
      const ch = this.text[this.pos++] ?? '';
      if (ch === '"') return out;
      if (ch === '\\' && this.pos < this.text.length) out += this.text[this.pos++] ?? '';
      else out += ch;
    }
    return out; // unterminated: take what there is
  }

  /** True when the next non-space character is "=" (but not a token68 "=="/end padding). */
  paramFollows(): boolean {
    let i = this.pos;
    while (this.text[i] === ' ' || this.text[i] === '\t') i++;
    return this.text[i] === '=';
  }
}

function parseOne(header: string, out: Challenge[]): void {
  const s = new Scanner(header);
  let current: Challenge | undefined;
  while (s.pos < s.text.length) {
    s.skipWhile(/[\s,]/);
    const name = s.token();
    if (name === '') {
      s.pos++; // stray character: skip it
      continue;
    }
    if (current !== undefined && s.paramFollows()) {
      s.skipWhile(/[ \t]/);
      s.pos++; // "="
      s.skipWhile(/[ \t]/);
      const value = s.peek() === '"' ? s.quoted() : s.token();
      current.params[name.toLowerCase()] = value;
      continue;
    }
    current = { scheme: name.toLowerCase(), params: {} };
    out.push(current);
    s.skipWhile(/[ \t]/);
    // token68 credentials after the scheme (e.g. "Negotiate abc=="): not used by registries; skip.
    const save = s.pos;
    const t68 = s.token();
    if (t68 !== '' && !s.paramFollows()) {
      s.skipWhile(/=/);
    } else {
      s.pos = save;
    }
  }
}

export function parseChallenges(header: string | string[] | undefined): Challenge[] {
  const out: Challenge[] = [];
  for (const h of Array.isArray(header) ? header : header === undefined ? [] : [header]) parseOne(h, out);
  return out;
}
