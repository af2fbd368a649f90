import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readScript } from "@stepstone/graph-file";
import { useTempDirs } from "@stepstone/test-utils";
import { describe, expect, it } from "vitest";
import { ScriptReader } from "../src/scripts.js";

const tempDir = useTempDirs("scripts");

/** What readScript does with a script: its bytes, or its error. */
function outcome(read: () => Buffer): string {
  try {
    return `ok ${read().toString("latin1")}`;
  } catch (e) {
    return `error ${(e as NodeJS.ErrnoException).code ?? ""} ${(e as Error).message}`;
  }
}

describe("ScriptReader", () => {
  it("reads what readScript reads and refuses what it refuses, links included", () => {
    const outside = tempDir();
    writeFileSync(join(outside, "evil.sh"), "evil\n");
    mkdirSync(join(outside, "dir"));
    writeFileSync(join(outside, "dir", "x.sh"), "outside\n");
    const root = join(tempDir(), "graph");
    mkdirSync(join(root, "m", "sub"), { recursive: true });
    writeFileSync(join(root, "m", "a.sh"), "a\n");
    writeFileSync(join(root, "m", "sub", "b.sh"), "b\n");
    writeFileSync(join(root, "top.sh"), "top\n");
    writeFileSync(join(root, "m", "big.sh"), "x".repeat(200_000));
    symlinkSync(join(outside, "evil.sh"), join(root, "m", "evil.sh"));
    symlinkSync(join(root, "m", "a.sh"), join(root, "m", "inside.sh"));
    symlinkSync("sub/b.sh", join(root, "m", "relative.sh"));
    symlinkSync(join(outside, "dir"), join(root, "linked"));
    symlinkSync(join(root, "m", "sub"), join(root, "alias"));
    symlinkSync("nowhere", join(root, "m", "dangling.sh"));
    const scripts = [
      "m/a.sh",
      "m/sub/b.sh",
      "./m/a.sh",
      "m/./sub/../a.sh",
      "m//a.sh",
      "top.sh",
      "m/big.sh",
      "m/evil.sh",
      "m/inside.sh",
      "m/relative.sh",
      "m/dangling.sh",
      "linked/x.sh",
      "alias/b.sh",
      "../graph/m/a.sh",
      `${join(outside, "evil.sh")}`,
      "../x.sh",
      "m/missing.sh",
      "missing/a.sh",
      "m/a.sh/",
      "m/a.sh/.",
      "m",
      "m/",
      "m/sub/..",
      "",
      ".",
    ];
    const reader = new ScriptReader(root);
    for (const s of scripts) {
      expect(
        outcome(() => reader.read(s)),
        s,
      ).toBe(outcome(() => readScript(root, s)));
    }
    // And again, with every folder's real path known.
    for (const s of scripts) {
      expect(
        outcome(() => reader.read(s)),
        s,
      ).toBe(outcome(() => readScript(root, s)));
    }
    // Plain scripts take the fast path (one reused buffer), links readScript's.
    const a = reader.read("m/a.sh").buffer;
    expect(reader.read("m/sub/b.sh").buffer).toBe(a);
    expect(reader.read("m/inside.sh").buffer).not.toBe(a);
  });

  it("takes the graph folder's own link as the folder", () => {
    const real = tempDir();
    writeFileSync(join(real, "a.sh"), "a\n");
    const root = join(tempDir(), "graph");
    symlinkSync(real, root);
    expect(new ScriptReader(root).read("a.sh").toString()).toBe("a\n");
    expect(outcome(() => readScript(root, "a.sh"))).toBe("ok a\n");
  });
});
