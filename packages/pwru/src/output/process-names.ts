/**
 * The PROCESS column's names, resolved once per process: reading /proc for every event would
 * cost more than formatting it. Pid 0 is several tasks (one idle task per CPU), told apart by
 * the command name its events carry.
 */

/** Names by pid (and by command name for pid 0), each resolved and shaped once. */
export class ProcessNames<T> {
  /** By pid, and by `comm` (a string key) for pid 0. */
  readonly #names = new Map<number | string, T>();

  /**
   * @param resolve the untruncated `<name>:<pid>` (see `processName`)
   * @param shape what a printer keeps of it (a padded column, a JSON literal)
   */
  constructor(
    private readonly resolve: (pid: number, comm: string) => string,
    private readonly shape: (name: string) => T,
  ) {}

  /** The shaped name of the process `pid` whose task was named `comm` at the event. */
  get(pid: number, comm = ''): T {
    const key = pid === 0 ? comm : pid;
    let v = this.#names.get(key);
    if (v === undefined) {
      v = this.shape(this.resolve(pid, comm));
      this.#names.set(key, v);
    }
    return v;
  }

  /** Forgets every name (pids are reused). */
  clear(): void {
    this.#names.clear();
  }
}
