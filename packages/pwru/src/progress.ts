/**
 * A progress bar in the shape of cheggaaa/pb v3's default template, as upstream pwru draws it on
 * stderr while attaching and detaching: `1480 / 1480 [------------] 100.00% 342 p/s`.
 * On a terminal it redraws in place; otherwise it writes one line when it finishes.
 */
export class ProgressBar {
  private current = 0;
  private readonly started: number;
  private lastDraw = 0;
  private finished = false;

  constructor(
    private readonly total: number,
    private readonly write: (s: string) => void = (s) => process.stderr.write(s),
    private readonly tty: boolean = process.stderr.isTTY === true,
    private readonly width: number = Math.min(process.stderr.columns || 100, 100),
    private readonly now: () => number = () => performance.now(),
  ) {
    this.started = now();
    if (tty) this.draw();
  }

  /** Advances by `n`. */
  add(n = 1): void {
    this.current += n;
    if (this.tty && this.now() - this.lastDraw > 100) this.draw();
  }

  /** The bar's text at this moment. */
  render(): string {
    const counters = `${this.current} / ${this.total}`;
    const pct = this.total > 0 ? (100 * this.current) / this.total : 100;
    const elapsed = (this.now() - this.started) / 1000;
    const speed = elapsed > 0.05 && this.current > 0 ? `${Math.round(this.current / elapsed)} p/s` : '? p/s';
    const percent = `${pct.toFixed(2)}%`;
    const inner = Math.max(10, this.width - counters.length - percent.length - speed.length - 5);
    const done = Math.min(inner, Math.floor((inner * Math.min(pct, 100)) / 100));
    const bar = done >= inner ? '-'.repeat(inner) : '-'.repeat(done) + '>' + '_'.repeat(inner - done - 1);
    return `${counters} [${bar}] ${percent} ${speed}`;
  }

  private draw(): void {
    this.lastDraw = this.now();
    this.write('\r' + this.render());
  }

  /** Draws the final state and ends the line. */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.write((this.tty ? '\r' : '') + this.render() + '\n');
  }
}
