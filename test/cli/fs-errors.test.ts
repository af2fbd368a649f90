/**
 * A file-system error is the user's to fix: one line saying what could not be done to
 * which path and why, exit 2, never "internal error" with a stack trace.
 */
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "@stepstone/test-utils";
import { describe, expect, it } from "vitest";
import { stepstone } from "../helpers/cli.js";

describe("file-system errors", () => {
  it("runner --out FILE (an existing file): exit 2, one line naming the path", () => {
    const file = join(tempDir(), "a-file");
    writeFileSync(file, "x");
    const r = stepstone(["runner", "--out", file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `stepstone: cannot create the folder ${file}/usr/libexec/migration: a part of the path is a file, not a folder (ENOTDIR)\n`,
    );
  });

  it("bundle --out FILE (an existing file): exit 2, nothing written", () => {
    const file = join(tempDir(), "a-file");
    writeFileSync(file, "x");
    const r = stepstone(["bundle", "--release", "2.11.0", "--out", file, "--unsigned"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^stepstone: cannot create the folder .*a-file: it already exists \(EEXIST\)$/m,
    );
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
    expect(existsSync(`${file}.tmp`)).toBe(false);
  });
});
