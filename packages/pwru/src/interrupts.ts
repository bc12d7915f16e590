/**
 * Ctrl-C (SIGINT, SIGTERM, SIGHUP) while pwru runs. The first stops the trace, which then
 * detaches every probe; pwru never exits with probes attached, and exiting would not be faster
 * anyway (the kernel removes a dying process's kprobes just as slowly: 133 s for 1,352 kprobes
 * in the 6.1 test VM). Later signals therefore only say what pwru is waiting for, so a slow
 * detach never looks like a hang.
 */
import type { Backend } from './backend.js';

/** Counts stop signals: the first aborts {@link signal}, each later one calls the repeat listener. */
export class Interrupts {
  readonly #ac = new AbortController();
  #count = 0;
  #onRepeat: () => void = () => undefined;

  /** Aborted at the first signal. */
  get signal(): AbortSignal {
    return this.#ac.signal;
  }

  /** How many signals arrived. */
  get count(): number {
    return this.#count;
  }

  /** Records one signal. */
  raise(): void {
    this.#count++;
    if (this.#count === 1) this.#ac.abort();
    else this.#onRepeat();
  }

  /** Sets what a second or later signal does. */
  onRepeat(fn: () => void): void {
    this.#onRepeat = fn;
  }
}

/** What detaching probes is up to, for the status line a repeated Ctrl-C prints. */
export class DetachProgress {
  #total = 0;
  #done = 0;
  #started = 0;
  #backend: Backend | undefined;
  #active = false;

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** Detaching `total` targets of `backend` starts. */
  begin(total: number, backend: Backend | undefined): void {
    this.#total = total;
    this.#done = 0;
    this.#started = this.now();
    this.#backend = backend;
    this.#active = true;
  }

  /** `n` more targets are detached. */
  advance(n: number): void {
    this.#done += n;
  }

  /** Detaching is over. */
  end(): void {
    this.#active = false;
  }

  /** Whether a detach is in progress. */
  get active(): boolean {
    return this.#active;
  }

  /** One line: how many are left, how long it has taken, a projection, and why it is slow. */
  describe(): string {
    const left = Math.max(0, this.#total - this.#done);
    const secs = (this.now() - this.#started) / 1000;
    const what =
      this.#backend === 'tracepoint' ? 'tracepoints' : this.#backend === 'fentry' ? 'fentry programs' : 'probes';
    let s = `Still detaching ${what}: ${left} of ${this.#total} left after ${secs.toFixed(0)} s`;
    if (this.#done > 0 && left > 0) s += ` (about ${Math.ceil((left * secs) / this.#done)} s more at this pace)`;
    s += `; ${WHY_SLOW[this.#backend ?? 'kprobe']}. pwru exits once none is left, so nothing stays attached (killing it would not be faster: the kernel does the same work when it exits)`;
    return s;
  }
}

const WHY_SLOW: Record<Backend, string> = {
  kprobe: 'the kernel removes kprobes one at a time, each after an RCU grace period',
  'kprobe-multi': 'the kernel is unregistering the kprobe-multi links',
  fentry: 'the kernel rebuilds and frees one BPF trampoline per function, each after an RCU grace period',
  tracepoint: 'the kernel is releasing the tracepoint links',
};
