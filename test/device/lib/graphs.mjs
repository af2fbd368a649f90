// The graphs the device stage walks: the repository's release-graph.json ("bundled") and
// "rotation", a graph of the stage's own written at run time beside copies of the
// repository's scripts (a graph's scripts live in its folder): a golden without the
// runner, a signing-key rotation (k-2024 -> k-2026 through a release that trusts both),
// and a way down that must wipe users (no down-migration of users is shipped), so a walk
// reads the image's own /etc/passwd after a wipe.
import { copyFileSync, cpSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadGraph, REPO } from "./images.mjs";
import { ensureKey } from "./keys.mjs";

const ROTATION = {
  schemaVersion: 1,
  notes:
    "Device stage graph (test/device/lib/graphs.mjs): 1.0.0 is a golden without the runner; keys rotate from k-2024 to k-2026 at 1.1.0 (trusts both) / 2.0.0 (signed k-2026); the way down goes through 2.0.1-transition.1, which ships network-2-1 but no users-2-1, so users is wiped.",
  components: {
    users: {
      paths: ["etc/passwd", "etc/group", "etc/shadow", "etc/gshadow"],
      onFailure: "halt",
      services: ["phosphor-user-manager.service"],
    },
    network: {
      wipeable: false,
      paths: ["etc/systemd/network"],
      onFailure: "isolate",
      services: ["xyz.openbmc_project.Network.service"],
    },
  },
  releases: [
    {
      version: "1.0.0",
      golden: true,
      runner: false,
      epochs: { users: 1, network: 1 },
      signedBy: "k-2024",
      trusts: ["k-2024"],
    },
    {
      version: "1.1.0",
      golden: true,
      epochs: { users: 1, network: 1 },
      signedBy: "k-2024",
      trusts: ["k-2024", "k-2026"],
    },
    {
      version: "2.0.0",
      golden: true,
      epochs: { users: 2, network: 2 },
      signedBy: "k-2026",
      trusts: ["k-2026"],
    },
    {
      version: "2.0.1-transition.1",
      transition: true,
      epochs: { users: 2, network: 2 },
      ships: ["network-2-1"],
      signedBy: "k-2026",
      trusts: ["k-2024", "k-2026"],
    },
  ],
  migrations: [
    {
      id: "users-1-2",
      component: "users",
      from: 1,
      to: 2,
      script: "migrations/users/1-2-priv-groups.sh",
      shippedIn: ">=2.0.0",
    },
    {
      id: "network-1-2",
      component: "network",
      from: 1,
      to: 2,
      script: "migrations/network/1-2-dhcpv4-section.sh",
      shippedIn: ">=2.0.0",
    },
    {
      id: "network-2-1",
      component: "network",
      from: 2,
      to: 1,
      script: "migrations/network/2-1-dhcpv4-section.sh",
    },
  ],
};

/** The graphs by name, the rotation graph written under WORK. */
export function stageGraphs(work, keyDir) {
  const dir = join(work, "graph-rotation");
  mkdirSync(dir, { recursive: true });
  cpSync(join(REPO, "migrations"), join(dir, "migrations"), { recursive: true });
  mkdirSync(join(dir, "keys"), { recursive: true });
  const keys = {};
  for (const id of ["k-2024", "k-2026"]) {
    copyFileSync(ensureKey(keyDir, id).ed25519.pub, join(dir, "keys", `${id}.pub.pem`));
    keys[id] = { public: `keys/${id}.pub.pem` };
  }
  const json = { schemaVersion: ROTATION.schemaVersion, notes: ROTATION.notes, keys, ...ROTATION };
  writeFileSync(join(dir, "release-graph.json"), `${JSON.stringify(json, null, 2)}\n`);
  return {
    bundled: loadGraph("bundled", join(REPO, "release-graph.json")),
    rotation: loadGraph("rotation", join(dir, "release-graph.json")),
  };
}
