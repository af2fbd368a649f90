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
export { readTarGz, type TarEntry } from "./read.js";
export { signManifest, verifyManifest } from "./sign.js";
export {
  bundleMtime,
  DEFAULT_MTIME,
  type TarFile,
  TarGzWriter,
  tarBytes,
  UstarHeader,
  writeTarGz,
} from "./tarball.js";
export { type VerifyResult, verifyBundle } from "./verify.js";
