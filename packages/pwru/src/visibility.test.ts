import { describe, expect, it } from 'vitest';
import type { KernelFeatures } from './backend.js';
import { invisiblePath } from './visibility.js';

const HOST: KernelFeatures = {
  kprobes: false,
  kprobeMulti: false,
  availableFilterFunctions: false,
  tpBtf: true,
  fentry: false,
};
const VM61: KernelFeatures = {
  kprobes: true,
  kprobeMulti: false,
  availableFilterFunctions: true,
  tpBtf: true,
  fentry: true,
};
const opts = (filterPcap: string, filterTrackSkb = false) => ({ filterPcap, filterSkbExpr: '', filterTrackSkb });

describe('invisiblePath: what the chosen backend cannot see of a filtered path', () => {
  it('names, for the tracepoint backend, the locally generated part and OUTPUT-chain NAT', () => {
    expect(invisiblePath(opts('dst host 10.0.0.1'), 'tracepoint', HOST)).toMatch(
      /^The tracepoint backend cannot see locally generated packets before net_dev_queue \(routing, the OUTPUT and POSTROUTING netfilter hooks, OUTPUT-chain NAT\)/,
    );
  });

  it('names the backend that would see it, on this kernel', () => {
    expect(invisiblePath(opts('tcp'), 'tracepoint', VM61)).toMatch(/; --backend=kprobe sees those functions$/);
    expect(invisiblePath(opts('tcp'), 'tracepoint', { ...VM61, kprobeMulti: true })).toMatch(
      /; --backend=kprobe-multi sees those functions$/,
    );
    expect(invisiblePath(opts('tcp'), 'tracepoint', { ...HOST, fentry: true })).toMatch(
      /; --backend=fentry sees those functions$/,
    );
    expect(invisiblePath(opts('tcp'), 'tracepoint', HOST)).toMatch(
      /the kprobe and fentry backends see those functions, and this kernel has neither$/,
    );
  });

  it('says nothing when nothing is filtered (every skb shows) or the backend sees kernel functions', () => {
    expect(invisiblePath(opts(''), 'tracepoint', HOST)).toBeUndefined();
    expect(invisiblePath(opts('', true), 'tracepoint', HOST)).toBeDefined();
    for (const b of ['kprobe', 'kprobe-multi', 'fentry'] as const)
      expect(invisiblePath(opts('tcp'), b, VM61)).toBeUndefined();
  });
});
