import { once } from "node:events";
import { createColors } from "picocolors";

/**
 * Colour only for people: stdout is a TTY, NO_COLOR unset (any value disables it), TERM
 * not dumb; FORCE_COLOR forces it. (picocolors' own default also colours whenever CI is
 * set, which would put escape codes into logs and pipes.)
 */
export function colorEnabled(env = process.env, stream = process.stdout): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== "0") return true;
  return stream.isTTY === true && env.TERM !== "dumb";
}

export const color = createColors(colorEnabled());

export type Format = "text" | "json";

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/**
 * JSON of a large answer (a fleet's): the top level indented as printJson does, each element of an
 * array one compact line, written element by element (a million-device fleet has
 * thousands of classes: one string of all of them would be most of the command's memory).
 */
export async function printLargeJson(value: Record<string, unknown>): Promise<void> {
  const keys = Object.keys(value);
  let buf = "{\n";
  // Waits while a slow reader (a pipe) has not taken what was written: memory stays flat.
  const flush = async () => {
    const more = process.stdout.write(buf);
    buf = "";
    if (!more) await once(process.stdout, "drain");
  };
  for (const [i, k] of keys.entries()) {
    const v = value[k];
    buf += `  ${JSON.stringify(k)}: `;
    if (Array.isArray(v) && v.length > 0) {
      buf += "[\n";
      for (const [j, x] of v.entries()) {
        buf += `    ${JSON.stringify(x)}${j + 1 < v.length ? "," : ""}\n`;
        if (buf.length > 1 << 16) await flush();
      }
      buf += "  ]";
    } else buf += JSON.stringify(v, null, 2).replace(/\n/g, "\n  ");
    buf += i + 1 < keys.length ? ",\n" : "\n";
  }
  buf += "}\n";
  await flush();
}

export function out(line = ""): void {
  process.stdout.write(`${line}\n`);
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escapes are what we strip.
const ANSI = /\u001b\[[0-9;]*m/g;
const visible = (s: string) => s.replace(ANSI, "").length;

export type Cell = string | readonly string[];

/**
 * An aligned table; a cell may hold several lines. Colour codes do not count as width.
 * `notes[i]`: lines printed under row i, across the columns from the second (they say
 * something about the row, such as why a plan's stop is needed, and do not widen it).
 */
export function table(
  headers: readonly string[],
  rows: readonly (readonly Cell[])[],
  indent = "  ",
  notes: readonly (readonly string[] | undefined)[] = [],
): string {
  const lines = (c: Cell): readonly string[] =>
    typeof c === "string" ? [c] : c.length === 0 ? [""] : c;
  const widths = headers.map((h, i) =>
    Math.max(visible(h), ...rows.map((r) => Math.max(...lines(r[i] ?? "").map(visible)))),
  );
  const pad = (s: string, w: number) => s + " ".repeat(Math.max(0, w - visible(s)));
  const render = (cells: readonly string[]) =>
    indent +
    cells
      .map((c, i) => (i === cells.length - 1 ? c : pad(c, widths[i] as number)))
      .join("  ")
      .trimEnd();
  const outLines = [render(headers.map((h) => color.bold(h)))];
  const noteIndent = `${indent}${" ".repeat((widths[0] ?? 0) + 2)}`;
  rows.forEach((r, ri) => {
    const height = Math.max(...r.map((c) => lines(c).length));
    for (let k = 0; k < height; k++)
      outLines.push(render(headers.map((_, i) => lines(r[i] ?? "")[k] ?? "")));
    for (const n of notes[ri] ?? []) outLines.push(`${noteIndent}${n}`);
  });
  return outLines.join("\n");
}

export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}

/** At most `n` names, then how many more. */
export function some(names: readonly string[], n = 8): string {
  if (names.length <= n) return names.join(", ");
  return `${names.slice(0, n).join(", ")}, … (${names.length - n} more)`;
}
