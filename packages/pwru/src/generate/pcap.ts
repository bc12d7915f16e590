import { Add, callFunction, type Instruction, Ja, JEq, R0, R1, R2, R9, Sub } from 'bpf-asm-ts';
import { compile, FilterError, lowerCbpf } from 'pcap2ebpf';
import type { Emitter } from './emitter.js';
import type { KernelLayout } from './layout.js';
import type { Frame } from './program.js';
import { PwruError } from '../errors.js';

/** A pcap filter that cannot be compiled (syntax, unknown name, `protochain` too long...). */
export class PcapFilterError extends PwruError {
  override name = 'PcapFilterError';
}

/** The most stack a BPF call chain may use. */
const MAX_STACK = 512;

/** The subprograms and call fragment of the pcap filters of one run. */
export interface PcapFilters {
  /** Appended after the main program (bpf-to-bpf functions). */
  readonly subprograms: Instruction[];
  /** The fragment the main program runs among its filters. */
  readonly fragment: (e: Emitter, reject: string) => void;
}

function lower(
  expr: string,
  linktype: 'EN10MB' | 'RAW',
  name: string,
  window: number,
  what: string,
): Instruction[] | undefined {
  let cbpf;
  try {
    cbpf = compile(expr, { linktype, optimize: true });
  } catch (e) {
    if (e instanceof FilterError) {
      if (linktype === 'RAW') return undefined;
      throw new PcapFilterError(`${what}'${expr}': ${e.message}`);
    }
    throw e;
  }
  const where = `pcap filter '${expr}' (${linktype === 'RAW' ? 'L3' : 'L2'})`;
  // Provenance for verifier errors: every instruction names the filter it belongs to.
  return lowerCbpf(cbpf, {
    memory: 'kernel',
    form: 'function',
    labelPrefix: name,
    indirectWindow: window,
  }).instructions.map((i) => i.withComment(i.comment ? `${where}: ${i.comment}` : where));
}

/** The packet window a filter function may copy, when its caller's frame uses `callerStack` bytes. */
function windowFor(callerStack: number): number {
  // The caller's frame and the filter's frame share the 512-byte budget (each rounded to 32).
  return Math.max(64, (MAX_STACK - ((callerStack + 31) & ~31) - 96) & ~7);
}

/**
 * The positional filter for Ethernet frames alone, as a bpf-to-bpf function `name(data, len)`
 * returning non-zero on a match (XDP programs run it on `[xdp->data, xdp->data_end)`), for a
 * caller whose frame uses `callerStack` bytes.
 */
export function pcapL2Function(expr: string, name: string, callerStack: number): Instruction[] {
  return lower(expr, 'EN10MB', name, windowFor(callerStack), 'failed to compile pcap filter ')!;
}

/**
 * Compiles the positional filter twice, as upstream does: for Ethernet frames (run when
 * `skb->mac_len != 0`, on `head + mac_header`) and for raw IP (when `mac_len == 0`, on
 * `head + network_header`). An L2-only expression (`arp`, `ether host ...`) rejects every packet
 * on the L3 path. With tunnel expressions, packets that have `inner_network_header` set must
 * also match them on the inner headers. Each filter is a bpf-to-bpf function that copies the
 * bytes it needs with one `bpf_probe_read_kernel`.
 */
export function pcapFilters(
  o: { expr: string; tunnelL2: string; tunnelL3: string },
  k: KernelLayout,
  frame: Frame,
): PcapFilters | undefined {
  if (o.expr === '' && o.tunnelL2 === '' && o.tunnelL3 === '') return undefined;
  const window = windowFor(frame.size);
  const subprograms: Instruction[] = [];
  const fn = (
    expr: string,
    linktype: 'EN10MB' | 'RAW',
    name: string,
    what = 'failed to compile pcap filter ',
  ): string | undefined | null => {
    if (expr === '') return null;
    const insns = lower(expr, linktype, name, window, what);
    if (!insns) return undefined;
    subprograms.push(...insns);
    return name;
  };
  const l2 = fn(o.expr, 'EN10MB', 'pwru_pcap_l2');
  const l3 = fn(o.expr, 'RAW', 'pwru_pcap_l3');
  const t2 = fn(o.tunnelL2, 'EN10MB', 'pwru_pcap_tunnel_l2', 'l2 tunnel filter: failed to compile ');
  if (o.tunnelL2 !== '' && t2 === undefined)
    throw new PcapFilterError(`l2 tunnel filter: failed to compile '${o.tunnelL2}'`);
  const t3 = fn(o.tunnelL3, 'RAW', 'pwru_pcap_tunnel_l3', 'l3 tunnel filter: failed to compile ');
  if (o.tunnelL3 !== '' && t3 === undefined)
    throw new PcapFilterError(`l3 tunnel filter: failed to compile '${o.tunnelL3}'`);

  const skb = (off: number): number => frame.skbBase + off;
  /** r1 = head + header offset, r2 = tail - header offset; call; reject on 0. */
  const callOn = (e: Emitter, name: string, header: { offset: number; size: number }, reject: string): void => {
    e.loadStack(R9, skb(header.offset), header.size);
    e.loadStack(R2, skb(k.skb.tail.offset), k.skb.tail.size);
    e.emit(Sub.reg(R2, R9));
    e.loadStack(R1, skb(k.skb.head.offset), 8);
    e.emit(Add.reg(R1, R9), callFunction(name), JEq.imm(R0, 0, reject));
  };

  const fragment = (e: Emitter, reject: string): void => {
    if (t2 || t3) {
      e.section('filter: --filter-tunnel-pcap-l2/-l3 on the inner headers');
      const skip = e.fresh('tunnel_skip');
      e.loadStack(R1, skb(k.skb.innerNetworkHeader.offset), k.skb.innerNetworkHeader.size);
      e.ifZero(R1, skip);
      if (t2) callOn(e, t2, k.skb.innerMacHeader, reject);
      if (t3) callOn(e, t3, k.skb.innerNetworkHeader, reject);
      e.label(skip);
    }
    if (l2 === null) return;
    e.section(`filter: pcap '${o.expr}' (L2 when skb->mac_len != 0, else L3)`);
    const onL3 = e.fresh('pcap_l3');
    const done = e.fresh('pcap_done');
    e.loadStack(R1, skb(k.skb.macLen.offset), k.skb.macLen.size);
    e.emit(JEq.imm(R1, 0, onL3));
    callOn(e, l2!, k.skb.macHeader, reject);
    e.emit(Ja(done));
    e.label(onL3);
    if (l3) callOn(e, l3, k.skb.networkHeader, reject);
    else e.emit(Ja(reject)); // L2-only expression: nothing matches at L3
    e.label(done);
  };
  return { subprograms, fragment };
}
