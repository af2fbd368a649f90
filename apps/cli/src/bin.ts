#!/usr/bin/env node
import { main } from "./main.js";

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`stepstone: internal error: ${String(e)}\n`);
    process.exitCode = 70;
  },
);
