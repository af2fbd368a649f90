export { type BundleResult, bundleFileName, bundleFiles, writeBundle } from "./bundle.js";
export {
  BUNDLE_DIR,
  buildManifest,
  type Manifest,
  type ManifestComponent,
  type ManifestScript,
  manifestJson,
  manifestTsv,
  parseManifestTsv,
} from "./manifest.js";
export { signManifest, verifyManifest } from "./sign.js";
export {
  bundleMtime,
  DEFAULT_MTIME,
  readTarGz,
  type TarEntry,
  type TarFile,
  tarBytes,
  writeTarGz,
} from "./tarball.js";
export { type VerifyResult, verifyBundle } from "./verify.js";
