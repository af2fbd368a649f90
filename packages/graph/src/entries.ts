import type { Diagnostic } from "@stepstone/errors";

const ENTRY = /^migrations\[(\d+)\]/;

/**
 * Diagnostics about an entry of `migrations` also name it by its id, as the file writes it
 * (`migrations[3].to: migration "users-2-3": ...`): an index alone makes the reader count
 * entries (a release's messages name its version already). A message that names the id
 * already is left as is.
 */
export function nameEntries(diagnostics: readonly Diagnostic[], input: unknown): Diagnostic[] {
  const doc = (typeof input === "object" && input !== null ? input : {}) as Record<string, unknown>;
  return diagnostics.map((d) => {
    const m = ENTRY.exec(d.where);
    if (m === null) return d;
    const entries = doc.migrations;
    const entry = Array.isArray(entries) ? (entries[Number(m[1])] as unknown) : undefined;
    const id = (entry as Record<string, unknown> | null | undefined)?.id;
    if (typeof id !== "string" || id === "" || d.message.includes(id)) return d;
    return { ...d, message: `migration "${id}": ${d.message}` };
  });
}
