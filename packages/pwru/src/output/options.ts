/** The output switches the printers honour (a subset of the CLI options). */
export interface OutputOptions {
  readonly outputMeta: boolean;
  readonly outputTuple: boolean;
  readonly outputTcpFlags: boolean;
  readonly outputTunnel: boolean;
  readonly outputStack: boolean;
  readonly outputCaller: boolean;
  readonly outputSkbCb: boolean;
  readonly outputNetnsNames: boolean;
  readonly netnsNamesMaxLength: number;
  /** `none`, `current`, `relative` or `absolute`. */
  readonly timestamp: string;
}

/** The timestamp modes `--timestamp` accepts. */
export const TIMESTAMP_MODES = ['none', 'current', 'relative', 'absolute'] as const;
