// The device's persistent data in the power-cut fixture, and what each migration makes of
// it. One place writes the data at epoch 1 and says, for data read back from a disk, which
// state each component is in: exactly epoch 1, exactly epoch 2, "partial" (a mix of the two
// that an interrupted re-runnable script can leave), or damaged (a file that is neither:
// empty, torn, missing, foreign owner). Since every component has one script per
// direction, "epoch 2 exactly" is "users-1-2 (or ownership-1-2, ...) fully took effect".
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";

/** Component names, in the order the bundles run them (checked against manifest.tsv). */
export const COMPONENTS = ["users", "ownership", "network", "logging"];

// --- users ---------------------------------------------------------------------------------
const GROUP_BASE = [
  "root:x:0:",
  "daemon:x:1:",
  "bin:x:2:",
  "sys:x:3:",
  "adm:x:4:",
  "tty:x:5:",
  "disk:x:6:",
  "wheel:x:10:root",
  "users:x:100:",
  "bmc-operators:x:1000:alice,bob",
];
const GROUP_OURS = [
  "priv-admin:x:980:root",
  "priv-operator:x:981:",
  "priv-user:x:982:",
  "priv-noaccess:x:983:",
  "web:x:984:root",
  "redfish:x:985:root",
  "ipmi:x:986:root",
  "ssh:x:987:root",
  "bmcweb:x:990:",
  "phosphor-settings:x:991:",
  "phosphor-logging:x:992:",
];
const PASSWD_BASE = [
  "root:x:0:0:root:/home/root:/bin/sh",
  "daemon:x:1:1:daemon:/usr/sbin:/bin/false",
  "bin:x:2:2:bin:/bin:/bin/false",
  "sys:x:3:3:sys:/dev:/bin/false",
  "alice:x:1000:1000:Alice:/home/alice:/bin/sh",
  "bob:x:1001:1000:Bob:/home/bob:/bin/sh",
];
const PASSWD_OURS = [
  "bmcweb:x:990:990:bmcweb Redfish and web server:/var/lib/bmcweb:/sbin/nologin",
  "phosphor-settings:x:991:991:phosphor-settings-manager:/var/lib/phosphor-settings-manager:/sbin/nologin",
  "phosphor-logging:x:992:992:phosphor-logging event log:/var/lib/phosphor-logging:/sbin/nologin",
];
const lines = (a) => `${a.join("\n")}\n`;
const USERS_FILES = {
  "etc/group": [lines(GROUP_BASE), lines([...GROUP_BASE, ...GROUP_OURS])],
  "etc/passwd": [lines(PASSWD_BASE), lines([...PASSWD_BASE, ...PASSWD_OURS])],
};

// --- ownership -----------------------------------------------------------------------------
/** Each tree: its daemon's uid = gid at epoch 2, and its files (relative to the tree). */
const TREES = {
  "var/lib/bmcweb": {
    id: 990,
    files: [
      "persistent_data.json",
      "certs/server.pem",
      "certs/ca.pem",
      ...range(40).map((i) => `sessions/session-${pad(i, 2)}`),
      ...range(10).map((i) => `uploads/a/file-${pad(i, 2)}`),
      ...range(10).map((i) => `uploads/b/file-${pad(i, 2)}`),
    ],
  },
  "var/lib/phosphor-settings-manager": {
    id: 991,
    files: ["control", "network", "time", "power"].flatMap((d) =>
      range(12).map((i) => `settings/xyz/openbmc_project/${d}/setting-${pad(i, 2)}`),
    ),
  },
};
const treeContent = (tree, rel) => `# ${tree}/${rel}\nvalue=${hash(`${tree}/${rel}`)}\n`;

// --- network -------------------------------------------------------------------------------
const NETWORK = ["00-bmc-eth0", "00-bmc-eth1", "10-usb0", "20-vlan100", "30-ncsi", "40-static"];
function networkContent(name, epoch) {
  const dhcp = name !== "40-static";
  const head = `[Match]\nName=${name.replace(/^\d+-(bmc-)?/, "")}\n\n[Network]\n`;
  if (!dhcp) return `${head}Address=192.0.2.${name.length}/24\nGateway=192.0.2.1\n`;
  const section = epoch === 1 ? "[DHCP]" : "[DHCPv4]";
  return `${head}DHCP=ipv4\nLinkLocalAddressing=no\n\n${section}\nUseDNS=true\nUseNTP=false\nClientIdentifier=mac\n`;
}

// --- logging -------------------------------------------------------------------------------
export const LOG_ENTRIES = 160;
const SEVERITY = ["Informational", "Warning", "Error", "Critical"];
function entry(n, epoch) {
  const fields = [
    ["ID", String(n)],
    ["TIMESTAMP", String(1700000000 + n * 37)],
    ["SEVERITY", SEVERITY[n % SEVERITY.length]],
    ["MESSAGE", `xyz.openbmc_project.Common.Error.Event${n % 7} on sensor ${hash(String(n))}`],
  ];
  if (epoch === 1) return lines(fields.map(([k, v]) => `${k} ${v}`));
  return lines(["format=2", ...fields.map(([k, v]) => `${k.toLowerCase()}=${v}`)]);
}

// --- writing the data ----------------------------------------------------------------------
/** Writes every component's data at epoch 1 under ROOT (root-owned, as 1.0.0 has it). */
export function writeData(root) {
  const put = (rel, content, mode = 0o644) => {
    mkdirSync(dirname(join(root, rel)), { recursive: true, mode: 0o755 });
    writeFileSync(join(root, rel), content, { mode });
  };
  for (const [rel, [v1]] of Object.entries(USERS_FILES)) put(rel, v1);
  for (const [tree, t] of Object.entries(TREES)) {
    for (const rel of t.files) put(`${tree}/${rel}`, treeContent(tree, rel));
  }
  for (const n of NETWORK) put(`etc/systemd/network/${n}.network`, networkContent(n, 1));
  for (let n = 1; n <= LOG_ENTRIES; n++) {
    put(`var/lib/phosphor-logging/entries/${pad(n, 4)}`, entry(n, 1));
  }
  put("var/lib/phosphor-logging/format", "1\n");
}

// --- reading it back -----------------------------------------------------------------------
/**
 * The state of each component in a tree read back from a disk (debugfs rdump, which keeps
 * owners and modes): { state: 1 | 2 | "partial" | "damaged", damage: string[] }.
 */
export function dataStates(root) {
  return {
    users: usersState(root),
    ownership: ownershipState(root),
    network: networkState(root),
    logging: loggingState(root),
  };
}

/** Combines per-item epochs (1, 2) and damage into a component state. */
function combine(epochs, damage) {
  if (damage.length > 0) return { state: "damaged", damage };
  const set = new Set(epochs);
  if (set.size === 1) return { state: [...set][0], damage };
  return { state: "partial", damage };
}

function readOr(path) {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

function describe(content) {
  if (content === undefined) return "missing";
  if (content.length === 0) return "empty (0 bytes)";
  return `unexpected content (${content.length} bytes: ${JSON.stringify(content.slice(0, 60))}...)`;
}

/** Which of the versions (index + 1 = epoch) a file holds, or a damage entry. */
function versionOf(root, rel, versions, damage) {
  const content = readOr(join(root, rel));
  const i = versions.indexOf(content);
  if (i >= 0) return [i + 1];
  damage.push(`${rel}: ${describe(content)}`);
  return [];
}

function usersState(root) {
  const damage = [];
  const epochs = Object.entries(USERS_FILES).flatMap(([rel, v]) => versionOf(root, rel, v, damage));
  return combine(epochs, damage);
}

function ownershipState(root) {
  const damage = [];
  const epochs = [];
  for (const [tree, t] of Object.entries(TREES)) {
    const want = new Set([tree, ...dirsOf(t.files).map((d) => `${tree}/${d}`)]);
    for (const rel of t.files) {
      const path = `${tree}/${rel}`;
      const content = readOr(join(root, path));
      if (content !== treeContent(tree, rel)) damage.push(`${path}: ${describe(content)}`);
      want.add(path);
    }
    for (const path of want) {
      let st;
      try {
        st = lstatSync(join(root, path));
      } catch {
        damage.push(`${path}: missing`);
        continue;
      }
      const mode = st.mode & 0o7777;
      if (mode !== (st.isDirectory() ? 0o755 : 0o644)) {
        damage.push(`${path}: mode ${mode.toString(8)}`);
      }
      if (st.uid === 0 && st.gid === 0) epochs.push(1);
      else if (st.uid === t.id && st.gid === t.id) epochs.push(2);
      else damage.push(`${path}: owner ${st.uid}:${st.gid}`);
    }
    const extra = listFiles(join(root, tree)).filter((f) => !want.has(`${tree}/${f}`));
    for (const f of extra) damage.push(`${tree}/${f}: unexpected file`);
  }
  return combine(epochs, damage);
}

function networkState(root) {
  const damage = [];
  const epochs = [];
  for (const n of NETWORK) {
    const rel = `etc/systemd/network/${n}.network`;
    const v1 = networkContent(n, 1);
    const v2 = networkContent(n, 2);
    // A file without a [DHCP] section is the same at both epochs.
    if (v1 === v2) versionOf(root, rel, [v1], damage);
    else epochs.push(...versionOf(root, rel, [v1, v2], damage));
  }
  return combine(epochs, damage);
}

function loggingState(root) {
  const damage = [];
  const epochs = [];
  for (let n = 1; n <= LOG_ENTRIES; n++) {
    const rel = `var/lib/phosphor-logging/entries/${pad(n, 4)}`;
    epochs.push(...versionOf(root, rel, [entry(n, 1), entry(n, 2)], damage));
  }
  epochs.push(...versionOf(root, "var/lib/phosphor-logging/format", ["1\n", "2\n"], damage));
  return combine(epochs, damage);
}

/** Temp files a script leaves while it runs: allowed after a cut, not once it completed. */
export function leftoverTemps(root) {
  return ["etc", "var/lib"].flatMap((top) =>
    listFiles(join(root, top))
      .filter((f) => f.endsWith(".migration-tmp"))
      .map((f) => `${top}/${f}`),
  );
}

// --- helpers -------------------------------------------------------------------------------
function range(n) {
  return Array.from({ length: n }, (_, i) => i + 1);
}

function pad(n, w) {
  return String(n).padStart(w, "0");
}

function hash(s) {
  let h = 2166136261;
  for (const c of s) h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0;
  return h.toString(16).padStart(8, "0");
}

function dirsOf(files) {
  const out = new Set();
  for (const f of files) {
    const parts = f.split("/");
    for (let i = 1; i < parts.length; i++) out.add(parts.slice(0, i).join("/"));
  }
  return [...out];
}

/** Every entry under DIR (files and directories), relative, "/"-separated. */
export function listFiles(dir, prefix = "") {
  if (!existsSync(dir)) return [];
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    out.push(rel);
    if (e.isDirectory()) out.push(...listFiles(join(dir, e.name), rel));
  }
  return out;
}
