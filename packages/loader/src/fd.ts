import { ClosedError } from './errors.js';
import type { SyscallBackend } from './sys/backend.js';

/** Something that owns a kernel file descriptor: `close()` releases it, as does `using`. */
export abstract class FdHandle implements Disposable {
  #fd: number;

  protected constructor(
    fd: number,
    /** The backend the fd belongs to. */
    readonly backend: SyscallBackend,
  ) {
    this.#fd = fd;
  }

  /** The file descriptor; throws {@link ClosedError} after close(). */
  get fd(): number {
    if (this.#fd < 0) throw new ClosedError(`${this.describe()} is closed`);
    return this.#fd;
  }

  /** Whether close() has been called. */
  get closed(): boolean {
    return this.#fd < 0;
  }

  /** A short description for error messages, e.g. `map "events"`. */
  protected abstract describe(): string;

  /** Releases extra resources before the fd is closed (override). */
  protected beforeClose(): void {}

  /**
   * Marks the handle closed and hands its fd to the caller (who must close it), after
   * releasing extra resources; -1 if already closed. For asynchronous or batched closing.
   */
  protected takeFd(): number {
    if (this.#fd < 0) return -1;
    const fd = this.#fd;
    try {
      this.beforeClose();
    } finally {
      this.#fd = -1;
    }
    return fd;
  }

  /** Closes the fd. Idempotent. */
  close(): void {
    if (this.#fd < 0) return;
    try {
      this.beforeClose();
    } finally {
      this.backend.close(this.#fd);
      this.#fd = -1;
    }
  }

  /** Same as close(), for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}
