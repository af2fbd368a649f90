export { type BundleResult, bundleFileName, bundleFiles, writeBundle } from "./bundle.js";
export {
  graphKey,
  type Signing,
  type SigningOptions,
  signingFor,
  UNSIGNED,
} from "./keys.js";
export {
  BUNDLE_DIR,
  buildManifest,
  keyFile,
  type Manifest,
  type ManifestComponent,
  type ManifestKey,
  type ManifestScript,
  manifestJson,
  manifestTsv,
  parseManifestTsv,
} from "./manifest.js";
export { readTarGz, type TarEntry } from "./read.js";
export { readPrivateKey, signManifest, verifyManifest } from "./sign.js";
export { type BatchSigningOptions, signingsFor } from "./signings.js";
export {
  bundleMtime,
  DEFAULT_MTIME,
  type TarFile,
  TarGzWriter,
  tarBytes,
  UstarHeader,
  writeTarGz,
} from "./tarball.js";
export { graphVerifyKey, type VerifyKey, type VerifyResult, verifyBundle } from "./verify.js";
