import { sha256 } from "@stepstone/graph-file/scripts";
import { CatFile, parseTree } from "./git.js";
import {
  type ComponentEntry,
  type ComponentTree,
  componentEntry,
  componentFolders,
  componentTree,
  EPOCH_FILE,
  MIGRATIONS_DIR,
  parseEpoch,
  type ScriptFile,
  type TreeEntry,
} from "./layout.js";
import type { ComponentState, PinnedScript, TagState } from "./merge.js";
import type { SkippedTag, VersionTag } from "./tags.js";

export interface ReadProgress {
  readonly stage: "folders" | "files";
  readonly done: number;
  readonly total: number;
}

export interface RepoRead {
  /** One state per tag that could be read, in the order given. */
  readonly tags: TagState[];
  /** Tags that could not be read (an EPOCH that is not an integer). */
  readonly skipped: SkippedTag[];
  /** Names in the layout that are not what they look like (reported, not fatal). */
  readonly problems: string[];
  /** Every script's content, by blob id. */
  readonly blobs: ReadonlyMap<string, Buffer>;
}

/**
 * What each tag's `migrations/` holds, read level by level through one `git cat-file
 * --batch`: every tag's folder, then every distinct component folder, then every distinct
 * blob. Objects are shared between tags (an unchanged folder is one tree), so each is read
 * and interpreted once.
 */
export async function readTags(
  cwd: string,
  tags: readonly VersionTag[],
  progress?: (p: ReadProgress) => void,
): Promise<RepoRead> {
  const cat = new CatFile(cwd);
  try {
    const problems = new Set<string>();
    let done = 0;
    let total = tags.length;
    const tick = (stage: ReadProgress["stage"]) => () => {
      done++;
      if (done % 256 === 0 || done === total) progress?.({ stage, done, total });
    };
    const roots = await cat.read(
      tags.map((t) => `${t.ref.commit}:${MIGRATIONS_DIR}`),
      tick("folders"),
    );
    const oidBytes = (tags[0]?.ref.commit.length ?? 40) / 2;

    // Level 1: the component folders of each distinct `migrations` tree.
    const folderLists = new Map<string, TreeEntry[]>();
    for (const root of roots) {
      if (root === null || root.type !== "tree" || folderLists.has(root.oid)) continue;
      const { folders, problems: p } = componentFolders(parseTree(root.data, oidBytes));
      folderLists.set(root.oid, folders);
      for (const x of p) problems.add(x);
    }

    // Level 2: each distinct component folder, interpreted once per (name, tree).
    const folderOids = [...new Set([...folderLists.values()].flat().map((e) => e.oid))];
    done = 0;
    total = folderOids.length;
    const trees = await cat.read(folderOids, tick("folders"));
    const intern = new Map<string, TreeEntry>();
    const entriesOf = new Map(
      folderOids.map((oid, i) => [
        oid,
        parseTree((trees[i] as { data: Buffer }).data, oidBytes, intern),
      ]),
    );
    // Most entries are in many folders (a script stays for many releases): judge each once.
    const judged = new Map<string, Map<TreeEntry, ComponentEntry>>();
    const interpret = (component: string, e: TreeEntry) => {
      let byEntry = judged.get(component);
      if (!byEntry) {
        byEntry = new Map();
        judged.set(component, byEntry);
      }
      let x = byEntry.get(e);
      if (x === undefined) {
        x = componentEntry(component, e);
        byEntry.set(e, x);
      }
      return x;
    };
    const layouts = new Map<string, ComponentTree>();
    for (const list of folderLists.values()) {
      for (const f of list) {
        const key = `${f.name}\0${f.oid}`;
        if (layouts.has(key)) continue;
        const layout = componentTree(f.name, entriesOf.get(f.oid) ?? [], interpret);
        layouts.set(key, layout);
        for (const x of layout.problems) problems.add(x);
      }
    }

    // Level 3: every distinct blob (EPOCH files and scripts).
    const blobIds = new Set<string>();
    for (const l of layouts.values()) {
      if (l.epochBlob !== null) blobIds.add(l.epochBlob);
      for (const s of l.scripts) blobIds.add(s.blob);
    }
    const ids = [...blobIds];
    done = 0;
    total = ids.length;
    const objects = await cat.read(ids, tick("files"));
    const blobs = new Map(ids.map((id, i) => [id, (objects[i] as { data: Buffer }).data]));
    const hashes = new Map<string, string>();
    const hashOf = (blob: string) => {
      let h = hashes.get(blob);
      if (h === undefined) {
        h = sha256(blobs.get(blob) as Buffer);
        hashes.set(blob, h);
      }
      return h;
    };

    const pinned = new Map<ScriptFile, PinnedScript>();
    const pin = (x: ScriptFile): PinnedScript => {
      let p = pinned.get(x);
      if (p === undefined) {
        p = { ...x, sha256: hashOf(x.blob) };
        pinned.set(x, p);
      }
      return p;
    };
    const states = new Map<string, ComponentState | string>();
    const stateOf = (name: string, oid: string): ComponentState | string => {
      const key = `${name}\0${oid}`;
      let s = states.get(key);
      if (s !== undefined) return s;
      const l = layouts.get(key) as ComponentTree;
      let epoch = 1;
      if (l.epochBlob !== null) {
        const text = (blobs.get(l.epochBlob) as Buffer).toString("utf8");
        const parsed = parseEpoch(text);
        if (parsed === null) {
          s = `${MIGRATIONS_DIR}/${name}/${EPOCH_FILE} holds ${JSON.stringify(text.trim().slice(0, 40))}, not an epoch (an integer >= 0)`;
          states.set(key, s);
          return s;
        }
        epoch = parsed;
      }
      s = { epoch, scripts: l.scripts.map(pin) };
      states.set(key, s);
      return s;
    };

    const out: TagState[] = [];
    const skipped: SkippedTag[] = [];
    tags.forEach((t, i) => {
      const root = roots[i];
      const components = new Map<string, ComponentState>();
      const folders = root && root.type === "tree" ? (folderLists.get(root.oid) ?? []) : [];
      for (const f of folders) {
        const s = stateOf(f.name, f.oid);
        if (typeof s === "string") {
          skipped.push({ tag: t.ref.name, reason: s });
          return;
        }
        components.set(f.name, s);
      }
      out.push({ tag: t.ref.name, version: t.version, semver: t.semver, components });
    });
    return { tags: out, skipped, problems: [...problems].sort(), blobs };
  } finally {
    await cat.close();
  }
}
