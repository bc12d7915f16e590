/**
 * A failure the user can act on: printed as one `ERROR Failed to run pwru error="..."` line
 * (exit 1), never as a stack trace.
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
