import { describe, expect, it } from "vitest";
import { componentFolders, componentTree, parseEpoch, type TreeEntry } from "../src/index.js";

const file = (name: string, oid = name, mode = "100644"): TreeEntry => ({ mode, name, oid });
const dir = (name: string): TreeEntry => ({ mode: "40000", name, oid: `tree-${name}` });

describe("the migrations/<component>/ layout", () => {
  it("reads EPOCH and <from>-<to>-<slug>.sh scripts, ids <component>-<from>-<to>-<slug>", () => {
    const t = componentTree("users", [
      file("EPOCH", "e1"),
      file("1-2-priv-groups.sh", "b1", "100755"),
      file("2-1-priv-groups.sh", "b2"),
      file("README.md"),
      file("helpers.sh.in"),
    ]);
    expect(t.epochBlob).toBe("e1");
    expect(t.scripts).toEqual([
      {
        id: "users-1-2-priv-groups",
        component: "users",
        from: 1,
        to: 2,
        path: "migrations/users/1-2-priv-groups.sh",
        blob: "b1",
        executable: true,
      },
      {
        id: "users-2-1-priv-groups",
        component: "users",
        from: 2,
        to: 1,
        path: "migrations/users/2-1-priv-groups.sh",
        blob: "b2",
        executable: false,
      },
    ]);
    expect(t.problems).toEqual([]);
  });

  it("reports scripts it cannot take, and skips them", () => {
    const t = componentTree("net", [
      file("2-3.sh"),
      file("1-1-noop.sh"),
      file("01-2-zero.sh"),
      file("1-2-Upper.sh"),
      file("3-4-link.sh", "l", "120000"),
      dir("EPOCH"),
    ]);
    expect(t.scripts).toEqual([]);
    expect(t.epochBlob).toBeNull();
    expect(t.problems).toEqual([
      "migrations/net/2-3.sh: not named <from>-<to>-<slug>.sh (lowercase slug, e.g. 1-2-priv-groups.sh); skipped",
      "migrations/net/1-1-noop.sh: from and to are both 1; skipped",
      "migrations/net/01-2-zero.sh: not named <from>-<to>-<slug>.sh (lowercase slug, e.g. 1-2-priv-groups.sh); skipped",
      "migrations/net/1-2-Upper.sh: not named <from>-<to>-<slug>.sh (lowercase slug, e.g. 1-2-priv-groups.sh); skipped",
      "migrations/net/3-4-link.sh: not a regular file (a link or a folder); skipped",
      "migrations/net/EPOCH: not a regular file; skipped",
    ]);
  });

  it("takes folders named like components, and reports the others", () => {
    const { folders, problems } = componentFolders([
      dir("users"),
      dir("Network"),
      file("README.md"),
      dir("phosphor_settings-2"),
    ]);
    expect(folders.map((f) => f.name)).toEqual(["users", "phosphor_settings-2"]);
    expect(problems).toEqual([
      "migrations/Network/: not a component name (^[a-z][a-z0-9_-]*$); skipped",
    ]);
  });

  it("reads an EPOCH file's integer", () => {
    expect(parseEpoch("2\n")).toBe(2);
    expect(parseEpoch(" 0 ")).toBe(0);
    expect(parseEpoch("two")).toBeNull();
    expect(parseEpoch("-1")).toBeNull();
    expect(parseEpoch("1.5")).toBeNull();
    expect(parseEpoch("")).toBeNull();
  });
});
