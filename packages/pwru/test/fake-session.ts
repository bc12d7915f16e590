/**
 * Test fixture: a fake kernel session with tp_btf only (like this machine) whose ring buffer
 * holds a fixed set of records, for tests of the run pipeline and the trace() API.
 */
import { encodeEvent, eventLayout, EventKind } from '../src/event.js';
import type { KernelSession, LoadedProgram, RingReader } from '../src/kernel/session.js';
import { currentNetnsInode } from '../src/netns.js';
import type { PlannedProgram } from '../src/plan/programs.js';

/**
 * A ring reader that replays `records()` (called once, at the first read) in both modes: pushed
 * to subscribe() on the next tick, or pulled with consume()/wait(). wait() resolves once records
 * are there or the reader closes.
 */
export function replayReader(records: () => Uint8Array[], onClose: () => void = () => {}): RingReader {
  let pending: Uint8Array[] | undefined;
  const fill = (): Uint8Array[] => (pending ??= records());
  const waiters: Array<() => void> = [];
  const deliver = (rs: Uint8Array[], each: (v: DataView, o: number, n: number) => void): number => {
    for (const r of rs) each(new DataView(r.buffer, r.byteOffset, r.byteLength), 0, r.length);
    return rs.length;
  };
  return {
    subscribe(each, onBatch) {
      setImmediate(() => {
        deliver(fill().splice(0), each);
        onBatch();
      });
    },
    consume: (each, max) => deliver(fill().splice(0, max), each),
    wait: () => new Promise<void>((resolve) => (fill().length > 0 ? resolve() : waiters.push(resolve))),
    close: () => {
      onClose();
      for (const w of waiters.splice(0)) w();
    },
  };
}

/** A kernel with tp_btf only (like this machine), whose ring buffer holds `events` once. */
export function fakeSession(onPlan: (p: PlannedProgram[]) => Uint8Array[]) {
  const planned: PlannedProgram[] = [];
  const calls: string[] = [];
  const s: KernelSession = {
    features: () => ({
      kprobes: false,
      kprobeMulti: false,
      availableFilterFunctions: false,
      tpBtf: true,
      fentry: false,
    }),
    haveFuncIp: () => true,
    createMaps: () => void calls.push('maps'),
    load: (p) => (planned.push(p), { planned: p }),
    attach: async (p: LoadedProgram, progress) => {
      progress(1);
      return {
        attachments: [{ count: 1, detach: async (done) => void (calls.push(`detach ${p.planned.name}`), done(1)) }],
        ignored: 0,
      };
    },
    reader: () =>
      replayReader(
        () => onPlan(planned),
        () => calls.push('reader closed'),
      ),
    lost: () => (calls.includes('maps') ? 3 : 0),
    stack: () => [],
    close: () => void calls.push('close'),
  };
  return { session: s, calls, planned };
}

/** `n` events at the kfree_skb tracepoint (cpu = index), with meta and an ICMP tuple. */
export function kfreeEvents(n: number): (progs: PlannedProgram[]) => Uint8Array[] {
  return (progs) => {
    const kfree = progs.findIndex((p) => p.attach.type === 'tracepoint' && p.attach.name === 'kfree_skb');
    const ev = (i: number) => ({
      skb: { hi: 0xffff8bb7, lo: 0x038b6900 },
      addr: { hi: 0, lo: 0 },
      ts: 1,
      p2: 0,
      p3: 0,
      pid: 0,
      cpu: i,
      site: kfree,
      kind: EventKind.Tracepoint,
      meta: { netns: currentNetnsInode(), mark: 0, ifindex: 1, len: 84, mtu: 65536, proto: 0x0800 },
      tuple: { saddr: '10.1.1.1', daddr: '10.1.1.2', sport: 0, dport: 0, l3: 0x0800, l4: 1, flags: 0 },
    });
    const layout = eventLayout({ meta: true, cb: false, tuple: true, tunnel: false, stack: false, caller: false });
    return Array.from({ length: n }, (_, i) => encodeEvent(ev(i), layout));
  };
}
