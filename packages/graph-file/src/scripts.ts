import { createHash } from "node:crypto";
import { type Diagnostic, InputError, systemCode, systemReason } from "@stepstone/errors";
import type { Migration } from "@stepstone/graph";
import { readScript } from "./read-script.js";

export function sha256(data: Buffer | string): string {
  return createHash("sha256").update(data).digest("hex");
}

/** A script without `set -e` (in a `set` line or the shebang) keeps going after errors. */
export function hasSetE(text: string): boolean {
  return (
    /^\s*set\s+(-[a-zA-Z]*e[a-zA-Z]*|-o\s+errexit)\b/m.test(text) ||
    /^#!\S+\s+-[a-zA-Z]*e/.test(text)
  );
}

/** What checkScripts needs of a migration; null for an entry without a usable `script`. */
export type ScriptRef = Pick<Migration, "script" | "sha256"> | null;

/**
 * Every script the migrations name (in file order: the diagnostics' indexes are the
 * file's): readable inside the graph's folder, its sha256 pin, `set -e`.
 */
export function checkScripts(
  migrations: readonly ScriptRef[],
  root: string,
  file: string,
): { errors: Diagnostic[]; warnings: Diagnostic[] } {
  const errors: Diagnostic[] = [];
  const warnings: Diagnostic[] = [];
  migrations.forEach((m, i) => {
    if (m === null) return;
    const where = `migrations[${i}].script`;
    let data: Buffer;
    try {
      data = readScript(root, m.script);
    } catch (e) {
      const code = systemCode(e);
      const message =
        code === "ENOENT"
          ? `${m.script}: no such file (relative to ${root})`
          : e instanceof InputError
            ? e.message
            : `${m.script}: cannot read: ${systemReason(e)}`;
      errors.push({ file, where, message });
      return;
    }
    if (m.sha256 !== undefined) {
      const actual = sha256(data);
      if (actual !== m.sha256) {
        errors.push({
          file,
          where: `migrations[${i}].sha256`,
          message: `${m.script} has sha256 ${actual}, but the graph pins ${m.sha256}: a released migration must not change; restore the script or add a new migration`,
        });
      }
    }
    if (!hasSetE(data.toString("utf8"))) {
      warnings.push({
        file,
        where,
        message: `${m.script} does not use "set -e": add "set -eu" near the top so a failing command fails the migration`,
      });
    }
  });
  return { errors, warnings };
}

/**
 * The scripts of a graph file that did not validate, from its JSON as written: its
 * structural errors must not hide its missing scripts until a second run. Entries whose
 * `script` or `sha256` is itself wrong (`broken` names their places) are left to those errors.
 */
export function scriptRefs(json: unknown, broken: ReadonlySet<string>): ScriptRef[] {
  const list = (json as { migrations?: unknown } | null)?.migrations;
  if (!Array.isArray(list)) return [];
  return list.map((m: unknown, i) => {
    const { script, sha256 } = (typeof m === "object" && m !== null ? m : {}) as Record<
      string,
      unknown
    >;
    if (typeof script !== "string" || broken.has(`migrations[${i}].script`)) return null;
    const pin =
      typeof sha256 === "string" && !broken.has(`migrations[${i}].sha256`) ? sha256 : undefined;
    return { script, ...(pin !== undefined && { sha256: pin }) };
  });
}
