/**
 * The STIX 2.1 patterning language (STIX Version 2.1, OASIS Standard, §9 "STIX Patterning",
 * https://docs.oasis-open.org/cti/stix/v2.1/os/stix-v2.1-os.html#_e8slinrhxcc9), parsed by
 * recursive descent over the grammar OASIS publishes for 2.1 (the ANTLR `STIXPattern.g4` of
 * oasis-open/cti-pattern-validator, `stix2patterns/v21`): tokens by longest match, ties to the
 * rule listed first, as ANTLR's lexer does; keywords upper case; literals as the lexer rules
 * define them (a timestamp's month 01–12 and hour 00–23, base64 in whole quanta).
 *
 * Beyond the grammar, the rules §9 states in prose: a qualifier appears once per observation
 * expression (§9.3.3), `REPEATS` and `WITHIN` take a positive number, `STOP` is later than
 * `START`, a timestamp is a calendar date (§3.2), and a hash of a named algorithm has its length.
 *
 * No npm package parses STIX 2.1 patterns (checked December 2026), hence this file.
 */
import { compareTimestamps, timestampProblem } from './stix-time.ts';

/** Longer patterns are refused before lexing: no indicator needs more. */
export const MAX_PATTERN_LENGTH = 20_000;
/** Nesting of parentheses and brackets; deeper patterns are refused, never overflow the stack. */
const MAX_DEPTH = 64;

export type PatternResult =
  | { ok: true; observations: number }
  | { ok: false; column: number; message: string };

type Kind =
  | 'IntNeg'
  | 'IntPos'
  | 'FloatNeg'
  | 'FloatPos'
  | 'Hex'
  | 'Binary'
  | 'String'
  | 'Bool'
  | 'Timestamp'
  | Keyword
  | 'IdentifierWithoutHyphen'
  | 'IdentifierWithHyphen'
  | 'EQ'
  | 'NEQ'
  | 'LT'
  | 'LE'
  | 'GT'
  | 'GE'
  | ':'
  | '.'
  | ','
  | '('
  | ')'
  | '['
  | ']'
  | '*'
  | 'EOF';

const KEYWORDS = [
  'AND',
  'OR',
  'NOT',
  'FOLLOWEDBY',
  'LIKE',
  'MATCHES',
  'ISSUPERSET',
  'ISSUBSET',
  'EXISTS',
  'LAST',
  'IN',
  'START',
  'STOP',
  'SECONDS',
  'WITHIN',
  'REPEATS',
  'TIMES',
] as const;
type Keyword = (typeof KEYWORDS)[number];

const B64 = '[A-Za-z0-9+/]';
/** The lexer rules in the grammar's order: on equal lengths the first wins. */
const RULES: ReadonlyArray<readonly [Kind | 'skip', RegExp]> = [
  ['IntNeg', /-(?:0|[1-9][0-9]*)/y],
  ['IntPos', /\+?(?:0|[1-9][0-9]*)/y],
  ['FloatNeg', /-[0-9]*\.[0-9]+/y],
  ['FloatPos', /\+?[0-9]*\.[0-9]+/y],
  ['Hex', /h'(?:[A-Fa-f0-9]{2})*'/y],
  ['Binary', new RegExp(`b'(?:${B64}{4})*(?:${B64}{4}|${B64}{3}=|${B64}{2}==)'`, 'y')],
  ['String', /'(?:[^'\\]|\\'|\\\\)*'/y],
  ['Bool', /true|false/y],
  [
    'Timestamp',
    /t'[0-9]{4}-(?:0[1-9]|1[012])-(?:0[1-9]|[12][0-9]|3[01])T(?:[01][0-9]|2[0-3]):[0-5][0-9]:(?:[0-5][0-9]|60)(?:\.[0-9]+)?Z'/y,
  ],
  ...KEYWORDS.map((k) => [k, new RegExp(k, 'y')] as const),
  ['IdentifierWithoutHyphen', /[a-zA-Z_][a-zA-Z0-9_]*/y],
  ['IdentifierWithHyphen', /[a-zA-Z_][a-zA-Z0-9_-]*/y],
  ['EQ', /==?/y],
  ['NEQ', /!=|<>/y],
  ['LT', /</y],
  ['LE', /<=/y],
  ['GT', />/y],
  ['GE', />=/y],
  [':', /:/y],
  ['.', /\./y],
  [',', /,/y],
  [')', /\)/y],
  ['(', /\(/y],
  [']', /\]/y],
  ['[', /\[/y],
  ['*', /\*/y],
  [
    'skip',
    /[ \t\r\n\v\f\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+|\/\*[\s\S]*?\*\/|\/\/[^\r\n]*/y,
  ],
];

interface Token {
  kind: Kind;
  text: string;
  /** 1-based column of the token's first character. */
  column: number;
}

class PatternError extends Error {
  constructor(
    readonly column: number,
    message: string,
  ) {
    super(message);
  }
}

function lex(pattern: string): Token[] {
  const tokens: Token[] = [];
  let at = 0;
  while (at < pattern.length) {
    let best: { kind: Kind | 'skip'; length: number } | undefined;
    for (const [kind, rule] of RULES) {
      rule.lastIndex = at;
      const m = rule.exec(pattern);
      if (m && m[0].length > (best?.length ?? 0)) best = { kind, length: m[0].length };
    }
    if (!best) throw new PatternError(at + 1, `unexpected character ${show(pattern[at] ?? '')}`);
    if (best.kind !== 'skip')
      tokens.push({ kind: best.kind, text: pattern.slice(at, at + best.length), column: at + 1 });
    at += best.length;
  }
  tokens.push({ kind: 'EOF', text: '', column: pattern.length + 1 });
  return tokens;
}

const show = (text: string) =>
  text ? `'${text.length > 40 ? `${text.slice(0, 37)}…` : text}'` : 'the end';

/** Checks a STIX 2.1 pattern (`pattern_type: "stix"`): its grammar and §9's rules. */
export function parseStixPattern(pattern: string): PatternResult {
  if (pattern.length > MAX_PATTERN_LENGTH)
    return { ok: false, column: 1, message: `is longer than ${MAX_PATTERN_LENGTH} characters` };
  try {
    const parser = new Parser(lex(pattern));
    const observations = parser.pattern();
    return { ok: true, observations };
  } catch (e) {
    if (e instanceof PatternError) return { ok: false, column: e.column, message: e.message };
    throw e;
  }
}

const ORDER_OPS: ReadonlySet<Kind> = new Set(['GT', 'LT', 'GE', 'LE']);
const STRING_OPS: ReadonlySet<Kind> = new Set(['LIKE', 'MATCHES', 'ISSUBSET', 'ISSUPERSET']);
const ORDERABLE: ReadonlySet<Kind> = new Set([
  'IntPos',
  'IntNeg',
  'FloatPos',
  'FloatNeg',
  'String',
  'Binary',
  'Hex',
  'Timestamp',
]);

/** Hex digits of the hashes §6.7 (hash algorithm vocabulary) names with a fixed length. */
const HASH_HEX_LENGTH: Record<string, number> = {
  MD5: 32,
  'SHA-1': 40,
  'SHA-256': 64,
  'SHA-512': 128,
  'SHA3-256': 64,
  'SHA3-512': 128,
};

class Parser {
  readonly #tokens: readonly Token[];
  #at = 0;
  #depth = 0;
  #observations = 0;

  constructor(tokens: readonly Token[]) {
    this.#tokens = tokens;
  }

  get #next(): Token {
    return this.#tokens[this.#at] as Token;
  }

  #take(): Token {
    const t = this.#next;
    if (t.kind !== 'EOF') this.#at++;
    return t;
  }

  #accept(kind: Kind): Token | undefined {
    return this.#next.kind === kind ? this.#take() : undefined;
  }

  #expect(what: string, ...kinds: Kind[]): Token {
    const t = this.#next;
    if (!kinds.includes(t.kind))
      throw new PatternError(t.column, `expected ${what}, found ${show(t.text)}`);
    return this.#take();
  }

  #enter(column: number): void {
    if (++this.#depth > MAX_DEPTH)
      throw new PatternError(column, `is nested more than ${MAX_DEPTH} deep`);
  }

  /** pattern : observationExpressions EOF */
  pattern(): number {
    this.#observationExpressions();
    this.#expect('FOLLOWEDBY, OR, AND, a qualifier or the end', 'EOF');
    return this.#observations;
  }

  /** observationExpressions : observationExpressions FOLLOWEDBY observationExpressions | observationExpressionOr */
  #observationExpressions(): void {
    do this.#observationOr();
    while (this.#accept('FOLLOWEDBY'));
  }

  #observationOr(): void {
    do this.#observationAnd();
    while (this.#accept('OR'));
  }

  #observationAnd(): void {
    do this.#observation();
    while (this.#accept('AND'));
  }

  /**
   * observationExpression : '[' comparisonExpression ']' | '(' observationExpressions ')'
   *   | observationExpression (startStopQualifier | withinQualifier | repeatedQualifier)
   */
  #observation(): void {
    const open = this.#expect("'[' or '('", '[', '(');
    this.#enter(open.column);
    if (open.kind === '[') {
      this.#observations++;
      this.#comparison();
      this.#expect("AND, OR or ']'", ']');
    } else {
      this.#observationExpressions();
      this.#expect("FOLLOWEDBY, OR, AND or ')'", ')');
    }
    this.#depth--;
    // As the OASIS validator: a qualifier kind given twice to a bracketed expression is refused;
    // a parenthesized one may be qualified again (`([…]) WITHIN 5 SECONDS WITHIN 6 SECONDS`).
    const seen = new Set<string>();
    for (;;) {
      const q = this.#next;
      if (q.kind !== 'START' && q.kind !== 'WITHIN' && q.kind !== 'REPEATS') return;
      if (open.kind === '[' && seen.has(q.kind))
        throw new PatternError(
          q.column,
          `a ${q.kind} qualifier is given twice to one observation expression`,
        );
      seen.add(q.kind);
      this.#take();
      if (q.kind === 'START') this.#startStop();
      else if (q.kind === 'WITHIN') {
        const n = this.#expect('a positive number of seconds', 'IntPos', 'FloatPos');
        if (!(Number(n.text) > 0))
          throw new PatternError(n.column, 'WITHIN needs more than 0 seconds');
        this.#expect("'SECONDS'", 'SECONDS');
      } else {
        const n = this.#expect('a positive whole number', 'IntPos');
        if (!(Number(n.text) > 0))
          throw new PatternError(n.column, 'REPEATS needs at least 1 time');
        this.#expect("'TIMES'", 'TIMES');
      }
    }
  }

  /** startStopQualifier : START TimestampLiteral STOP TimestampLiteral, STOP later than START. */
  #startStop(): void {
    const start = this.#timestamp();
    this.#expect("'STOP'", 'STOP');
    const stop = this.#timestamp();
    if (compareTimestamps(stop.value, start.value) <= 0)
      throw new PatternError(stop.column, 'the STOP time must be later than the START time');
  }

  #timestamp(): { value: string; column: number } {
    const t = this.#expect("a timestamp t'…'", 'Timestamp');
    const value = t.text.slice(2, -1);
    const problem = timestampProblem(value);
    if (problem) throw new PatternError(t.column, `t'${value}' ${problem}`);
    return { value, column: t.column };
  }

  #comparison(): void {
    do this.#comparisonAnd();
    while (this.#accept('OR'));
  }

  #comparisonAnd(): void {
    do this.#propTest();
    while (this.#accept('AND'));
  }

  /** propTest: a comparison of an object path, `EXISTS path`, or a parenthesized comparison. */
  #propTest(): void {
    const open = this.#accept('(');
    if (open) {
      this.#enter(open.column);
      this.#comparison();
      this.#expect("AND, OR or ')'", ')');
      this.#depth--;
      return;
    }
    if (this.#accept('EXISTS')) {
      this.#objectPath();
      return;
    }
    const path = this.#objectPath();
    this.#accept('NOT');
    const op = this.#expect(
      'a comparison operator',
      'EQ',
      'NEQ',
      'GT',
      'LT',
      'GE',
      'LE',
      'IN',
      'LIKE',
      'MATCHES',
      'ISSUBSET',
      'ISSUPERSET',
    );
    if (op.kind === 'IN') this.#set();
    else if (STRING_OPS.has(op.kind)) this.#expect("a string '…'", 'String');
    else if (ORDER_OPS.has(op.kind)) this.#literal(ORDERABLE, 'an orderable literal');
    else {
      const value = this.#literal(new Set([...ORDERABLE, 'Bool']), 'a literal');
      this.#checkHash(path, value);
    }
  }

  /** objectPath : objectType ':' firstPathComponent objectPathComponent? */
  #objectPath(): string[] {
    this.#expect('an object type', 'IdentifierWithoutHyphen', 'IdentifierWithHyphen');
    this.#expect("':'", ':');
    const first = this.#expect('a property name', 'IdentifierWithoutHyphen', 'String');
    const path = [unquote(first)];
    for (;;) {
      if (this.#accept('.')) {
        const key = this.#next;
        if (key.kind === 'IdentifierWithHyphen')
          throw new PatternError(
            key.column,
            `a property name with a hyphen must be quoted: '${key.text}'`,
          );
        path.push(unquote(this.#expect('a property name', 'IdentifierWithoutHyphen', 'String')));
      } else if (this.#accept('[')) {
        path.push(this.#expect("an index or '*'", 'IntPos', 'IntNeg', '*').text);
        this.#expect("']'", ']');
      } else return path;
    }
  }

  /** setLiteral : '(' ')' | '(' primitiveLiteral (',' primitiveLiteral)* ')' */
  #set(): void {
    this.#expect("'('", '(');
    if (this.#accept(')')) return;
    do this.#literal(new Set([...ORDERABLE, 'Bool']), 'a literal');
    while (this.#accept(','));
    this.#expect("',' or ')'", ')');
  }

  #literal(kinds: ReadonlySet<Kind>, what: string): Token {
    const t = this.#next;
    if (!kinds.has(t.kind))
      throw new PatternError(t.column, `expected ${what}, found ${show(t.text)}`);
    if (t.kind === 'Timestamp') this.#timestamp();
    else this.#take();
    return t;
  }

  /** `hashes.'SHA-256' = '…'`: a hash of a fixed-length algorithm must have that many hex digits. */
  #checkHash(path: readonly string[], value: Token): void {
    const algorithm = path.at(-2) === 'hashes' ? path.at(-1) : undefined;
    const length = algorithm ? HASH_HEX_LENGTH[algorithm] : undefined;
    if (!length || value.kind !== 'String') return;
    const hex = value.text.slice(1, -1);
    if (!new RegExp(`^[0-9A-Fa-f]{${length}}$`).test(hex))
      throw new PatternError(
        value.column,
        `'${hex.slice(0, 40)}' is not a valid ${algorithm} hash`,
      );
  }
}

function unquote(t: Token): string {
  return t.kind === 'String' ? t.text.slice(1, -1).replace(/\\(['\\])/g, '$1') : t.text;
}
