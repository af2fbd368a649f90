import { describe, expect, it } from "vitest";
import { globToRegExp, parseTagVersion, selectTags, type TagRef } from "../src/index.js";

const ref = (name: string, target = "commit"): TagRef => ({
  name,
  target,
  commit: "0".repeat(40),
  annotated: false,
  peeled: 0,
});

describe("parseTagVersion: tags as projects write them", () => {
  it.each([
    ["v0.1", "0.1.0"],
    ["v1.99.10", "1.99.10"],
    ["2.6.0-rc1", "2.6.0-rc1"],
    ["2.6.0.rc1", "2.6.0-rc1"],
    ["2.6.0rc1", "2.6.0-rc1"],
    ["2.7.0-dev", "2.7.0-dev"],
    ["V3.0", "3.0.0"],
    ["v2.10.1-transition.1", "2.10.1-transition.1"],
    ["1.2-rc.2", "1.2.0-rc.2"],
    ["2.14.0+build.7", "2.14.0+build.7"],
    ["01.2.3", "1.2.3"],
  ])("%s reads as %s", (tag, version) => {
    expect(parseTagVersion(tag)).toBe(version);
  });

  it.each(["release-foo", "1", "v", "1.2.3.4", "2.6.0-rc.01", "openbmc-2.10", "2.6.0-", "latest"])(
    "%s is not a version",
    (tag) => {
      expect(parseTagVersion(tag)).toBeNull();
    },
  );
});

describe("globToRegExp", () => {
  it("matches like a shell", () => {
    expect(globToRegExp("v2.*").test("v2.10.0")).toBe(true);
    expect(globToRegExp("v2.*").test("v3.0.0")).toBe(false);
    expect(globToRegExp("*-dev").test("2.7.0-dev")).toBe(true);
    expect(globToRegExp("2.?.0").test("2.7.0")).toBe(true);
    expect(globToRegExp("2.?.0").test("2.10.0")).toBe(false);
    expect(globToRegExp("v[12].*").test("v1.0")).toBe(true);
    expect(globToRegExp("v[!12].*").test("v1.0")).toBe(false);
    expect(globToRegExp("a+b(c)").test("a+b(c)")).toBe(true);
  });
});

describe("selectTags", () => {
  it("keeps versions sorted by precedence and reports what it skips", () => {
    const s = selectTags(
      ["v2.7.0", "2.7.0-dev", "v0.1", "release-foo", "2.6.0-rc1", "2.6.0.rc1", "v2.6.0"].map((n) =>
        ref(n),
      ),
    );
    expect(s.tags.map((t) => [t.ref.name, t.version])).toEqual([
      ["v0.1", "0.1.0"],
      ["v2.6.0", "2.6.0"],
      ["2.7.0-dev", "2.7.0-dev"],
      ["v2.7.0", "2.7.0"],
    ]);
    expect(s.skipped.map((x) => x.tag)).toEqual(["2.6.0-rc1", "2.6.0.rc1", "release-foo"]);
    expect(s.skipped[0]?.reason).toMatch(/collides with 2\.6\.0\.rc1 \(all read as 2\.6\.0-rc1\)/);
    expect(s.skipped[2]?.reason).toBe("does not read as a version");
  });

  it("resolves a collision with the tag the graph records", () => {
    const s = selectTags([ref("2.6.0-rc1"), ref("2.6.0.rc1")], {
      pinned: new Map([["2.6.0-rc1", "2.6.0.rc1"]]),
    });
    expect(s.tags.map((t) => t.ref.name)).toEqual(["2.6.0.rc1"]);
    expect(s.skipped).toEqual([
      {
        tag: "2.6.0-rc1",
        reason: "reads as 2.6.0-rc1 like 2.6.0.rc1, which release 2.6.0-rc1 records as its tag",
      },
    ]);
  });

  it("treats v1.2 and 1.2.0 (and equal-but-build versions) as the same release", () => {
    const s = selectTags([ref("v1.2"), ref("1.2.0"), ref("1.3.0+a"), ref("1.3.0+b")]);
    expect(s.tags).toEqual([]);
    expect(s.skipped).toHaveLength(4);
  });

  it("filters with --tags and --exclude before parsing (filtered tags are not reported)", () => {
    const s = selectTags([ref("v2.6.0"), ref("v2.7.0-dev"), ref("v1.0"), ref("junk")], {
      include: "v2.*",
      exclude: "*-dev",
    });
    expect(s.tags.map((t) => t.ref.name)).toEqual(["v2.6.0"]);
    expect(s.skipped).toEqual([]);
    expect(s.filtered).toBe(3);
  });

  it("skips a tag that points to something other than a commit", () => {
    const s = selectTags([ref("v1.0", "blob"), ref("v1.1", "tag")]);
    expect(s.tags).toEqual([]);
    expect(s.skipped.map((x) => x.reason)).toEqual([
      "points to a blob, not a commit",
      "points to a tag, not a commit",
    ]);
  });
});
