// The device's persistent data in the device stage, and what the repository's migrations
// (migrations/users, ownership, network) make of it at each epoch, so a checker can
// predict every file after every boot. One place writes it and one place says what a
// component must look like:
//   - device data: what a device that lived on a release holds in its persistent layer
//     (accounts added on the device, the daemons' state, network settings), at an epoch;
//   - the image's own files: what an image ships in its read-only /etc at its epoch
//     (Debian's accounts, plus the daemons' users and groups from epoch 2), which a wipe
//     of users brings back into view.
// Debian's own accounts (the base image's etc/passwd, group, shadow, gshadow) are read
// from the base tree: systemd-sysusers then finds every account it wants and writes
// nothing, so a boot changes nothing but what the scripts change.
import { lstatSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const USERS_FILES = ["etc/passwd", "etc/group", "etc/shadow", "etc/gshadow"];

// users-1-2's entries, in its order (static ids, see migrations/users/1-2-priv-groups.sh).
const OUR_GROUPS = [
  ["priv-admin", 980, "root"],
  ["priv-operator", 981, ""],
  ["priv-user", 982, ""],
  ["priv-noaccess", 983, ""],
  ["web", 984, "root"],
  ["redfish", 985, "root"],
  ["ipmi", 986, "root"],
  ["ssh", 987, "root"],
  ["bmcweb", 990, ""],
  ["phosphor-settings", 991, ""],
  ["phosphor-logging", 992, ""],
];
const OUR_USERS = [
  ["bmcweb", 990, "bmcweb Redfish and web server", "/var/lib/bmcweb"],
  ["phosphor-settings", 991, "phosphor-settings-manager", "/var/lib/phosphor-settings-manager"],
  ["phosphor-logging", 992, "phosphor-logging event log", "/var/lib/phosphor-logging"],
];
const OURS = {
  "etc/group": OUR_GROUPS.map(([n, id, m]) => `${n}:x:${id}:${m}`),
  "etc/passwd": OUR_USERS.map(([n, id, g, h]) => `${n}:x:${id}:${id}:${g}:${h}:/sbin/nologin`),
  "etc/gshadow": OUR_GROUPS.map(([n, , m]) => `${n}:!::${m}`),
  "etc/shadow": OUR_USERS.map(([n]) => `${n}:!::0:99999:7:::`),
};
// Accounts made on the device (through Redfish, say): the data a wipe of users loses.
const DEVICE = {
  "etc/group": ["bmc-operators:x:1000:alice,bob"],
  "etc/passwd": [
    "alice:x:1000:1000:Alice:/home/alice:/bin/sh",
    "bob:x:1001:1000:Bob:/home/bob:/bin/sh",
  ],
  "etc/gshadow": ["bmc-operators:!::alice,bob"],
  "etc/shadow": ["alice:$6$salt$aliceshash:19000:0:99999:7:::", "bob:!:19000:0:99999:7:::"],
};

// The daemons' state trees: uid = gid of their user at epoch 2.
const TREES = {
  "var/lib/bmcweb": { id: 990, files: ["persistent_data.json", "session.key", "certs/server.pem"] },
  "var/lib/phosphor-settings-manager": {
    id: 991,
    files: ["settings/power_restore_policy", "settings/ntp", "settings/hostname"],
  },
  "var/lib/phosphor-logging": { id: 992, files: ["entries/1", "entries/2", "entries/3", "format"] },
};

const NETWORK = {
  "etc/systemd/network/00-bmc-eth0.network": (e) =>
    `[Match]\nName=eth0\n\n[Network]\nDHCP=ipv4\n\n${e >= 2 ? "[DHCPv4]" : "[DHCP]"}\nUseDNS=true\nClientIdentifier=mac\n`,
  "etc/systemd/network/10-usb0.network": (e) =>
    `[Match]\nName=usb0\n\n[Network]\nDHCP=ipv4\n\n${e >= 2 ? "[DHCPv4]" : "[DHCP]"}\nUseNTP=false\n`,
  "etc/systemd/network/40-static.network": () =>
    "[Match]\nName=eth1\n\n[Network]\nAddress=192.0.2.10/24\nGateway=192.0.2.1\n",
};

/** A file: content (undefined for a directory), mode, uid, gid. */
const file = (content, mode, uid = 0, gid = 0) => ({ content, mode, uid, gid });
const dir = (mode, uid = 0, gid = 0) => ({ content: undefined, mode, uid, gid });
const text = (lines) => `${lines.join("\n")}\n`;

/** Debian's account files of the base tree: { rel: { lines, mode, uid, gid } }. */
export function readBaseAccounts(baseRoot) {
  const out = {};
  for (const rel of USERS_FILES) {
    const p = join(baseRoot, rel);
    const st = lstatSync(p);
    out[rel] = {
      lines: readFileSync(p, "utf8").split("\n").filter(Boolean),
      mode: st.mode & 0o7777,
      uid: st.uid,
      gid: st.gid,
    };
  }
  return out;
}

/**
 * The model of the components of a graph: for each component the files it holds, as the
 * device's data at an epoch (device: true) or as the factory data an image ships
 * (device: false). The components are the repository's: users, ownership, network.
 */
export function makeModel(base) {
  const users = (epoch, device) => {
    const out = {};
    for (const rel of USERS_FILES) {
      const b = base[rel];
      const lines = [...b.lines, ...(device ? DEVICE[rel] : []), ...(epoch >= 2 ? OURS[rel] : [])];
      out[rel] = file(text(lines), b.mode, b.uid, b.gid);
    }
    return out;
  };
  const ownership = (epoch, device) => {
    const out = {};
    if (!device) return out; // the images ship no daemon state: the daemons make it
    for (const [tree, t] of Object.entries(TREES)) {
      const [u, g] = epoch >= 2 ? [t.id, t.id] : [0, 0];
      const private3 = epoch >= 3 && tree === "var/lib/bmcweb";
      out[tree] = dir(private3 ? 0o700 : 0o755, u, g);
      for (const rel of t.files) {
        const parts = rel.split("/");
        for (let i = 1; i < parts.length; i++) {
          out[`${tree}/${parts.slice(0, i).join("/")}`] = dir(0o755, u, g);
        }
        const direct = parts.length === 1;
        out[`${tree}/${rel}`] = file(
          `# ${tree}/${rel}\nvalue=${rel.length * 7919}\n`,
          private3 && direct ? 0o600 : 0o644,
          u,
          g,
        );
      }
    }
    return out;
  };
  const network = (epoch, device) => {
    const out = {};
    if (!device) return out;
    out["etc/systemd/network"] = dir(0o755);
    for (const [rel, f] of Object.entries(NETWORK)) out[rel] = file(f(epoch), 0o644);
    return out;
  };
  const byName = { users, ownership, network };
  return {
    components: Object.keys(byName),
    /** The files of component C at EPOCH: { rel: file }. */
    files(c, epoch, device) {
      const f = byName[c];
      if (!f) throw new Error(`the device model has no component ${c}`);
      return f(epoch, device);
    },
    /** Paths a component's data lives under (as in the graphs), for the guest's report. */
    paths: [...USERS_FILES, ...Object.keys(TREES), "etc/systemd/network"],
  };
}

/**
 * Compares the files of one component in TREE (an extracted merged view, owners kept)
 * with EXPECTED ({ rel: file }); ROOTS are the component's top paths (anything else found
 * under them is unexpected). Returns a list of differences (empty: exactly as predicted).
 */
export function diffComponent(tree, expected, roots) {
  const diffs = [];
  const seen = new Set();
  const walk = (rel) => {
    let st;
    try {
      st = lstatSync(join(tree, rel));
    } catch {
      return;
    }
    seen.add(rel);
    if (st.isDirectory()) {
      for (const e of readdirSafe(join(tree, rel))) walk(`${rel}/${e}`);
    }
  };
  for (const r of roots) walk(r);
  for (const [rel, want] of Object.entries(expected)) {
    let st;
    try {
      st = lstatSync(join(tree, rel));
    } catch {
      diffs.push(`${rel}: missing`);
      continue;
    }
    const mode = st.mode & 0o7777;
    if (want.content === undefined) {
      if (!st.isDirectory()) diffs.push(`${rel}: not a directory`);
    } else {
      const got = st.isFile() ? readFileSync(join(tree, rel), "utf8") : undefined;
      if (got !== want.content)
        diffs.push(`${rel}: content differs (${describe(got, want.content)})`);
    }
    if (mode !== want.mode) diffs.push(`${rel}: mode ${oct(mode)}, expected ${oct(want.mode)}`);
    if (st.uid !== want.uid || st.gid !== want.gid) {
      diffs.push(`${rel}: owner ${st.uid}:${st.gid}, expected ${want.uid}:${want.gid}`);
    }
  }
  for (const rel of seen) {
    if (!(rel in expected)) diffs.push(`${rel}: unexpected`);
  }
  return diffs;
}

function readdirSafe(p) {
  try {
    return readdirSync(p);
  } catch {
    return [];
  }
}
const oct = (m) => m.toString(8).padStart(4, "0");

function describe(got, want) {
  if (got === undefined) return "not a file";
  const g = got.split("\n");
  const w = want.split("\n");
  const i = g.findIndex((l, k) => l !== w[k]);
  return `line ${i + 1}: ${JSON.stringify(g[i] ?? "<end>")}, expected ${JSON.stringify(w[i] ?? "<end>")}`;
}
