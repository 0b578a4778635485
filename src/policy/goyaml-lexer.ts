// parseAllDocuments with one difference in the lexer, where the YAML spec and Kubernetes' reader
// (go-yaml v2, a port of libyaml) part: go-yaml lets the continuation lines of a quoted scalar sit
// at any indentation, the spec (and so the yaml library) wants them indented deeper than their
// key. Real policies rely on it (e.g. gatekeeper-library's httpsonly template), and kubectl reads
// them, so we do too. The patch is on one Lexer instance (the library documents feeding Parser
// from your own lexer); everything else is the library's.
import { Composer, Lexer, Parser } from 'yaml';
import type { DocumentOptions, LineCounter, ParseOptions, SchemaOptions } from 'yaml';
import type { Document } from 'yaml';

interface LexerInternals {
  buffer: string;
  continueScalar(offset: number): number;
  parseQuotedScalar(): Generator<string, unknown>;
}

function goLexer(): Lexer {
  const lexer = new Lexer();
  const internals = lexer as unknown as LexerInternals;
  const continueScalar = internals.continueScalar.bind(lexer);
  const parseQuotedScalar = internals.parseQuotedScalar.bind(lexer);
  let quoted = false;
  internals.parseQuotedScalar = function* () {
    quoted = true;
    try {
      return yield* parseQuotedScalar();
    } finally {
      quoted = false;
    }
  };
  internals.continueScalar = (offset) => {
    if (!quoted) return continueScalar(offset);
    // A document marker still ends the scalar (an error, as in go-yaml); any indentation does not.
    const marker = internals.buffer.substr(offset, 3);
    const after = internals.buffer[offset + 3];
    return (marker === '---' || marker === '...') && (after === undefined || /\s/.test(after)) ? -1 : offset;
  };
  return lexer;
}

type Options = ParseOptions & DocumentOptions & SchemaOptions & { lineCounter: LineCounter };

/** Every document of `src`; errors carry `linePos` (as with prettyErrors). */
export function parseAllGoDocuments(src: string, options: Options): Document.Parsed[] {
  const parser = new Parser(options.lineCounter.addNewLine);
  const lexer = goLexer();
  options.lineCounter.addNewLine(0); // Parser.parse() does this; next() does not
  const tokens = function* () {
    for (const lexeme of lexer.lex(src)) yield* parser.next(lexeme);
    yield* parser.end();
  };
  const docs = Array.from(new Composer(options).compose(tokens())) as Document.Parsed[];
  for (const doc of docs) {
    for (const e of [...doc.errors, ...doc.warnings]) e.linePos ??= [options.lineCounter.linePos(e.pos[0]), options.lineCounter.linePos(e.pos[1])];
  }
  return docs;
}
