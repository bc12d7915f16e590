import { describe, expect, it } from 'vitest';
import { chooseBackend, type KernelFeatures } from './backend.js';

const ALL: KernelFeatures = {
  kprobes: true,
  kprobeMulti: true,
  availableFilterFunctions: true,
  tpBtf: true,
  fentry: true,
};
const HOST: KernelFeatures = {
  kprobes: false,
  kprobeMulti: false,
  availableFilterFunctions: false,
  tpBtf: true,
  fentry: false,
};

describe('chooseBackend', () => {
  it('auto-detects like upstream: kprobe-multi with tracefs, else kprobe', () => {
    expect(chooseBackend('', ALL)).toBe('kprobe-multi');
    expect(chooseBackend('', { ...ALL, availableFilterFunctions: false })).toBe('kprobe');
    expect(chooseBackend('', { ...ALL, kprobeMulti: false })).toBe('kprobe');
  });
  it('falls back to tracepoints on a kernel without kprobes (this machine)', () => {
    expect(chooseBackend('', HOST)).toBe('tracepoint');
  });
  it('honours an explicit backend and names the missing feature otherwise', () => {
    expect(chooseBackend('fentry', ALL)).toBe('fentry');
    expect(() => chooseBackend('kprobe', HOST)).toThrow(
      'kprobe is not available on this kernel: the kernel was built without CONFIG_KPROBES; use --backend=tracepoint',
    );
    expect(() => chooseBackend('fentry', HOST)).toThrow(/fentry trampoline is not available/);
    expect(() => chooseBackend('kprobe-multi', HOST)).toThrow(
      /kprobe-multi link is not available on this kernel: needs Linux 5.18\+ with CONFIG_FPROBE/,
    );
  });
  it('quotes what the kernel said when it refuses fentry, rather than guessing at its version', () => {
    expect(() =>
      chooseBackend('fentry', HOST, { fentry: 'BPF_PROG_LOAD tracing "pwru_probe": EPERM (operation not permitted)' }),
    ).toThrow(
      'fentry trampoline is not available on this kernel: the kernel refuses it (BPF_PROG_LOAD tracing "pwru_probe": EPERM (operation not permitted)); use --backend=kprobe or --backend=tracepoint',
    );
  });
  it('rejects an unknown backend with upstream message', () => {
    expect(() => chooseBackend('uprobe', ALL)).toThrow('Invalid tracing backend: uprobe');
  });
});
