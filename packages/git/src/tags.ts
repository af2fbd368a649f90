import { checkedVersion, parseLenientVersion, versionKey } from "@stepstone/graph";
import type { SemVer } from "semver";

/** A tag as `git for-each-ref` lists it. */
export interface TagRef {
  /** The tag's name, without `refs/tags/`. */
  readonly name: string;
  /** The type of object it points to, through an annotated tag (`commit` for every usable tag). */
  readonly target: string;
  /** The commit's object id, when `target` is `commit`. */
  readonly commit: string;
  readonly annotated: boolean;
  /**
   * How many tag objects were followed to reach `commit`: 0 for a lightweight tag, 1 for
   * an annotated one, more for an annotated tag of an annotated tag.
   */
  readonly peeled: number;
}

/** A tag that reads as a version. */
export interface VersionTag {
  readonly ref: TagRef;
  /** Normalized semver text: `v1.2` -> `1.2.0`, `2.6.0.rc1` -> `2.6.0-rc1`. */
  readonly version: string;
  readonly semver: SemVer;
}

export interface SkippedTag {
  readonly tag: string;
  readonly reason: string;
}

/**
 * The version a tag names, leniently (`v0.1` is 0.1.0, `2.6.0.rc1` is 2.6.0-rc1,
 * `2.7.0-dev` is itself), or null when it names none (`release-foo`, `1.2.3.4`).
 */
export const parseTagVersion = parseLenientVersion;

/** A shell-style glob (`*`, `?`, `[...]`, `[!...]`) as an anchored regular expression. */
export function globToRegExp(glob: string): RegExp {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i] as string;
    if (ch === "*") re += ".*";
    else if (ch === "?") re += ".";
    else if (ch === "[") {
      const end = glob.indexOf("]", i + 2);
      if (end === -1) re += "\\[";
      else {
        let body = glob.slice(i + 1, end);
        if (body.startsWith("!")) body = `^${body.slice(1)}`;
        re += `[${body.replace(/\\/g, "\\\\")}]`;
        i = end;
      }
    } else re += ch.replace(/[.+^${}()|\\/]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

export interface TagFilter {
  /** Only tags matching this glob. */
  readonly include?: string;
  /** Skip tags matching this glob. */
  readonly exclude?: string;
  /**
   * Versions whose release in the graph records the tag it comes from (`tag`): when two
   * tags read as that version, the recorded one wins instead of both being skipped.
   */
  readonly pinned?: ReadonlyMap<string, string>;
}

export interface TagSelection {
  /** The tags to read, sorted by version. */
  readonly tags: readonly VersionTag[];
  /** Tags that do not read as a version, collide, or point to no commit. */
  readonly skipped: readonly SkippedTag[];
  /** Tags left out by --tags / --exclude. */
  readonly filtered: number;
}

/** Which tags are releases: filtered, parsed leniently, collisions taken out. */
export function selectTags(refs: readonly TagRef[], filter: TagFilter = {}): TagSelection {
  const include = filter.include === undefined ? null : globToRegExp(filter.include);
  const exclude = filter.exclude === undefined ? null : globToRegExp(filter.exclude);
  const skipped: SkippedTag[] = [];
  const byKey = new Map<string, VersionTag[]>();
  let filtered = 0;
  for (const ref of [...refs].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if ((include && !include.test(ref.name)) || exclude?.test(ref.name)) {
      filtered++;
      continue;
    }
    const version = parseTagVersion(ref.name);
    if (version === null) {
      skipped.push({ tag: ref.name, reason: "does not read as a version" });
      continue;
    }
    if (ref.target !== "commit") {
      skipped.push({ tag: ref.name, reason: `points to a ${ref.target}, not a commit` });
      continue;
    }
    const semver = checkedVersion(version);
    const key = versionKey(semver);
    const list = byKey.get(key);
    const tag = { ref, version, semver };
    if (list) list.push(tag);
    else byKey.set(key, [tag]);
  }
  const tags: VersionTag[] = [];
  for (const [key, group] of byKey) {
    if (group.length === 1) {
      tags.push(group[0] as VersionTag);
      continue;
    }
    const names = group.map((t) => t.ref.name);
    const chosen = group.find((t) => t.ref.name === filter.pinned?.get(key));
    if (chosen) {
      tags.push(chosen);
      for (const t of group) {
        if (t === chosen) continue;
        skipped.push({
          tag: t.ref.name,
          reason: `reads as ${key} like ${chosen.ref.name}, which release ${key} records as its tag`,
        });
      }
      continue;
    }
    for (const t of group) {
      skipped.push({
        tag: t.ref.name,
        reason: `collides with ${names.filter((n) => n !== t.ref.name).join(", ")} (all read as ${key}); set "tag" on release ${key} in the graph to choose one`,
      });
    }
  }
  tags.sort((a, b) => a.semver.compare(b.semver));
  skipped.sort((a, b) => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
  return { tags, skipped, filtered };
}
