import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { loadGraph } from "@stepstone/graph-file";
import { PlanContext } from "@stepstone/planner";
import { useTempDirs } from "@stepstone/test-utils";
import { describe, expect, it } from "vitest";
import {
  BUNDLE_DIR,
  bundleFiles,
  bundleMtime,
  readTarGz,
  signingFor,
  UNSIGNED,
  writeBundle,
  writeTarGz,
} from "../src/index.js";

const REPO = resolve(import.meta.dirname, "../../..");

const tempDir = useTempDirs("bundle");

async function open(graph: string) {
  const loaded = await loadGraph(graph);
  return { loaded, ctx: new PlanContext(loaded.graph, null) };
}

/** writeBundle's bytes against those of writeTarGz(bundleFiles(...)) (what git sync writes). */
async function both(graph: string, release: string, key?: string) {
  const { loaded, ctx } = await open(graph);
  const r = ctx.releases.findIndex((x) => x.version === release);
  const signing =
    key === undefined
      ? UNSIGNED
      : signingFor(loaded, ctx.releases[r] as (typeof ctx.releases)[number], { sign: key });
  const res = await writeBundle(loaded, ctx, r, tempDir(), signing);
  const { files, manifest, warnings } = bundleFiles(loaded, ctx, r, signing);
  const other = join(tempDir(), "other.tar.gz");
  await writeTarGz(other, files, bundleMtime());
  return { res, streamed: readFileSync(res.file), whole: readFileSync(other), manifest, warnings };
}

describe("writeBundle", () => {
  it("writes the bytes of writeTarGz(bundleFiles(...)), signed (with its trust store) or not", async () => {
    // The sample's demo key of the transition (its signedBy), as the main job derives it.
    const dir = tempDir();
    execFileSync(process.execPath, [join(REPO, "scripts/demo-keys.mjs"), dir]);
    for (const k of [undefined, join(dir, "vendor-2025.pem")]) {
      const b = await both(join(REPO, "release-graph.json"), "2.10.1-transition.1", k);
      expect(b.streamed.equals(b.whole)).toBe(true);
      expect(b.res.manifest).toEqual(b.manifest);
      expect(b.res.warnings).toEqual(b.warnings);
      expect(b.manifest.keys.map((x) => x.id)).toEqual(
        k === undefined ? [] : ["vendor-2023", "vendor-2025"],
      );
      const names = (await readTarGz(b.res.file)).map((e) => e.path);
      expect(names.filter((n) => n.includes("/keys/"))).toEqual(
        k === undefined
          ? []
          : [`${BUNDLE_DIR}/keys/vendor-2023.pem`, `${BUNDLE_DIR}/keys/vendor-2025.pem`],
      );
    }
  });

  it("sorts entries by path when that is not the run order (10,000 scripts and more)", async () => {
    const dir = tempDir();
    mkdirSync(join(dir, "m"));
    writeFileSync(join(dir, "m", "good.sh"), "#!/bin/sh\nset -eu\n");
    writeFileSync(join(dir, "m", "bad.sh"), "#!/bin/sh\necho no\n");
    const n = 10_003;
    const migrations = [];
    for (let i = 0; i < n; i++) {
      migrations.push({
        id: `c-${i}`,
        component: "c",
        from: i + 1,
        to: i + 2,
        script: i % 5000 === 7 ? "m/bad.sh" : "m/good.sh",
        shippedIn: ">=1.0.0",
      });
    }
    writeFileSync(
      join(dir, "release-graph.json"),
      JSON.stringify({
        schemaVersion: 1,
        components: { c: { paths: ["var/lib/c"] } },
        releases: [{ version: "1.0.0", epochs: { c: n + 1 } }],
        migrations,
      }),
    );
    const b = await both(join(dir, "release-graph.json"), "1.0.0");
    expect(b.streamed.equals(b.whole)).toBe(true);
    // Warnings in run order, as before.
    expect(b.res.warnings.map((w) => w.where)).toEqual([
      "migrations[7].script",
      "migrations[5007].script",
    ]);
    const paths = (await readTarGz(b.res.file)).map((e) => e.path);
    expect(paths).toEqual([...paths].sort());
    expect(paths.indexOf(`${BUNDLE_DIR}/10000-c-10000-10001-c-9999.sh`)).toBeLessThan(
      paths.indexOf(`${BUNDLE_DIR}/1001-c-1001-1002-c-1000.sh`),
    );
    expect(paths.at(-1)).toBe(`${BUNDLE_DIR}/manifest.tsv`);
  });
});
