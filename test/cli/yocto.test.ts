import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "@stepstone/test-utils";
import { describe, expect, it } from "vitest";
import { demoKeys, REPO, SAMPLE, stepstone } from "../helpers/cli.js";

const CLASS = join(REPO, "integrations/yocto/meta-stepstone/classes/migration.bbclass");

/**
 * The class's do_install:append as the shell BitBake would run, its variables set as for
 * a recipe (D, the unpack folder, the bundle's name, datadir /usr/share).
 */
function doInstall(vars: Record<string, string>): { code: number; stderr: string } {
  const text = readFileSync(CLASS, "utf8");
  const body = /do_install:append\(\) \{\n([\s\S]*?)\n\}/.exec(text)?.[1];
  expect(body).toBeDefined();
  const sh = (body as string).replace(/\$\{(\w+)\}/g, (_, name: string) => {
    const v = vars[name];
    if (v === undefined)
      throw new Error(`the class uses \${${name}}, which this test does not set`);
    return v;
  });
  const r = spawnSync("sh", ["-euc", `bbfatal() { echo "ERROR: $*" >&2; exit 1; }\n${sh}`], {
    encoding: "utf8",
  });
  return { code: r.status ?? -1, stderr: r.stderr };
}

describe("the Yocto class", () => {
  it("installs the bundle and nothing else, its trust store included, with no key list of its own", () => {
    expect(readFileSync(CLASS, "utf8")).not.toContain("MIGRATION_KEYS");
    const src = tempDir();
    const v = "2.10.1-transition.1";
    const r = stepstone([
      "bundle",
      "--graph",
      SAMPLE,
      "--release",
      v,
      "--out",
      src,
      "--sign",
      demoKeys().key("vendor-2025"),
    ]);
    expect(r.code, r.stderr).toBe(0);
    const D = tempDir();
    const bundle = `migration-${v}.tar.gz`;
    const res = doInstall({
      D,
      MIGRATION_SRC: src,
      MIGRATION_BUNDLE: bundle,
      MIGRATION_DIR: "/usr/share/migration.d",
    });
    expect(res.stderr).toBe("");
    expect(res.code).toBe(0);
    const installed = execFileSync("find", [".", "-type", "f"], { cwd: D, encoding: "utf8" })
      .trim()
      .split("\n")
      .map((p) => p.slice(2))
      .sort();
    const inBundle = execFileSync("tar", ["-tzf", join(src, bundle)], { encoding: "utf8" })
      .trim()
      .split("\n")
      .sort();
    expect(installed).toEqual(inBundle);
    expect(installed).toContain("usr/share/migration.d/keys/vendor-2023.pem");
    expect(installed).toContain("usr/share/migration.d/keys/vendor-2025.pem");
  });

  it("fails the build on a tarball with entries outside usr/share/migration.d", () => {
    const src = tempDir();
    mkdirSync(join(src, "etc"));
    execFileSync("sh", [
      "-c",
      `echo x > ${src}/etc/evil && tar -czf ${src}/b.tar.gz -C ${src} etc/evil`,
    ]);
    const res = doInstall({
      D: tempDir(),
      MIGRATION_SRC: src,
      MIGRATION_BUNDLE: "b.tar.gz",
      MIGRATION_DIR: "/usr/share/migration.d",
    });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(
      "ERROR: b.tar.gz: entries outside usr/share/migration.d: etc/evil",
    );
  });
});
