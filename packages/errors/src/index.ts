/**
 * Every failure stepstone reports has a type, and every type has one exit code.
 * The CLI catches these once, prints `message` (no stack trace) and exits with `exitCode`.
 */

export const ExitCode = {
  ok: 0,
  /** No plan exists, a migration failed, `gaps --check` found gaps. */
  failure: 1,
  /** Bad input: usage, configuration, a broken graph file. */
  input: 2,
  /** A bundle or script whose integrity could not be proven. */
  integrity: 3,
  /** A defect of stepstone itself (sysexits' EX_SOFTWARE): please report it. */
  internal: 70,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export abstract class StepstoneError extends Error {
  abstract readonly exitCode: ExitCode;
}

/** One problem in an input file, located by file and JSON path (or line:column). */
export interface Diagnostic {
  file: string;
  /** `releases[2].upgradeFrom`, or `12:5` for a syntax error, or "" for the whole file. */
  where: string;
  message: string;
}

export function formatDiagnostic(d: Diagnostic): string {
  if (d.where === "") return `${d.file}: ${d.message}`;
  // `file:12:5: message`, as compilers write it, so editors jump to the place.
  if (/^\d+:\d+$/.test(d.where)) return `${d.file}:${d.where}: ${d.message}`;
  return `${d.file}: ${d.where}: ${d.message}`;
}

/** Bad input: the user must change a file or an argument. Exit 2. */
export class InputError extends StepstoneError {
  readonly exitCode = ExitCode.input;
  readonly diagnostics: readonly Diagnostic[];
  constructor(message: string, diagnostics: readonly Diagnostic[] = []) {
    super(message);
    this.name = "InputError";
    this.diagnostics = diagnostics;
  }

  /** All the problems of one file at once, one line each. */
  static fromDiagnostics(diagnostics: readonly Diagnostic[]): InputError {
    return new InputError(diagnostics.map(formatDiagnostic).join("\n"), diagnostics);
  }
}

/** Content that does not match what was signed or pinned. Exit 3. */
export class IntegrityError extends StepstoneError {
  readonly exitCode = ExitCode.integrity;
  constructor(message: string) {
    super(message);
    this.name = "IntegrityError";
  }
}

/** The request was understood but its answer is "no": no plan, gaps found. Exit 1. */
export class FailureError extends StepstoneError {
  readonly exitCode = ExitCode.failure;
  constructor(message: string) {
    super(message);
    this.name = "FailureError";
  }
}

const SYSTEM_REASONS: Record<string, string> = {
  ENOENT: "no such file or folder",
  EEXIST: "it already exists",
  ENOTDIR: "a part of the path is a file, not a folder",
  EISDIR: "it is a folder, not a file",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "the file system is read-only",
  ENOSPC: "no space left on the device",
  EDQUOT: "the disk quota is exceeded",
  EMFILE: "too many open files",
  ENAMETOOLONG: "the name is too long",
  ELOOP: "too many levels of symbolic links",
  EIO: "an input/output error",
  ENOTEMPTY: "the folder is not empty",
  EXDEV: "it is on another file system",
};
const SYSCALL_VERBS: Record<string, string> = {
  mkdir: "create the folder",
  open: "open",
  read: "read",
  write: "write",
  rename: "rename",
  unlink: "remove",
  rmdir: "remove the folder",
  scandir: "list the folder",
  stat: "look at",
  lstat: "look at",
  copyfile: "copy",
  symlink: "create the link",
  chmod: "change the mode of",
};

/**
 * Why a file-system call failed, in words and with node's code (`no such file or folder
 * (ENOENT)`), for messages that already say which path and what was being done.
 */
export function systemReason(e: unknown): string {
  const code = systemCode(e);
  const message = e instanceof Error ? e.message : String(e);
  if (code !== undefined) return `${SYSTEM_REASONS[code] ?? message} (${code})`;
  return message;
}

/** Node's code of a system error (`ENOENT`, `EACCES`...), or undefined for anything else. */
export function systemCode(e: unknown): string | undefined {
  const code: unknown = typeof e === "object" && e !== null ? Reflect.get(e, "code") : undefined;
  return typeof code === "string" && /^E[A-Z]+$/.test(code) ? code : undefined;
}

/**
 * A file-system error from node (`ENOENT`, `EEXIST`, `ENOTDIR`...) as an InputError the
 * user can act on: what could not be done to which path, and why. Undefined for anything
 * else, which stays an internal error.
 */
export function fromSystemError(e: unknown): InputError | undefined {
  if (!(e instanceof Error)) return undefined;
  const code = systemCode(e);
  const syscall: unknown = Reflect.get(e, "syscall");
  const path: unknown = Reflect.get(e, "path");
  const dest: unknown = Reflect.get(e, "dest");
  if (code === undefined || typeof path !== "string") {
    return undefined;
  }
  const verb = (typeof syscall === "string" && SYSCALL_VERBS[syscall]) || "use";
  const to = typeof dest === "string" ? ` to ${dest}` : "";
  return new InputError(`cannot ${verb} ${path}${to}: ${systemReason(e)}`);
}
