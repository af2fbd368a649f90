#!/usr/bin/env bash
# The main job on the bundled release-graph.json: what a release engineer runs first.
set -euo pipefail
cd "$(dirname "$0")/.."
stepstone() { node apps/cli/dist/bundle/bin.js "$@"; }
say() { printf '\n\033[1m$ stepstone %s\033[0m%s\n' "$1" "${2:+   # $2}"; }
[ -t 1 ] && [ -z "${NO_COLOR:-}" ] || say() { printf '\n$ stepstone %s%s\n' "$1" "${2:+   # $2}"; }

say "validate" "the graph and every script it names"
stepstone validate

say "matrix" "best plan between every pair of golden releases"
stepstone matrix

say "gaps --suggest" "golden pairs that would need a wipe, and the transition build that closes them"
stepstone gaps --suggest

say "plan --from 2.9.2 --to 2.11.0" "upgrade across the move to unprivileged users"
stepstone plan --from 2.9.2 --to 2.11.0

say "plan --from 2.11.0 --to 2.9.2" "and back down, through the transition release"
stepstone plan --from 2.11.0 --to 2.9.2

# What the images carry: the bundles of the golden and transition releases (those with
# the runner), each signed with its own signedBy key, and the runner with its units, as
# trees to copy into an image. The graph's keys are DEMO keys: their private halves are
# derived here from published seeds (scripts/demo-keys.mjs), never committed. A real
# pipeline passes its own keys from its secret store instead.
out=out
rm -rf "$out"
printf '\n$ node scripts/demo-keys.mjs %s   # the DEMO keys'"'"' private halves (public seeds: never do this with real keys)\n' "$out/demo-keys"
node scripts/demo-keys.mjs "$out/demo-keys"
releases=$(node -e '
  const g = JSON.parse(require("fs").readFileSync("release-graph.json", "utf8"));
  for (const r of g.releases) if ((r.golden || r.transition) && r.runner !== false && !r.withdrawn) console.log(r.version + " " + r.signedBy);')
printf '%s\n' "$releases" | while read -r v key; do
  say "bundle --release $v --out $out/bundles --sign $out/demo-keys/$key.pem" "the migration.d tarball its image carries, signed with its own key"
  stepstone bundle --release "$v" --out "$out/bundles" --sign "$out/demo-keys/$key.pem"
done
say "verify $out/bundles/migration-2.10.1-transition.1.tar.gz --graph release-graph.json" "as the device checks it, with the key the graph names"
stepstone verify "$out/bundles/migration-2.10.1-transition.1.tar.gz" --graph release-graph.json
say "runner --out $out/rootfs --graph release-graph.json --layout premounted --upper /var/persist/etc-upper" "the on-device runner and its units, for OpenBMC's layout"
stepstone runner --out "$out/rootfs" --graph release-graph.json --layout premounted --upper /var/persist/etc-upper

printf '\nBundles are in %s/bundles, the runner and units in %s/rootfs.\n' "$(pwd)/$out" "$(pwd)/$out"

# The pictures: the whole story in one page to open in a browser (no network needed).
say "report --out $out/report.html" "the graph, the golden matrix, the gaps and a planner, in one self-contained page"
stepstone report --out "$out/report.html"
printf '\nThe report is %s/report.html: open it in a browser.\n' "$(pwd)/$out"
