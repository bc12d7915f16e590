// Events decoded + formatted per second, written to /dev/null in ring-buffer-sized batches.
import { openSync, closeSync } from 'node:fs';
import {
  decodeEvent,
  encodeEvent,
  eventLayout,
  TextPrinter,
  JsonPrinter,
  EventKind,
  BatchWriter,
  PcapngEventWriter,
  LINKTYPE,
} from '../dist/internal.js';

const SECTIONS = { meta: true, cb: false, tuple: true, tunnel: false, stack: false, caller: false };
const OUTPUT = {
  outputMeta: true,
  outputTuple: true,
  outputTcpFlags: false,
  outputTunnel: false,
  outputStack: false,
  outputCaller: false,
  outputSkbCb: false,
  outputNetnsNames: false,
  netnsNamesMaxLength: 16,
  timestamp: 'none',
};

function context() {
  const names = [
    'ip_rcv',
    'ip_rcv_core',
    'ip_local_deliver',
    'tcp_v4_rcv',
    'kfree_skb_reason',
    'nf_hook_slow',
    '__netif_receive_skb_core',
    'dev_queue_xmit',
  ];
  const byLo = new Map(names.map((n, i) => [0x81000000 + i * 0x100, n]));
  return {
    sites: [{}],
    symbols: { exact: (a) => byLo.get(a.lo), nearest: (a) => byLo.get(a.lo) },
    dropReasons: new Map([[12, 'SKB_DROP_REASON_NETFILTER_DROP']]),
    processName: (pid) => `/usr/bin/curl:${pid}`,
    ifaceName: (_ns, idx) => (idx === 2 ? 'eth0' : undefined),
    netnsName: () => undefined,
    stack: () => [],
    wallClockMs: (ns) => ns / 1e6,
  };
}

/** A buffer of `n` encoded events (varied function, ports and skb), as the ring buffer holds them. */
export function makeEvents(n) {
  const layout = eventLayout(SECTIONS);
  const buf = new Uint8Array(layout.size * n);
  for (let i = 0; i < n; i++) {
    buf.set(
      encodeEvent(
        {
          skb: { hi: 0xffff8bb7, lo: (0x038b6900 + (i % 64) * 0x100) >>> 0 },
          addr: { hi: 0xffffffff, lo: 0x81000000 + (i % 8) * 0x100 },
          ts: 1e9 + i,
          p2: 12,
          p3: 0,
          pid: 3378123 + (i % 4),
          cpu: i % 2,
          site: 0,
          kind: EventKind.KprobeMulti,
          meta: { netns: 4026531840, mark: 0, ifindex: 2, len: 60, mtu: 1500, proto: 0x0800 },
          tuple: {
            saddr: '10.0.0.232',
            daddr: '10.0.1.1',
            sport: 40000 + (i % 1000),
            dport: 8080,
            l3: 0x0800,
            l4: 6,
            flags: 2,
          },
        },
        layout,
      ),
      i * layout.size,
    );
  }
  return { buf, layout };
}

/** Decodes and formats every event, writing 64 KiB batches to /dev/null; returns events/s. */
export function formatRate(kind, n = 300_000) {
  if (kind === 'pcapng') return pcapngRate(n);
  const { buf, layout } = makeEvents(n);
  const view = new DataView(buf.buffer);
  const printer = kind === 'json' ? new JsonPrinter(OUTPUT, context()) : new TextPrinter(OUTPUT, context());
  const fd = openSync('/dev/null', 'w');
  const out = new BatchWriter(fd);
  const t0 = process.hrtime.bigint();
  out.write(printer.header());
  for (let off = 0; off < buf.length; off += layout.size) out.write(printer.format(decodeEvent(view, off, layout)));
  out.flush();
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  closeSync(fd);
  return n / secs;
}

/** A 74-byte Ethernet + IPv4 + TCP SYN, as the kernel copies it at most functions. */
const SYN = Uint8Array.from(
  Buffer.from(
    'ffffffffffff02fc000000010800' +
      '4500003c000100004006' +
      '0000' +
      '0a0000e8' +
      '0a000101' +
      '9c401f90' +
      '00000000' +
      '00000000' +
      'a0022000' +
      '00000000' +
      '020405b40402080a0000000000000000' +
      '01030307',
    'hex',
  ),
);

/** Decodes every event and writes it with its packet bytes as pcapng (comment + JSON option) to /dev/null; events/s. */
function pcapngRate(n) {
  const { buf, layout } = makeEvents(n);
  const view = new DataView(buf.buffer);
  const fd = openSync('/dev/null', 'w');
  const out = new PcapngEventWriter(fd, context(), { snaplen: 256, output: OUTPUT });
  const packet = { linkType: LINKTYPE.ethernet, data: SYN, origLen: SYN.length };
  const t0 = process.hrtime.bigint();
  for (let off = 0; off < buf.length; off += layout.size) out.write(decodeEvent(view, off, layout), packet);
  out.flush();
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  closeSync(fd);
  return n / secs;
}
