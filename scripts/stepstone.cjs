// `pnpm stepstone ...`: pnpm runs a root script in the checkout's top folder, but the user
// meant the folder they typed it in (pnpm says which in INIT_CWD). Without this, the graph
// found "upward from the current folder" would be the checkout's demo graph, silently.
const { join } = require("node:path");

const { env } = process;
if (env.INIT_CWD) process.chdir(env.INIT_CWD);
require(join(__dirname, "../apps/cli/dist/bundle/bin.js"));
