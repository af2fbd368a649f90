#!/usr/bin/env node
// `pnpm lint`'s cycle check: no import cycle between the source modules of a package (type
// imports included, since they show the same coupling), and none between packages.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const root = resolve(new URL("..", import.meta.url).pathname);
const rooms = ["packages", "apps"].flatMap((d) =>
  readdirSync(join(root, d)).map((p) => join(root, d, p)),
);
const IMPORT =
  /(?:^|[\s;])(?:import|export)\s[^"'`;]*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;

function sources(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return /\.(c|m)?ts$/.test(name) && !name.endsWith(".d.ts") ? [path] : [];
  });
}

function resolveLocal(from, spec) {
  const base = resolve(dirname(from), spec).replace(/\.(c|m)?js$/, "");
  for (const c of [`${base}.ts`, `${base}.cts`, `${base}.mts`, join(base, "index.ts")])
    if (existsSync(c)) return c;
  return null;
}

/** Every cycle of a graph given as Map<node, node[]>, each once (Tarjan's components). */
function cycles(graph) {
  let next = 0;
  const index = new Map();
  const low = new Map();
  const stack = [];
  const on = new Set();
  const found = [];
  const visit = (v) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v), index.get(w)));
    }
    if (low.get(v) === index.get(v)) {
      const scc = [];
      let w;
      do {
        w = stack.pop();
        on.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(scc.reverse());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

const modules = new Map();
const packages = new Map();
const names = new Map();
for (const room of rooms) {
  const pkg = join(room, "package.json");
  if (existsSync(pkg)) names.set(JSON.parse(readFileSync(pkg, "utf8")).name, room);
}
for (const room of rooms) {
  const deps = new Set();
  for (const file of sources(join(room, "src"))) {
    const edges = [];
    for (const m of readFileSync(file, "utf8").matchAll(IMPORT)) {
      const spec = m[1] ?? m[2];
      if (spec.startsWith(".")) {
        const target = resolveLocal(file, spec);
        if (target) edges.push(target);
      } else {
        const name = spec
          .split("/")
          .slice(0, spec.startsWith("@") ? 2 : 1)
          .join("/");
        const dep = names.get(name);
        if (dep && dep !== room) deps.add(dep);
      }
    }
    modules.set(file, edges);
  }
  packages.set(room, [...deps]);
}

const problems = [...cycles(modules), ...cycles(packages)];
for (const cycle of problems)
  console.error(`import cycle among: ${cycle.map((f) => relative(root, f)).join(", ")}`);
if (problems.length > 0) process.exit(1);
