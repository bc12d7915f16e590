/**
 * A failure the user can act on: printed as one `ERROR Failed to run pwru error="..."` line
 * (exit 1), never as a stack trace. The root of every error class pwru declares (checked by
 * `tools/lint/error-roots.mjs`), so `e instanceof PwruError` catches whatever pwru throws.
 */
export class PwruError extends Error {
  override name = 'PwruError';
}

/** The kernel lacks something the chosen backend or option needs. */
export class MissingKernelFeatureError extends PwruError {
  override name = 'MissingKernelFeatureError';
  constructor(
    readonly feature: string,
    hint: string,
  ) {
    super(`${feature} is not available on this kernel: ${hint}`);
  }
}

/**
 * The kernel refused the program of one target (a verifier rejection, or a function it will not
 * trace). Backends with a program per function skip and count such targets instead of failing.
 */
export class ProgramRefusedError extends PwruError {
  override name = 'ProgramRefusedError';
  constructor(
    message: string,
    /** What the program was for, e.g. `fentry dst_blackhole_neigh_lookup`. */
    readonly target: string,
    /** The kernel's reason, one line (the verifier's rejecting line, or the errno). */
    readonly reason: string,
  ) {
    super(message);
  }
}

/** The process lacks the privileges pwru needs (it is not root, nor has CAP_BPF and CAP_PERFMON). */
export class PrivilegeError extends PwruError {
  override name = 'PrivilegeError';
}
