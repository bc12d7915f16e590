import { describe, expect, it } from 'vitest';
import { effectiveCapabilities, missingBpfPrivileges } from './privileges.js';

const status = (capEff: string) =>
  `Name:\tnode\nUid:\t65534\t65534\t65534\t65534\nCapInh:\t0000000000000000\nCapPrm:\t${capEff}\nCapEff:\t${capEff}\n`;
const bits = (...n: number[]) =>
  n
    .reduce((v, b) => v | (1n << BigInt(b)), 0n)
    .toString(16)
    .padStart(16, '0');

describe('missingBpfPrivileges: may this process load tracing programs?', () => {
  it('yes for root (every capability)', () => {
    expect(missingBpfPrivileges(status('000001ffffffffff'))).toBeUndefined();
  });

  it('yes with CAP_BPF and CAP_PERFMON, or with CAP_SYS_ADMIN alone (kernels before 5.8)', () => {
    expect(missingBpfPrivileges(status(bits(38, 39)))).toBeUndefined();
    expect(missingBpfPrivileges(status(bits(21)))).toBeUndefined();
  });

  it('no for an ordinary user: one line naming what is missing and what to do', () => {
    expect(missingBpfPrivileges(status('0000000000000000'))).toBe(
      'pwru needs root privileges to load its BPF programs (CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN), and this process lacks CAP_BPF and CAP_PERFMON: run it as root (sudo)',
    );
    expect(missingBpfPrivileges(status(bits(39)))).toMatch(/lacks CAP_PERFMON: run it as root/);
  });

  it('cannot tell without a CapEff line, and then does not stand in the way', () => {
    expect(effectiveCapabilities('Name:\tx\n')).toBeUndefined();
    expect(missingBpfPrivileges('Name:\tx\n')).toBeUndefined();
  });
});
