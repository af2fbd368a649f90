import { generateKeyPairSync } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { loadGraph } from "@stepstone/graph-file";
import { PlanContext } from "@stepstone/planner";
import { describe, expect, it } from "vitest";
import {
  BUNDLE_DIR,
  bundleFiles,
  bundleMtime,
  readTarGz,
  writeBundle,
  writeTarGz,
} from "../src/index.js";
import { useTempDirs } from "./helpers.js";

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
  const res = await writeBundle(loaded, ctx, r, tempDir(), key);
  const { files, manifest, warnings } = bundleFiles(loaded, ctx, r, key);
  const other = join(tempDir(), "other.tar.gz");
  await writeTarGz(other, files, bundleMtime());
  return { res, streamed: readFileSync(res.file), whole: readFileSync(other), manifest, warnings };
}

describe("writeBundle", () => {
  it("writes the bytes of writeTarGz(bundleFiles(...)), signed or not", async () => {
    const dir = tempDir();
    const key = join(dir, "key.pem");
    const { privateKey } = generateKeyPairSync("ed25519");
    writeFileSync(key, privateKey.export({ type: "pkcs8", format: "pem" }));
    for (const k of [undefined, key]) {
      const b = await both(join(REPO, "release-graph.json"), "2.10.1-transition.1", k);
      expect(b.streamed.equals(b.whole)).toBe(true);
      expect(b.res.manifest).toEqual(b.manifest);
      expect(b.res.warnings).toEqual(b.warnings);
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
