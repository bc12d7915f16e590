import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BpftoolBtf, haveBpftoolBtf } from '../../test/bpftool-btf.js';
import { NotFoundError } from '../errors.js';
import { loadKernelBtf } from 'btf-parser';
import { flushKernelBtf, functionBtfId, kernelBtf, shareKernelBtf, tracepointBtfId } from './targets.js';

const ok = existsSync('/sys/kernel/btf/vmlinux') && haveBpftoolBtf();
if (!ok) console.warn('skipping attach-target tests: no kernel BTF or bpftool');

describe.skipIf(!ok)('attach targets from the kernel BTF', () => {
  it('tp_btf and fentry ids agree with bpftool', () => {
    const oracle = new BpftoolBtf();
    expect(tracepointBtfId('kfree_skb')).toBe(oracle.idOf('TYPEDEF', 'btf_trace_kfree_skb'));
    expect(functionBtfId('tcp_v4_rcv')).toBe(oracle.idOf('FUNC', 'tcp_v4_rcv'));
  });

  it('missing targets are NotFoundErrors that say what is not traceable', () => {
    expect(() => tracepointBtfId('no_such_tp')).toThrow(NotFoundError);
    expect(() => tracepointBtfId('no_such_tp')).toThrow(/there is no tracepoint "no_such_tp"/);
    expect(() => functionBtfId('no_such_fn')).toThrow(/not traceable with fentry\/fexit on this kernel/);
  });
});

describe.skipIf(!existsSync('/sys/kernel/btf/vmlinux'))('a shared kernel BTF', () => {
  it('is the one kernelBtf returns until flushed, so nothing parses the file again', () => {
    const parsed = loadKernelBtf();
    shareKernelBtf(parsed);
    expect(kernelBtf()).toBe(parsed);
    expect(tracepointBtfId('kfree_skb')).toBe(parsed.idsByName('btf_trace_kfree_skb', 'typedef')[0]);
    flushKernelBtf();
    expect(kernelBtf()).not.toBe(parsed);
  });
});
