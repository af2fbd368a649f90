import { createHash } from "node:crypto";
import { type Diagnostic, InputError, systemReason } from "@stepstone/errors";
import type { ReleaseGraph } from "@stepstone/graph";
import { readScript } from "./load.js";

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

/** Every script the graph names: readable inside its folder, its sha256 pin, `set -e`. */
export function checkScripts(
  graph: ReleaseGraph,
  root: string,
  file: string,
): { errors: Diagnostic[]; warnings: Diagnostic[] } {
  const errors: Diagnostic[] = [];
  const warnings: Diagnostic[] = [];
  graph.migrations.forEach((m, i) => {
    const where = `migrations[${i}].script`;
    let data: Buffer;
    try {
      data = readScript(root, m.script);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
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
