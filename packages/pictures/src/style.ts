import type { PictureEdge, PictureNode, StopMark, Tag } from "./picture.js";

/** One palette for DOT, Mermaid and the report, so every picture reads the same way. */
export const palette = {
  text: "#111827",
  muted: "#6b7280",
  node: { fill: "#ffffff", border: "#9ca3af" },
  golden: { fill: "#fde68a", border: "#b45309" },
  transition: { fill: "#bae6fd", border: "#0369a1" },
  withdrawn: { fill: "#f3f4f6", border: "#9ca3af", text: "#6b7280" },
  run: { fill: "#f3f4f6", border: "#d1d5db", text: "#4b5563" },
  cluster: { fill: "#f9fafb", border: "#d1d5db" },
  next: "#9ca3af",
  golden_hop: "#2563eb",
  wipe: "#ea580c",
  blocked: "#dc2626",
  path: "#16a34a",
  /** A stop a key rotation or an upgradeFrom forces. */
  stop: "#7c3aed",
  /** The note on an unused transition release. */
  unused: "#a16207",
} as const;

export type EdgeStyle = "next" | "golden" | "wipe" | "blocked" | "path";

/** The one style an edge is drawn with: the plan first, then what is wrong, then why it is drawn. */
export function edgeStyle(e: PictureEdge): EdgeStyle {
  if (e.step !== null) return "path";
  if (e.blocked !== null) return "blocked";
  if (e.wipe.length > 0) return "wipe";
  return e.golden ? "golden" : "next";
}

/** "1", "wipes users", "1 · wipes users", "✗ key". */
export function edgeLabel(e: PictureEdge): string {
  const parts: string[] = [];
  if (e.step !== null) parts.push(String(e.step));
  if (e.blocked !== null) parts.push(`✗ ${e.blocked}`);
  if (e.wipe.length > 0) parts.push(`wipes ${e.wipe.join(", ")}`);
  return parts.join(" · ");
}

/** The node's text: its version (a folded run: first … last) and what is special about it. */
export function nodeText(n: PictureNode): { title: string; detail: string } {
  const first = n.releases[0];
  const last = n.releases[n.releases.length - 1];
  if (n.releases.length > 1 && first && last) {
    return { title: `${first.version} … ${last.version}`, detail: `${n.releases.length} releases` };
  }
  return { title: first?.version ?? n.id, detail: n.tags.join(", ") };
}

/** The lines under a node's detail: why a plan must stop there, and a note when it is unused. */
export function nodeNotes(n: PictureNode): { stops: string[]; unused: string | null } {
  return {
    stops: n.stops.map(stopText),
    unused: n.unused ? "unused: no plan between golden releases stops here" : null,
  };
}

/** "stop: key rotation to vendor-2025", "stop: 2.11.0 upgrades only from >=2.10.0". */
export function stopText(m: StopMark): string {
  return m.code === "key"
    ? `stop: key rotation to ${m.key}`
    : `stop: ${m.after} upgrades only from ${m.range}`;
}

export const hasTag = (n: PictureNode, t: Tag) => n.tags.includes(t);

export const LEGEND: readonly { style: EdgeStyle; text: string }[] = [
  { style: "next", text: "next release" },
  { style: "golden", text: "hop of a golden release's best plan" },
  { style: "wipe", text: "hop that wipes data" },
  { style: "blocked", text: "blocked hop" },
  { style: "path", text: "the plan" },
];

export type NodeMark = "stop" | "unused";

/** What the pictures mark on releases, for the legends (each shown when the picture has one). */
export const NODE_LEGEND: readonly { mark: NodeMark; text: string }[] = [
  { mark: "stop", text: "stop forced by a key rotation or an upgradeFrom" },
  { mark: "unused", text: "transition release that no plan between golden releases uses" },
];

/** The node marks a picture has. */
export function nodeMarks(nodes: readonly PictureNode[]): Set<NodeMark> {
  const out = new Set<NodeMark>();
  for (const n of nodes) {
    if (n.stops.length > 0) out.add("stop");
    if (n.unused) out.add("unused");
  }
  return out;
}
