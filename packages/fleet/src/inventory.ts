import { createReadStream } from "node:fs";
import { BadLine, csvFields, type Device, deviceFromCsv, deviceFromJson } from "./device.js";

/** Where the lines of an inventory go, as they are read. */
export interface InventorySink {
  device(d: Device, line: number): void;
  bad(message: string, line: number): void;
}

export interface InventoryRead {
  readonly format: "jsonl" | "csv";
  /** Lines read (blank ones included). */
  readonly lines: number;
}

/**
 * Streams an inventory (a file, or stdin for "-") line by line into `sink`: JSON Lines
 * (`{"id","status"}` or `{"id","release","platform"?}`) or CSV (`id,release,platform`, an
 * optional header), told apart by the first line that is not blank. Blank lines are
 * skipped; a line that is not a device goes to `sink.bad` and reading goes on.
 */
export async function readInventory(
  path: string,
  sink: InventorySink,
  input: NodeJS.ReadableStream = path === "-" ? process.stdin : createReadStream(path),
): Promise<InventoryRead> {
  let format: "jsonl" | "csv" | null = null;
  let line = 0;
  const take = (raw: string) => {
    line++;
    const text = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (text.trim() === "") return;
    if (format === null) {
      const t = line === 1 && text.startsWith("\uFEFF") ? text.slice(1) : text;
      format = t.trimStart().startsWith("{") ? "jsonl" : "csv";
      // A CSV header names its columns.
      if (format === "csv" && /^\s*"?id"?\s*,/i.test(t)) return;
      return parse(t);
    }
    parse(text);
  };
  const parse = (text: string) => {
    try {
      sink.device(format === "jsonl" ? deviceFromJson(text) : deviceFromCsv(csvFields(text)), line);
    } catch (e) {
      if (!(e instanceof BadLine)) throw e;
      sink.bad(e.message, line);
    }
  };
  input.setEncoding("utf8");
  let rest = "";
  for await (const chunk of input as AsyncIterable<string>) {
    let text = rest === "" ? chunk : rest + chunk;
    let start = 0;
    for (let nl = text.indexOf("\n"); nl >= 0; nl = text.indexOf("\n", start)) {
      take(text.slice(start, nl));
      start = nl + 1;
    }
    rest = text.slice(start);
    text = "";
  }
  if (rest !== "") take(rest);
  return { format: format ?? "jsonl", lines: line };
}
