import { main } from "./main.js";

export { main };

/** Runs the CLI on `argv` (process.argv) and sets the process's exit code. */
export function run(argv: readonly string[]): void {
  // `stepstone plan ... | head`: a reader that stops early is not an error.
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw e;
  });

  main(argv).then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      process.stderr.write(`stepstone: internal error: ${String(e)}\n`);
      process.exitCode = 70;
    },
  );
}
