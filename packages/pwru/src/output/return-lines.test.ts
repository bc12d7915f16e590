import { describe, expect, it } from 'vitest';
import { type Addr64, EventKind, type PwruEvent } from '../event.js';
import { CURL_DROP, DEFAULT_OUTPUT, fakeContext } from './fixtures.js';
import { JsonPrinter } from './json.js';
import { ReturnFormats, type ReturnFormat } from './retval.js';
import { TraceSummary } from './summary.js';
import { TextPrinter } from './text.js';

const NF_HOOK_SLOW: Addr64 = { hi: 0xffffffff, lo: 0x81000300 };
const IP_RCV_CORE: Addr64 = { hi: 0xffffffff, lo: 0x81000400 };
const names = new Map([
  [NF_HOOK_SLOW.lo, 'nf_hook_slow'],
  [IP_RCV_CORE.lo, 'ip_rcv_core'],
  [0x81000200, 'ip_rcv'],
  [0x81000000, 'kfree_skb_reason'],
]);
const formats = new ReturnFormats(
  new Map<string, ReturnFormat>([
    ['nf_hook_slow', { kind: 'int', size: 4, signed: true }],
    ['ip_rcv', { kind: 'int', size: 4, signed: true }],
    ['ip_rcv_core', { kind: 'ptr' }],
  ]),
);
const ctx = fakeContext({
  symbols: { exact: (a) => (a.hi === 0xffffffff ? names.get(a.lo) : undefined), nearest: () => 'ip_rcv' },
  returns: formats,
});

/** The entry event of `addr` for CURL_DROP's skb, and its return with `retval`. */
function pair(addr: Addr64, retval: Addr64): [PwruEvent, PwruEvent] {
  const entry: PwruEvent = { ...CURL_DROP, addr, p2: 0, kind: EventKind.Kprobe };
  return [entry, { ...entry, ts: entry.ts + 5000, cpu: 1, kind: EventKind.Return, retval }];
}

describe('return events in the text output', () => {
  it('repeat the entry line and show `= value` in the FUNC column', () => {
    const p = new TextPrinter(DEFAULT_OUTPUT, ctx);
    const [entry, ret] = pair(NF_HOOK_SLOW, { hi: 0, lo: 0xffffffff });
    expect(p.format(entry)).toBe(
      '0xffff8bb7038b6900 3   ~in/curl:3378123 4026531840 0             eth0:2      0x0800 1500  60    10.0.0.232:49460->1.0.0.1:8080(tcp) nf_hook_slow\n',
    );
    expect(p.format(ret)).toBe(
      '0xffff8bb7038b6900 1   ~in/curl:3378123 4026531840 0             eth0:2      0x0800 1500  60    10.0.0.232:49460->1.0.0.1:8080(tcp) nf_hook_slow = -1 (EPERM)\n',
    );
  });

  it('prints pointers in hex, NULL, and zero as 0', () => {
    const p = new TextPrinter({ ...DEFAULT_OUTPUT, outputMeta: false, outputTuple: false }, ctx);
    expect(p.format(pair(IP_RCV_CORE, { hi: 0xffff8bb7, lo: 0x038b6900 })[1])).toBe(
      '0xffff8bb7038b6900 1   ~in/curl:3378123 ip_rcv_core = 0xffff8bb7038b6900\n',
    );
    expect(p.format(pair(IP_RCV_CORE, { hi: 0, lo: 0 })[1])).toBe(
      '0xffff8bb7038b6900 1   ~in/curl:3378123 ip_rcv_core = NULL\n',
    );
    expect(p.format(pair({ hi: 0xffffffff, lo: 0x81000200 }, { hi: 0, lo: 0 })[1])).toBe(
      '0xffff8bb7038b6900 1   ~in/curl:3378123 ip_rcv = 0\n',
    );
  });

  it('never adds a drop reason or a stack to a return line', () => {
    const p = new TextPrinter({ ...DEFAULT_OUTPUT, outputMeta: false, outputTuple: false, outputStack: true }, ctx);
    const ret: PwruEvent = { ...pair({ hi: 0xffffffff, lo: 0x81000000 }, { hi: 0, lo: 3 })[1], stackId: -1 };
    expect(p.format(ret)).toBe('0xffff8bb7038b6900 1   ~in/curl:3378123 kfree_skb_reason = 3\n');
  });

  it('pads the FUNC column with the value included when --output-caller is on', () => {
    const p = new TextPrinter({ ...DEFAULT_OUTPUT, outputMeta: false, outputTuple: false, outputCaller: true }, ctx);
    const [entry, ret] = pair(NF_HOOK_SLOW, { hi: 0, lo: 0 });
    expect(p.format(ret)).toBe('0xffff8bb7038b6900 1   ~in/curl:3378123 nf_hook_slow = 0 ip_rcv\n');
    expect(p.format(entry)).toBe('0xffff8bb7038b6900 3   ~in/curl:3378123 nf_hook_slow     ip_rcv\n');
  });
});

describe('return events in --output-json', () => {
  it('keep func a plain name and add return (as printed) and return_value after it', () => {
    const p = new JsonPrinter({ ...DEFAULT_OUTPUT, outputMeta: false, outputTuple: false }, ctx);
    const [entry, ret] = pair(NF_HOOK_SLOW, { hi: 0, lo: 0xffffffff });
    expect(p.format(entry)).toBe(
      '{"skb":"0xffff8bb7038b6900","cpu":3,"process":"/usr/bin/curl:3378123","func":"nf_hook_slow"}\n',
    );
    expect(p.format(ret)).toBe(
      '{"skb":"0xffff8bb7038b6900","cpu":1,"process":"/usr/bin/curl:3378123","func":"nf_hook_slow","return":"-1 (EPERM)","return_value":-1}\n',
    );
    const ptr = p.toJson(pair(IP_RCV_CORE, { hi: 0xffff8bb7, lo: 0x038b6900 })[1]);
    expect(ptr).toMatchObject({
      func: 'ip_rcv_core',
      return: '0xffff8bb7038b6900',
      return_value: '0xffff8bb7038b6900',
    });
  });

  it('writes what JSON.stringify of toJson gives, with every option', () => {
    const all = {
      ...DEFAULT_OUTPUT,
      outputTcpFlags: true,
      outputSkbCb: true,
      outputCaller: true,
      outputStack: true,
      outputTunnel: true,
      timestamp: 'current',
    };
    for (const [addr, v] of [
      [NF_HOOK_SLOW, { hi: 0, lo: 0xffffffea }],
      [IP_RCV_CORE, { hi: 0, lo: 0 }],
    ] as const) {
      const ret = { ...pair(addr, v)[1], tunnel: CURL_DROP.tuple, stackId: -1 };
      expect(new JsonPrinter(all, ctx).format(ret)).toBe(JSON.stringify(new JsonPrinter(all, ctx).toJson(ret)) + '\n');
    }
  });
});

describe('return events in --output-summary', () => {
  it('are not counted as more hits of their function', () => {
    const summary = new TraceSummary(ctx, { byTuple: true });
    for (const ev of pair(NF_HOOK_SLOW, { hi: 0, lo: 0xffffffff })) summary.add(ev);
    const r = summary.result();
    expect(r.events).toBe(1);
    expect(r.functions).toEqual([{ func: 'nf_hook_slow', hits: 1 }]);
    expect(r.tuples?.[0]?.events).toBe(1);
  });
});
