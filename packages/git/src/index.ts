// Moved for issue #12 (they do no git): retire advice and transition use to
// @stepstone/planner, the shippedIn text to @stepstone/graph. Re-exported here for one
// step, so callers can move their imports; import them from their new homes.
export {
  type Run,
  runRange,
  type ShippingText,
  shippingRuns,
  shippingText,
  toRuns,
} from "@stepstone/graph";
export {
  type ClosedGap,
  capRange,
  type OpenedGap,
  type RetireEntry,
  type RetireResult,
  retire,
  type TransitionUse,
  transitionUse,
  type Verdict,
} from "@stepstone/planner";
export { CatFile, gitAt, gitEnv, listTags, openRepo, parseTree, type Repo } from "./git.js";
export {
  type ComponentEntry,
  type ComponentTree,
  componentEntry,
  componentFolders,
  componentTree,
  EPOCH_FILE,
  MIGRATIONS_DIR,
  parseEpoch,
  type ScriptFile,
  type TreeEntry,
} from "./layout.js";
export {
  type ComponentState,
  type InheritedKeys,
  type MergeInput,
  type MergeResult,
  mergeSync,
  ordered,
  type PinnedScript,
  type SyncChanges,
  type TagState,
} from "./merge.js";
export {
  type PublishedRelease,
  type PublishOptions,
  type PublishResult,
  type PublishStatus,
  publishTransitions,
} from "./publish.js";
export { type ReadProgress, type RepoRead, readTags } from "./read.js";
export { type ReadmeInput, transitionReadme } from "./readme.js";
export {
  type PeeledTag,
  type SyncOptions,
  type SyncProgress,
  type SyncResult,
  syncRepo,
} from "./sync.js";
export {
  globToRegExp,
  parseTagVersion,
  type SkippedTag,
  selectTags,
  type TagFilter,
  type TagRef,
  type TagSelection,
  type VersionTag,
} from "./tags.js";
