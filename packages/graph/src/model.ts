import type { SemVer } from "semver";
import type { VersionRange } from "./semver.js";

/** A component's data format version. Integers >= 0. */
export type Epoch = number;

export type OnFailure = "halt" | "isolate" | "wipe";

/** Is a text one of the runner's failure policies (a manifest's field, say)? */
export function isOnFailure(text: string | undefined): text is OnFailure {
  return text === "halt" || text === "isolate" || text === "wipe";
}

/** A unit of persistent data with its own format version. */
export interface Component {
  readonly name: string;
  /** May a plan reset it to factory state? */
  readonly wipeable: boolean;
  /** Its data, relative to the persistent root. */
  readonly paths: readonly string[];
  readonly onFailure: OnFailure;
  /** systemd units that must not start before its migrations ran. */
  readonly services: readonly string[];
  /** Epoch of data written by releases that predate the runner. */
  readonly baseline: Epoch;
  readonly notes?: string;
}

export interface PlatformOverride {
  readonly epochs: Readonly<Record<string, Epoch>>;
}

export interface Release {
  /** The version as written in the file (the release's identity in output). */
  readonly version: string;
  readonly semver: SemVer;
  /** Release line, default `major.minor`. */
  readonly line: string;
  readonly golden: boolean;
  readonly transition: boolean;
  /** Never a stop or a target; may be a source. */
  readonly withdrawn: boolean;
  /** Does the image carry the on-device runner? Without it, it runs no migration. */
  readonly runner: boolean;
  /** Data epoch of every component (before platform overrides). */
  readonly epochs: Readonly<Record<string, Epoch>>;
  /** Ids of extra migrations this image carries. */
  readonly ships: readonly string[];
  /** Range a lower source must satisfy. */
  readonly upgradeFrom: VersionRange | null;
  readonly signedBy: string | null;
  /** Keys whose images this release accepts; null accepts any image. */
  readonly trusts: readonly string[] | null;
  readonly platforms: Readonly<Record<string, PlatformOverride>>;
  readonly tag?: string;
  readonly notes?: string;
}

export interface Migration {
  readonly id: string;
  readonly component: string;
  readonly from: Epoch;
  readonly to: Epoch;
  /** Path relative to the graph file's folder. */
  readonly script: string;
  /** Releases whose image carries it; null: only those naming it in `ships`. */
  readonly shippedIn: VersionRange | null;
  readonly after: readonly string[];
  readonly sha256?: string;
  readonly description?: string;
  readonly notes?: string;
}

/** A signing key the graph names: its id (what `signedBy` and `trusts` say) and public half. */
export interface SigningKey {
  readonly id: string;
  /** The ed25519 public key in PEM, relative to the graph file's folder. */
  readonly public: string;
  readonly notes?: string;
}

export interface ReleaseGraph {
  /** Components in migration order (derived from `after` across components, then file order). */
  readonly components: readonly Component[];
  /** Releases sorted by semver precedence, lowest first. */
  readonly releases: readonly Release[];
  /** Migrations in file order. */
  readonly migrations: readonly Migration[];
  /** Every platform named by some release. */
  readonly platforms: readonly string[];
  /**
   * The top-level `keys`, by id, in file order; null when the file has none (then
   * `signedBy` and `trusts` are labels nothing ties to a key).
   */
  readonly keys: ReadonlyMap<string, SigningKey> | null;
}

export function isDown(m: Migration): boolean {
  return m.to < m.from;
}
