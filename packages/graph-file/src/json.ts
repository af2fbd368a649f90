import { type Diagnostic, InputError } from "@stepstone/errors";
import { jsonPath } from "@stepstone/graph";
import { type ParseError, printParseErrorCode, visit } from "jsonc-parser";

/**
 * JSON.parse, plus what it does not tell: where a syntax error is (line:column), and
 * duplicate keys (JSON.parse silently keeps the last one, so `"golden": true, ...,
 * "golden": false` would drop a flag without a word).
 */
export function parseJsonStrict(text: string, file: string): unknown {
  const value = parseJson(text, file);
  checkDuplicateKeys(text, value, file);
  return value;
}

/** JSON.parse, with line:column for a syntax error. */
export function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw InputError.fromDiagnostics(syntaxErrors(text, file));
  }
}

/**
 * Throws on duplicate keys in `text` (whose parse is `value`). Duplicates make the text
 * hold more keys than the parsed value: count both (cheap; `valueKeys` when the caller
 * has counted the value's keys already), and only on a difference locate them with the
 * (slower) full scan.
 */
export function checkDuplicateKeys(
  text: string,
  value: unknown,
  file: string,
  valueKeys?: number,
): void {
  const inValue =
    valueKeys ?? (typeof value === "object" && value !== null ? keysInValue(value) : 0);
  if (keysInText(text) !== inValue) {
    const dups = duplicateKeys(text, file);
    if (dups.length > 0) throw InputError.fromDiagnostics(dups);
  }
}

/** Object keys in valid JSON text: strings followed by a colon. */
function keysInText(text: string): number {
  let count = 0;
  let i = text.indexOf('"');
  while (i !== -1) {
    let end = text.indexOf('"', i + 1);
    // Skip escaped quotes: an odd run of backslashes before the quote.
    for (;;) {
      let slashes = 0;
      while (text.charCodeAt(end - 1 - slashes) === 92) slashes++;
      if (slashes % 2 === 0) break;
      end = text.indexOf('"', end + 1);
    }
    let j = end + 1;
    let ch = text.charCodeAt(j);
    // JSON whitespace: space, tab, CR, LF (charCodeAt: no one-character strings).
    while (ch === 32 || ch === 10 || ch === 13 || ch === 9) ch = text.charCodeAt(++j);
    if (ch === 58 /* : */) count++;
    i = text.indexOf('"', j);
  }
  return count;
}

function keysInValue(value: unknown): number {
  // Only objects and arrays recurse: a call per string or number would double the cost.
  let n = 0;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      if (typeof v === "object" && v !== null) n += keysInValue(v);
    }
    return n;
  }
  for (const k in value as Record<string, unknown>) {
    n++;
    const v = (value as Record<string, unknown>)[k];
    if (typeof v === "object" && v !== null) n += keysInValue(v);
  }
  return n;
}

function syntaxErrors(text: string, file: string): Diagnostic[] {
  const errors: Diagnostic[] = [];
  visit(
    text,
    {
      onError(
        error: number,
        offset: number,
        _length: number,
        startLine: number,
        startCharacter: number,
      ) {
        const where = `${startLine + 1}:${startCharacter + 1}`;
        // One message per place: the parser says "property name expected" and then
        // "value expected" at the same `}` of a trailing comma.
        if (errors.some((e) => e.where === where)) return;
        errors.push({
          file,
          where,
          message: `invalid JSON: ${describeParseError(error, offset, text)}`,
        });
      },
    },
    { disallowComments: true, allowTrailingComma: false },
  );
  if (errors.length === 0) errors.push({ file, where: "", message: "invalid JSON" });
  // After the first syntax error the rest is mostly noise: report the first few.
  return errors.slice(0, 3);
}

function describeParseError(code: ParseError["error"], offset: number, text: string): string {
  const name = printParseErrorCode(code);
  if (offset >= text.length) return "unexpected end of file (truncated?)";
  const closing = text[offset];
  if (closing === "}" || closing === "]") {
    const before = text.slice(0, offset).trimEnd();
    if (before.endsWith(","))
      return `trailing comma before "${closing}" (JSON allows none: remove the last ",")`;
  }
  const human = name.replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase();
  return human;
}

function duplicateKeys(text: string, file: string): Diagnostic[] {
  const out: Diagnostic[] = [];
  // One frame per open object: the keys seen so far. Arrays push null.
  const frames: (Set<string> | null)[] = [];
  visit(text, {
    onObjectBegin: () => {
      frames.push(new Set());
    },
    onObjectEnd: () => {
      frames.pop();
    },
    onArrayBegin: () => {
      frames.push(null);
    },
    onArrayEnd: () => {
      frames.pop();
    },
    onObjectProperty(property, _offset, _length, startLine, _startCharacter, pathSupplier) {
      const keys = frames[frames.length - 1];
      if (!keys) return;
      if (keys.has(property)) {
        out.push({
          file,
          where: jsonPath([...pathSupplier(), property]),
          message: `duplicate key "${property}" (line ${startLine + 1}); JSON keeps only the last one, so remove one of them`,
        });
      }
      keys.add(property);
    },
  });
  return out;
}
