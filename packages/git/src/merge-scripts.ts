import {
  type ComponentState,
  type Entry,
  lastRead,
  type PinnedScript,
  type RepoMigration,
  type TagState,
} from "./merge-types.js";

/** The tag name of the release at position p (one read from a tag). */
export function tagNameAt(sorted: readonly Entry[], p: number): string {
  return (sorted[p] as Entry).tag?.tag as string;
}

/**
 * Where each script of the repository is: runs of releases (positions in `sorted`),
 * found by walking each component's folder from release to release, with a warning for
 * every released script whose content changed.
 */
export function scriptRuns(
  sorted: readonly Entry[],
  inRepo: ReadonlySet<string>,
  warnings: string[],
): Map<string, RepoMigration> {
  // Where each script is: runs of releases, found by walking each component's folder from
  // release to release. Tags whose folder is the same tree share one state object, so an
  // unchanged folder costs nothing, and a changed one costs a merge of two sorted lists.
  const repo = new Map<string, RepoMigration>();
  const tagAt = (p: number) => tagNameAt(sorted, p);
  const readPositions = sorted.flatMap((e, i) => (e.tag ? [i] : []));
  for (const c of [...inRepo].sort()) {
    const open = new Map<string, number>();
    const add = (s: PinnedScript, p: number) => {
      const rec = repo.get(s.id);
      if (!rec) {
        repo.set(s.id, { runs: [], last: s, contents: new Set([s.sha256]), changes: [] });
      } else {
        if (rec.last.path !== s.path) {
          warnings.push(
            `${s.path} and ${rec.last.path} both make migration id ${s.id}: ${s.path} skipped; rename one`,
          );
          return;
        }
        if (rec.last.sha256 !== s.sha256)
          rec.changes.push({ a: rec.last, b: s, pa: rec.runs.at(-1)?.[1] ?? p, pb: p });
        rec.last = s;
        rec.contents.add(s.sha256);
      }
      open.set(s.id, p);
    };
    const close = (s: PinnedScript, end: number) => {
      const start = open.get(s.id);
      if (start === undefined) return; // a skipped duplicate id
      open.delete(s.id);
      repo.get(s.id)?.runs.push([start, end]);
    };
    let state: ComponentState | undefined;
    let prev: readonly PinnedScript[] = [];
    let prevPos = -1;
    for (const p of readPositions) {
      const cur = ((sorted[p] as Entry).tag as TagState).components.get(c);
      if (cur !== state) {
        const next = byId(cur?.scripts ?? []);
        let i = 0;
        let j = 0;
        while (i < prev.length || j < next.length) {
          const a = prev[i];
          const b = next[j];
          if (a !== undefined && a === b) {
            i++;
            j++;
          } else if (a !== undefined && b !== undefined && a.id === b.id) {
            const rec = repo.get(b.id);
            if (rec && rec.last.path === b.path) {
              if (a.sha256 !== b.sha256) rec.changes.push({ a, b, pa: prevPos, pb: p });
              rec.last = b;
              rec.contents.add(b.sha256);
            }
            i++;
            j++;
          } else if (b === undefined || (a !== undefined && a.id < b.id)) {
            close(a as PinnedScript, prevPos);
            i++;
          } else {
            add(b, p);
            j++;
          }
        }
        state = cur;
        prev = next;
      }
      prevPos = p;
    }
    for (const s of prev) close(s, prevPos);
  }
  // A released script must not change: say where it did.
  for (const [id, rec] of repo) {
    const pinnedAt = tagAt(lastRead(rec));
    for (const { a, b, pa, pb } of rec.changes) {
      warnings.push(
        `migration ${id}: ${b.path} changed between tags ${tagAt(pa)} and ${tagAt(pb)} (sha256 ${a.sha256.slice(0, 12)} -> ${b.sha256.slice(0, 12)}): a released migration must not change; the graph pins its content at ${pinnedAt}`,
      );
    }
  }

  return repo;
}

const scriptOrder = new WeakMap<readonly PinnedScript[], readonly PinnedScript[]>();

/** A folder's scripts by id (the merge walk needs them sorted; usually they already are). */
function byId(scripts: readonly PinnedScript[]): readonly PinnedScript[] {
  let out = scriptOrder.get(scripts);
  if (out === undefined) {
    const sortedAlready = scripts.every(
      (s, i) => i === 0 || (scripts[i - 1] as PinnedScript).id < s.id,
    );
    out = sortedAlready ? scripts : [...scripts].sort((a, b) => (a.id < b.id ? -1 : 1));
    scriptOrder.set(scripts, out);
  }
  return out;
}
