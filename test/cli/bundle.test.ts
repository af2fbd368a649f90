import { execFileSync, spawnSync } from "node:child_process";
import {
  chmodSync,
  cpSync,
  mkdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { tempDir } from "@stepstone/test-utils";
import { describe, expect, it } from "vitest";
import { demoKeys, REPO, SAMPLE, stepstone } from "../helpers/cli.js";

const TRANSITION = "2.10.1-transition.1";
const BUNDLE = `migration-${TRANSITION}.tar.gz`;
const D = "usr/share/migration.d";

function keypair(dir: string): { key: string; pub: string } {
  const key = join(dir, "key.pem");
  const pub = join(dir, "pub.pem");
  execFileSync("openssl", ["genpkey", "-algorithm", "ed25519", "-out", key]);
  execFileSync("openssl", ["pkey", "-in", key, "-pubout", "-out", pub]);
  return { key, pub };
}

/** Writes a .tar.gz with Python's tarfile, which can make any entry a bundle should refuse. */
function craft(
  file: string,
  entries: {
    name: string;
    type?: "file" | "symlink" | "chr" | "dir";
    data?: string;
    link?: string;
  }[],
) {
  const py = `
import io, json, sys, tarfile
entries = json.loads(sys.argv[2])
with tarfile.open(sys.argv[1], "w:gz") as t:
    for e in entries:
        i = tarfile.TarInfo(e["name"]); i.mode = 0o755
        kind = e.get("type", "file")
        if kind == "file":
            data = e.get("data", "").encode(); i.size = len(data); t.addfile(i, io.BytesIO(data))
        elif kind == "symlink":
            i.type = tarfile.SYMTYPE; i.linkname = e["link"]; t.addfile(i)
        elif kind == "chr":
            i.type = tarfile.CHRTYPE; i.devmajor = 1; i.devminor = 3; t.addfile(i)
        else:
            i.type = tarfile.DIRTYPE; t.addfile(i)
`;
  execFileSync("python3", ["-c", py, file, JSON.stringify(entries)]);
}

/** The entries of a good bundle, extracted, so tests can tamper with them. */
function extract(bundle: string): Record<string, string> {
  const dir = tempDir();
  execFileSync("tar", ["-xzf", bundle, "-C", dir]);
  const out: Record<string, string> = {};
  for (const name of execFileSync("tar", ["-tzf", bundle], { encoding: "utf8" })
    .trim()
    .split("\n")) {
    out[name] = readFileSync(join(dir, name), "latin1");
  }
  return out;
}

/** The transition's own key (its signedBy in the sample), as the main job derives it. */
const signed = () => ["--sign", demoKeys().key("vendor-2025")];

function build(out: string, extra: string[] = signed(), env: Record<string, string> = {}) {
  const r = stepstone(
    ["bundle", "--graph", SAMPLE, "--release", TRANSITION, "--out", out, ...extra],
    { env },
  );
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  return join(out, BUNDLE);
}

describe("stepstone bundle", () => {
  it("is reproducible byte for byte, whatever the scripts' mtimes or the day", () => {
    const a = build(tempDir());
    // Another checkout of the same sources, with other file times: the same bytes.
    const copy = tempDir();
    cpSync(SAMPLE, join(copy, "release-graph.json"));
    cpSync(join(REPO, "migrations"), join(copy, "migrations"), { recursive: true });
    cpSync(join(REPO, "keys"), join(copy, "keys"), { recursive: true });
    for (const f of execFileSync("find", [join(copy, "migrations"), "-type", "f"], {
      encoding: "utf8",
    })
      .trim()
      .split("\n")) {
      utimesSync(f, new Date("2031-05-05"), new Date("2031-05-05"));
    }
    const out = tempDir();
    const r = stepstone([
      "bundle",
      "--graph",
      join(copy, "release-graph.json"),
      "--release",
      TRANSITION,
      "--out",
      out,
      ...signed(),
    ]);
    expect(r.code).toBe(0);
    expect(readFileSync(join(out, BUNDLE)).equals(readFileSync(a))).toBe(true);
    // SOURCE_DATE_EPOCH sets every entry's mtime.
    const c = build(tempDir(), signed(), { SOURCE_DATE_EPOCH: "1700000000" });
    expect(readFileSync(c).equals(readFileSync(a))).toBe(false);
    expect(execFileSync("tar", ["--full-time", "-tvzf", c], { encoding: "utf8" })).toContain(
      "2023-11-14 22:13:20",
    );
    // gzip header: no file name (FLG 0) and no time (MTIME 0).
    const gz = readFileSync(a);
    expect([...gz.subarray(0, 8)]).toEqual([0x1f, 0x8b, 8, 0, 0, 0, 0, 0]);
  });

  it("holds only files under usr/share/migration.d, in run order, as GNU and busybox tar extract them", () => {
    const b = build(tempDir());
    const listing = execFileSync("tar", ["-tvzf", b], { encoding: "utf8" }).trim().split("\n");
    expect(listing.every((l) => l.includes(" 0/0 ") && l.startsWith("-"))).toBe(true);
    const names = listing.map((l) => l.split(/\s+/).pop());
    expect(names).toEqual([
      `${D}/0001-users-1-2.sh`,
      `${D}/0002-users-2-1.sh`,
      `${D}/0003-ownership-1-2.sh`,
      `${D}/0004-ownership-2-1.sh`,
      `${D}/0005-network-1-2.sh`,
      `${D}/0006-network-2-1.sh`,
      `${D}/keys/vendor-2023.pem`,
      `${D}/keys/vendor-2025.pem`,
      `${D}/manifest.json`,
      `${D}/manifest.tsv`,
      `${D}/manifest.tsv.sig`,
    ]);
    for (const tar of [["tar"], ["busybox", "tar"]]) {
      const root = tempDir();
      mkdirSync(join(root, "usr"));
      chmodSync(join(root, "usr"), 0o700);
      execFileSync(tar[0] as string, [...tar.slice(1), "-xzf", b, "-C", root]);
      // No entry for usr/: extracting never resets its mode.
      expect(statSync(join(root, "usr")).mode & 0o777).toBe(0o700);
      expect(statSync(join(root, D, "0001-users-1-2.sh")).mode & 0o777).toBe(0o755);
      // The trust store: the graph's public PEMs, byte for byte, readable by all.
      for (const id of ["vendor-2023", "vendor-2025"]) {
        const key = join(root, D, "keys", `${id}.pem`);
        expect(statSync(key).mode & 0o777).toBe(0o644);
        expect(readFileSync(key).equals(readFileSync(join(REPO, "keys", `${id}.pub.pem`)))).toBe(
          true,
        );
      }
      expect(readFileSync(join(root, D, "manifest.tsv"), "utf8")).toMatch(
        /^release\t2\.10\.1-transition\.1\nplatform\t-\ncomponent\tusers\t2\t1\thalt\t/,
      );
    }
  });

  it("signs manifest.tsv with ed25519 as the real openssl verifies it", () => {
    const demo = demoKeys();
    const key = demo.key("vendor-2025");
    const pub = demo.pub("vendor-2025");
    const b = build(tempDir(), ["--sign", key]);
    const root = tempDir();
    execFileSync("tar", ["-xzf", b, "-C", root]);
    const r = spawnSync(
      "openssl",
      [
        "pkeyutl",
        "-verify",
        "-pubin",
        "-inkey",
        pub,
        "-rawin",
        "-in",
        join(root, D, "manifest.tsv"),
        "-sigfile",
        join(root, D, "manifest.tsv.sig"),
      ],
      { encoding: "utf8" },
    );
    expect(r.stdout).toContain("Signature Verified Successfully");
    expect(r.status).toBe(0);
    expect(stepstone(["verify", b, "--key", pub]).code).toBe(0);
  });

  it("refuses a script outside the graph's folder and a script that no longer matches its pin", () => {
    const dir = tempDir();
    const outside = tempDir({ "evil.sh": "set -e\n" });
    mkdirSync(join(dir, "m"));
    symlinkSync(join(outside, "evil.sh"), join(dir, "m", "up.sh"));
    const graph = (pin?: string) =>
      JSON.stringify({
        schemaVersion: 1,
        components: { users: { paths: ["etc/passwd"] } },
        releases: [{ version: "1.0.0", epochs: { users: 2 } }],
        migrations: [
          {
            id: "users-1-2",
            component: "users",
            from: 1,
            to: 2,
            script: "m/up.sh",
            shippedIn: ">=1.0.0",
            ...(pin && { sha256: pin }),
          },
        ],
      });
    writeFileSync(join(dir, "release-graph.json"), graph());
    const r = stepstone(["bundle", "--release", "1.0.0", "--out", join(dir, "out")], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("resolves outside the graph's folder");

    const dir2 = tempDir({ "up.sh": "#!/bin/sh\necho no-set-e\n" });
    mkdirSync(join(dir2, "m"));
    cpSync(join(dir2, "up.sh"), join(dir2, "m", "up.sh"));
    writeFileSync(join(dir2, "release-graph.json"), graph("0".repeat(64)));
    const pinned = stepstone(["bundle", "--release", "1.0.0", "--out", join(dir2, "out")], {
      cwd: dir2,
    });
    expect(pinned.code).toBe(2);
    expect(pinned.stderr).toContain("does not match its pin");
    expect(() => statSync(join(dir2, "out", "migration-1.0.0.tar.gz"))).toThrow();

    writeFileSync(join(dir2, "release-graph.json"), graph());
    const warned = stepstone(["bundle", "--release", "1.0.0", "--out", join(dir2, "out")], {
      cwd: dir2,
    });
    expect(warned.code).toBe(0);
    expect(warned.stderr).toContain('does not use "set -e"');
  });

  it("refuses a release without the runner", () => {
    const r = stepstone(["bundle", "--graph", SAMPLE, "--release", "2.8.0", "--out", tempDir()]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("has no runner");
  });
});

describe("stepstone verify", () => {
  const good = () => {
    const demo = demoKeys();
    const key = demo.key("vendor-2025");
    return { key, pub: demo.pub("vendor-2025"), bundle: build(tempDir(), ["--sign", key]) };
  };

  it("exits 2 when the file cannot be read as a bundle", () => {
    expect(stepstone(["verify", "/nonexistent.tar.gz"]).code).toBe(2);
    const junk = join(tempDir({ "x.tar.gz": "not a tarball" }), "x.tar.gz");
    const r = stepstone(["verify", junk]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("not a readable .tar.gz bundle");
  });

  it("exits 3 on a wrong key, and 3 when a key is given but the bundle is unsigned", () => {
    const { bundle } = good();
    const other = keypair(tempDir());
    const r = stepstone(["verify", bundle, "--key", other.pub]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("does not verify");
    const out = tempDir();
    expect(
      stepstone(["bundle", "--graph", SAMPLE, "--release", TRANSITION, "--out", out, "--unsigned"])
        .code,
    ).toBe(0);
    const unsigned = join(out, BUNDLE);
    expect(stepstone(["verify", unsigned, "--key", other.pub]).code).toBe(3);
  });

  it.each([
    [
      "a changed script",
      (e: Record<string, string>) => {
        e[`${D}/0001-users-1-2.sh`] += "\nrm -rf /\n";
      },
      "sha256",
    ],
    [
      "a changed manifest",
      (e: Record<string, string>) => {
        e[`${D}/manifest.tsv`] = (e[`${D}/manifest.tsv`] as string).replace("halt", "wipe");
      },
      "manifest",
    ],
    [
      "a missing script",
      (e: Record<string, string>) => {
        delete e[`${D}/0002-users-2-1.sh`];
      },
      "missing",
    ],
    [
      "an extra script",
      (e: Record<string, string>) => {
        e[`${D}/9999-evil.sh`] = "rm -rf /";
      },
      "not in the manifest",
    ],
  ])("exits 3 on %s", (_name, tamper, message) => {
    const { bundle, pub } = good();
    const entries = extract(bundle);
    tamper(entries);
    const bad = join(tempDir(), "bad.tar.gz");
    craft(
      bad,
      Object.entries(entries).map(([name, data]) => ({ name, data })),
    );
    for (const args of [[], ["--key", pub]]) {
      const r = stepstone(["verify", bad, ...args]);
      expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(3);
      expect(r.stderr).toContain(message);
    }
  });

  it.each([
    ["a path with ..", { name: `${D}/../../../etc/passwd`, data: "x" }, 'path with ".."'],
    ["an absolute path", { name: "/etc/passwd", data: "x" }, "absolute path"],
    [
      "a symbolic link",
      { name: `${D}/0007-link.sh`, type: "symlink" as const, link: "/etc/shadow" },
      "a link",
    ],
    ["a device node", { name: `${D}/null`, type: "chr" as const }, "CharacterDevice"],
  ])("exits 3 on %s", (_name, entry, message) => {
    const { bundle } = good();
    const entries = Object.entries(extract(bundle)).map(([name, data]) => ({ name, data }));
    const bad = join(tempDir(), "bad.tar.gz");
    craft(bad, [...entries, entry]);
    const r = stepstone(["verify", bad]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(message);
  });

  it("prints JSON with --format json", () => {
    const { bundle, pub } = good();
    const r = stepstone(["verify", bundle, "--key", pub, "--format", "json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      ok: true,
      release: TRANSITION,
      platform: null,
      scripts: 6,
      signature: "verified",
      problems: [],
    });
  });
});
