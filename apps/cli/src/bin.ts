import { ExitCode } from "@stepstone/errors";
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
      // large plan costs more than a small graph's whole plan. But only once no output
      // is left queued: Linux writes files and terminals synchronously, not a pipe whose
      // reader is slower than us (past its 64 KiB buffer, e.g. `fleet --format json |
      // ...`); an empty write's callback runs once everything before it is written.
      const flushed = (s: NodeJS.WriteStream, then: () => void) =>
        s.writableLength === 0 ? then() : s.write("", then);
      flushed(process.stdout, () => flushed(process.stderr, () => process.exit(code)));
    },
    (e) => {
      process.stderr.write(`stepstone: internal error: ${String(e)}\n`);
      process.exitCode = ExitCode.internal;
    },
  );
}
