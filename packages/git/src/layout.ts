import { COMPONENT_NAME, type Epoch } from "@stepstone/graph";

/**
 * The repository layout DESIGN.md "Git" defines: at each tag, `migrations/<component>/`
 * holds `EPOCH` (the component's epoch there; absent means 1) and scripts named
 * `<from>-<to>-<slug>.sh`, whose migration id is `<component>-<from>-<to>-<slug>`.
 */
export const MIGRATIONS_DIR = "migrations";
export const EPOCH_FILE = "EPOCH";

/** One entry of a git tree. */
export interface TreeEntry {
  /** Octal mode as git writes it: 40000 tree, 100644/100755 file, 120000 link, 160000 commit. */
  readonly mode: string;
  readonly name: string;
  readonly oid: string;
}

export const isTree = (e: TreeEntry) => e.mode === "40000";
const isFile = (e: TreeEntry) => e.mode === "100644" || e.mode === "100755";

/** A migration script as a tag holds it. */
export interface ScriptFile {
  readonly id: string;
  readonly component: string;
  readonly from: Epoch;
  readonly to: Epoch;
  /** Path in the repository, e.g. `migrations/users/1-2-priv-groups.sh`. */
  readonly path: string;
  /** The blob's object id (same content, same id). */
  readonly blob: string;
  readonly executable: boolean;
}

/** What one component folder (one tree object) says. */
export interface ComponentTree {
  /** The EPOCH file's blob, or null when there is none (epoch 1). */
  readonly epochBlob: string | null;
  readonly scripts: readonly ScriptFile[];
  /** Names that look like scripts but are not (reported once, not fatal). */
  readonly problems: readonly string[];
}

// No leading zeros: `01-02-x.sh` and `1-2-x.sh` would otherwise be the same migration.
const SCRIPT = /^(0|[1-9]\d{0,8})-(0|[1-9]\d{0,8})-([a-z0-9][a-z0-9._-]*)\.sh$/;

/** The component folders of a `migrations` tree, and what is not one. */
export function componentFolders(entries: readonly TreeEntry[]): {
  folders: TreeEntry[];
  problems: string[];
} {
  const folders: TreeEntry[] = [];
  const problems: string[] = [];
  for (const e of entries) {
    if (!isTree(e)) continue;
    if (COMPONENT_NAME.test(e.name)) folders.push(e);
    else
      problems.push(
        `${MIGRATIONS_DIR}/${e.name}/: not a component name (${COMPONENT_NAME.source}); skipped`,
      );
  }
  return { folders, problems };
}

/** What one entry of a component folder is. */
export type ComponentEntry =
  | { readonly kind: "epoch"; readonly blob: string }
  | { readonly kind: "script"; readonly script: ScriptFile }
  | { readonly kind: "problem"; readonly message: string }
  | { readonly kind: "other" };

const OTHER: ComponentEntry = { kind: "other" };

/** One entry of `migrations/<component>/`: the EPOCH file, a script, a problem, or not ours. */
export function componentEntry(component: string, e: TreeEntry): ComponentEntry {
  const dir = `${MIGRATIONS_DIR}/${component}`;
  if (e.name === EPOCH_FILE) {
    return isFile(e)
      ? { kind: "epoch", blob: e.oid }
      : { kind: "problem", message: `${dir}/${EPOCH_FILE}: not a regular file; skipped` };
  }
  if (!e.name.endsWith(".sh")) return OTHER; // READMEs, helpers: not ours to judge
  if (!isFile(e)) {
    return {
      kind: "problem",
      message: `${dir}/${e.name}: not a regular file (a link or a folder); skipped`,
    };
  }
  const m = SCRIPT.exec(e.name);
  if (m === null) {
    return {
      kind: "problem",
      message: `${dir}/${e.name}: not named <from>-<to>-<slug>.sh (lowercase slug, e.g. 1-2-priv-groups.sh); skipped`,
    };
  }
  const [, from, to, slug] = m as unknown as [string, string, string, string];
  if (from === to)
    return { kind: "problem", message: `${dir}/${e.name}: from and to are both ${from}; skipped` };
  return {
    kind: "script",
    script: {
      id: `${component}-${from}-${to}-${slug}`,
      component,
      from: Number(from),
      to: Number(to),
      path: `${dir}/${e.name}`,
      blob: e.oid,
      executable: e.mode === "100755",
    },
  };
}

/** Reads one component folder's entries (`interpret` may cache componentEntry). */
export function componentTree(
  component: string,
  entries: readonly TreeEntry[],
  interpret: (component: string, e: TreeEntry) => ComponentEntry = componentEntry,
): ComponentTree {
  let epochBlob: string | null = null;
  const scripts: ScriptFile[] = [];
  const problems: string[] = [];
  for (const e of entries) {
    const x = interpret(component, e);
    if (x.kind === "epoch") epochBlob = x.blob;
    else if (x.kind === "script") scripts.push(x.script);
    else if (x.kind === "problem") problems.push(x.message);
  }
  return { epochBlob, scripts, problems };
}

/** An EPOCH file's content: one integer >= 0, or null when it is not one. */
export function parseEpoch(text: string): Epoch | null {
  const t = text.trim();
  return /^(0|[1-9]\d{0,8})$/.test(t) ? Number(t) : null;
}
