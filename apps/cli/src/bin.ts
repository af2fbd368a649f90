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
      // Exit now rather than when the event loop runs dry: node would then tear the
      // heap down page by page and wait for V8's background compile jobs, which after a
      // large plan costs more than a small graph's whole plan. Only when no output is
      // left queued: Linux writes files and terminals synchronously, but a pipe whose
      // reader is slower than us (more than its 64 KiB buffer, e.g. `fleet --format json
      // | ...`) keeps the rest queued; then node exits once it is written.
      if (process.stdout.writableLength === 0 && process.stderr.writableLength === 0)
        process.exit(code);
    },
    (e) => {
      process.stderr.write(`stepstone: internal error: ${String(e)}\n`);
      process.exitCode = 70; // ExitCode.internal: bin.ts loads nothing it does not need
    },
  );
}
