import { ProcessNames } from './process-names.js';
import { EventKind, isTrackedOnly, type PwruEvent, TRACKED_ONLY_MARK } from '../event.js';
import { center, hex08Upper, hex64, hexProto, padLeft, padRight, tailTruncate } from './columns.js';
import { absoluteTime, FuncNameCache, type OutputContext, withDropReason } from './context.js';
import type { OutputOptions } from './options.js';
import { formatTuple } from './tuple.js';
import { returnColumn } from './retval.js';
import { bpfmapText } from './bpfmap.js';
import { ctText } from '../ct/names.js';
import { netfilterText } from '../netfilter/names.js';

/**
 * Upstream pwru's text output, byte for byte: a header line, then one line per event (plus one
 * line per stack frame). Keeps upstream's running maximum widths for TUPLE and FUNC, per printer
 * rather than per process.
 */
export class TextPrinter {
  private maxTuple = 0;
  private maxFunc = 0;
  private readonly lastSeen = new Map<string, number>();
  private readonly procNames: ProcessNames<string>;
  // Column caches: most values repeat from event to event.
  private readonly netnsCol = new Map<number, string>();
  private readonly ifaceCol = new Map<number, Map<number, string>>();
  private readonly cpuCol: string[] = [];
  private readonly funcNames = new FuncNameCache();
  /** `%-5d` of MTU and LEN values below 65536 (both are 16-bit in practice). */
  private readonly num5: string[] = [];
  private readonly metaCache = new Map<number, Map<number, string>>();

  constructor(
    private readonly opts: OutputOptions,
    private readonly ctx: OutputContext,
  ) {
    this.procNames = new ProcessNames(
      (pid, comm) => ctx.processName(pid, comm),
      (name) => padRight(name.startsWith('<empty>:') ? name : tailTruncate(name, 16), 16),
    );
  }

  /** The header line, with its newline. */
  header(): string {
    const o = this.opts;
    let s = '';
    if (o.timestamp === 'absolute') s += padRight('TIME', 23) + ' ';
    s += `${padRight('SKB', 18)} ${padRight('CPU', 3)} ${padRight('PROCESS', 16)}`;
    if (o.timestamp !== 'none') s += ' ' + padRight('TIMESTAMP', 16);
    if (o.outputMeta) {
      s += ` ${padRight('NETNS', 10)} ${padRight('MARK/x', 8)} ${padLeft(center('IFACE', 16), 16)} ${padRight('PROTO', 6)} ${padRight('MTU', 5)} ${padRight('LEN', 5)}`;
      if (o.outputSkbCb) s += ' ' + padRight('__sk_buff->cb[]', 56);
    }
    if (o.outputNetnsNames) s += center('NETNS NAME', o.netnsNamesMaxLength);
    if (o.outputTuple) s += ' TUPLE';
    s += ' FUNC';
    if (o.outputCaller) s += ' CALLER';
    if (o.outputTunnel) s += ' TUNNEL';
    return s + '\n';
  }

  /** The PROCESS column, padded to 16. */
  private process(pid: number, comm: string | undefined): string {
    return this.procNames.get(pid, comm);
  }

  private cpu(cpu: number): string {
    let col = this.cpuCol[cpu];
    if (col === undefined) {
      col = padRight(String(cpu), 3);
      if (cpu < 4096) this.cpuCol[cpu] = col;
    }
    return col;
  }

  /**
   * ` NETNS MARK IFACE PROTO ` as one string: cached per (netns, ifindex, proto) for unmarked
   * packets on named interfaces, the common case, so a line needs one concatenation here.
   */
  private metaHead(netns: number, mark: number, ifindex: number, proto: number): string {
    const key = ifindex * 65536 + proto;
    if (mark === 0) {
      const hit = this.metaCache.get(netns)?.get(key);
      if (hit !== undefined) return hit;
    }
    const head =
      ' ' +
      this.netns(netns) +
      ' ' +
      (mark === 0 ? '0       ' : padRight(mark.toString(16), 8)) +
      ' ' +
      this.ifaceColumn(netns, ifindex) +
      ' ' +
      (proto === 0x0800 ? '0x0800' : hexProto(proto)) +
      ' ';
    if (mark === 0 && this.ifaceCol.get(netns)?.has(ifindex)) {
      let byKey = this.metaCache.get(netns);
      if (!byKey) this.metaCache.set(netns, (byKey = new Map()));
      byKey.set(key, head);
    }
    return head;
  }

  private col5(v: number): string {
    let col = this.num5[v];
    if (col === undefined) {
      col = padRight(String(v), 5);
      if (v < 65536) this.num5[v] = col;
    }
    return col;
  }

  private netns(netns: number): string {
    let col = this.netnsCol.get(netns);
    if (col === undefined) {
      col = padRight(String(netns), 10);
      this.netnsCol.set(netns, col);
    }
    return col;
  }

  /** The IFACE column (centered in 16); cached only once the name is known. */
  private ifaceColumn(netns: number, ifindex: number): string {
    let byIndex = this.ifaceCol.get(netns);
    const hit = byIndex?.get(ifindex);
    if (hit !== undefined) return hit;
    const name = this.ctx.ifaceName(netns, ifindex);
    const col = padLeft(center(name === undefined ? String(ifindex) : tailTruncate(`${name}:${ifindex}`, 16), 16), 16);
    if (name !== undefined) {
      if (!byIndex) this.ifaceCol.set(netns, (byIndex = new Map()));
      byIndex.set(ifindex, col);
    }
    return col;
  }

  private func(ev: PwruEvent): string {
    if (ev.kind === EventKind.Return) return returnColumn(this.funcNames.base(ev, this.ctx), ev, this.ctx.returns);
    return withDropReason(this.funcNames.base(ev, this.ctx), ev, this.ctx);
  }

  /** Forgets cached process names (pids are reused). */
  forgetProcesses(): void {
    this.procNames.clear();
  }

  /** One event as text, with its trailing newline. */
  format(ev: PwruEvent): string {
    const o = this.opts;
    const ctx = this.ctx;
    let s = '';
    if (o.timestamp === 'absolute') s += padRight(absoluteTime(ctx.wallClockMs(ev.ts)), 23) + ' ';
    s += padRight(hex64(ev.skb.hi, ev.skb.lo), 18) + ' ' + this.cpu(ev.cpu) + ' ' + this.process(ev.pid, ev.comm);
    if (o.timestamp !== 'none') {
      let ts = ev.ts;
      if (o.timestamp === 'relative') {
        const key = `${ev.skb.hi}:${ev.skb.lo}`;
        const last = this.lastSeen.get(key);
        ts = last === undefined ? 0 : ev.ts - last;
        this.lastSeen.set(key, ev.ts);
      }
      s += ' ' + padRight(String(ts), 16);
    }
    const m = ev.meta;
    if (o.outputMeta && m) {
      s += this.metaHead(m.netns, m.mark, m.ifindex, m.proto) + this.col5(m.mtu) + ' ' + this.col5(m.len);
      if (o.outputSkbCb && ev.cb) s += ' [' + ev.cb.map(hex08Upper).join(',') + ']';
    }
    if (o.outputNetnsNames) {
      const name = m ? ctx.netnsName(m.netns) : undefined;
      const w = o.netnsNamesMaxLength;
      s += name === undefined ? ' '.repeat(w) : center(name.slice(0, w), w);
    }
    if (o.outputTuple && ev.tuple) {
      const t = formatTuple(ev.tuple, o.outputTcpFlags);
      if (t.length > this.maxTuple) this.maxTuple = t.length;
      s += ' ' + padRight(t, this.maxTuple);
    }
    const fn = isTrackedOnly(ev) ? this.func(ev) + TRACKED_ONLY_MARK : this.func(ev);
    if (o.outputCaller) {
      if (fn.length > this.maxFunc) this.maxFunc = fn.length;
      s += ' ' + padRight(fn, this.maxFunc) + ' ' + (ev.caller ? (ctx.symbols.nearest(ev.caller) ?? '') : '');
    } else {
      s += ' ' + fn;
    }
    if (ev.ct) s += ' ' + ctText(ev.ct, ctx.ct);
    if (ev.netfilter) s += ' ' + netfilterText(ev.netfilter);
    const md = ev.kind === EventKind.Xdp ? ctx.xdpMetadata : ctx.metadata;
    if (md && ev.metadata)
      for (let i = 0; i < md.length; i++) s += ' ' + md[i]!.field + '=' + md[i]!.format(ev.metadata[i]!);
    // Upstream skips stack id 0, a valid id: we print every non-negative id.
    if (o.outputStack && ev.stackId !== undefined && ev.stackId >= 0) {
      for (const ip of ctx.stack(ev.stackId)) s += '\n' + (ctx.symbols.nearest(ip) ?? hex64(ip.hi, ip.lo));
    }
    // Upstream's order: dumps on their own lines after the stack, the tunnel tuple after them.
    if (ev.skbDump !== undefined) s += '\n' + ev.skbDump;
    if (ev.shinfoDump !== undefined) s += '\n' + ev.shinfoDump;
    if (o.outputTunnel && ev.tunnel) s += ' ' + formatTuple(ev.tunnel, o.outputTcpFlags);
    if (ev.bpfmap) s += bpfmapText(ev.bpfmap);
    return s + '\n';
  }
}
