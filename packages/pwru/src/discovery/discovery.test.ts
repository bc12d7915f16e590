import { release } from 'node:os';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { Btf, loadKernelBtf } from 'btf-parser';
import { describe, expect, it } from 'vitest';
import { functionMatcher } from './filter-func.js';
import { discoverSkbFunctions } from './functions.js';
import { discoverSkbTracepoints } from './tracepoints.js';

/** Debian's 6.1 kernel BTF, committed by btf-parser as test data. */
function btf61(): Btf {
  return Btf.parse(gunzipSync(readFileSync(new URL('../../../btf/test/data/vmlinux-6.1.btf.gz', import.meta.url))));
}

describe('functionMatcher (--filter-func)', () => {
  it('matches whole names only', () => {
    const m = functionMatcher('ip_rcv');
    expect(m('ip_rcv')).toBe(true);
    expect(m('ip_rcv_core')).toBe(false);
    expect(functionMatcher('.*rcv.*')('ip_rcv_core')).toBe(true);
  });
  it('keeps RE2 leftmost-first semantics: ip_rcv|ip_rcv_core does not match ip_rcv_core', () => {
    const m = functionMatcher('ip_rcv|ip_rcv_core');
    expect(m('ip_rcv')).toBe(true);
    expect(m('ip_rcv_core')).toBe(false);
    expect(functionMatcher('ip_rcv_core|ip_rcv')('ip_rcv_core')).toBe(true);
  });
  it('matches everything when empty and rejects a bad pattern with a clear error', () => {
    expect(functionMatcher('')('anything')).toBe(true);
    expect(() => functionMatcher('ip_(rcv')).toThrow(/Failed to compile --filter-func "ip_\(rcv"/);
  });
});

describe('discoverSkbFunctions', () => {
  it('finds upstream pwru set on Debian 6.1: non-const skb at 1..5, intersected with the attachable list', () => {
    const btf = btf61();
    const all = discoverSkbFunctions(btf, [], () => true, {
      names: new Set(['ip_rcv', 'kfree_skb_reason', 'tcp_v4_rcv', 'not_in_btf']),
      source: 'test',
    });
    expect(all.map((f) => [f.name, f.position]).sort()).toEqual([
      ['ip_rcv', 1],
      ['kfree_skb_reason', 1],
      ['tcp_v4_rcv', 1],
    ]);
  });
  it('applies --filter-func', () => {
    const btf = btf61();
    const names = new Set(['ip_rcv', 'ip_rcv_core', 'ip_local_deliver']);
    const found = discoverSkbFunctions(btf, [], functionMatcher('ip_rcv.*'), { names, source: 'test' });
    expect(found.map((f) => f.name).sort()).toEqual(['ip_rcv', 'ip_rcv_core']);
  });
});

describe('discoverSkbTracepoints', () => {
  it('finds kfree_skb with its skb and drop-reason arguments on 6.1', () => {
    const tps = discoverSkbTracepoints(btf61(), () => true);
    const kfree = tps.find((t) => t.name === 'kfree_skb');
    expect(kfree).toMatchObject({ skbArg: 0, reasonArg: 2 });
    expect(tps.length).toBeGreaterThan(15);
    expect(tps.find((t) => t.name === 'net_dev_queue')).toMatchObject({ skbArg: 0 });
    expect(tps.find((t) => t.name === 'net_dev_queue')?.reasonArg).toBeUndefined();
  });
  it('finds the 30 skb tracepoints of the running 6.18 kernel', () => {
    let btf;
    try {
      btf = loadKernelBtf();
    } catch (e) {
      console.log(`skipped: ${(e as Error).message}`);
      return;
    }
    const tps = discoverSkbTracepoints(btf, () => true);
    if (!release().startsWith('6.18')) return;
    expect(tps.length).toBe(30);
    expect(tps.find((t) => t.name === 'kfree_skb')?.reasonArg).toBe(2);
  });
});
