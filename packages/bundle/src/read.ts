import type { ReadEntry } from "tar";

export interface TarEntry {
  readonly path: string;
  readonly type: string;
  readonly mode: number;
  readonly linkpath: string | undefined;
  readonly data: Buffer;
}

/**
 * Every entry of a .tar.gz with its content, without extracting anything. node-tar is
 * loaded here, on demand: writing a bundle does not need it.
 */
export async function readTarGz(file: string): Promise<TarEntry[]> {
  const { list } = await import("tar");
  const entries: TarEntry[] = [];
  await list({
    file,
    strict: true,
    onReadEntry(entry: ReadEntry) {
      const chunks: Buffer[] = [];
      entry.on("data", (c: Buffer) => chunks.push(c));
      entry.on("end", () => {
        entries.push({
          path: entry.path,
          type: entry.type,
          mode: entry.mode ?? 0,
          linkpath: entry.linkpath,
          data: Buffer.concat(chunks),
        });
      });
    },
  });
  return entries;
}
