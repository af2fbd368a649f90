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
      // large plan costs more than a small graph's whole plan. Only when no output can
      // be left queued: Linux writes pipes, files and terminals synchronously; elsewhere
      // (pipes are asynchronous on macOS) both streams must be empty.
      if (
        process.platform === "linux" ||
        (process.stdout.writableLength === 0 && process.stderr.writableLength === 0)
      )
        process.exit(code);
    },
    (e) => {
      process.stderr.write(`stepstone: internal error: ${String(e)}\n`);
      process.exitCode = ExitCode.internal;
    },
  );
}
