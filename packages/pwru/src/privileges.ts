/**
 * Whether this process may load pwru's programs at all, from its effective capabilities: tracing
 * programs need CAP_BPF and CAP_PERFMON (Linux 5.8+), or CAP_SYS_ADMIN. Checked before any
 * feature probe, because an unprivileged probe fails exactly as a kernel without the feature
 * does, and pwru would blame the kernel.
 */
import { readFileSync } from 'node:fs';

/** Capability bit numbers (`linux/capability.h`). */
export const CAP = { SYS_ADMIN: 21, PERFMON: 38, BPF: 39 } as const;

/** The effective capability set of `/proc/self/status` text (`CapEff:` in hex), or undefined if absent. */
export function effectiveCapabilities(status: string): bigint | undefined {
  const m = /^CapEff:\s*([0-9a-fA-F]+)$/m.exec(status);
  return m ? BigInt(`0x${m[1]}`) : undefined;
}

/**
 * Why the process described by `status` (the text of `/proc/self/status`) cannot load BPF tracing
 * programs, as one line that says what to do; undefined when it can (or when it cannot tell).
 */
export function missingBpfPrivileges(status: string): string | undefined {
  const caps = effectiveCapabilities(status);
  if (caps === undefined) return undefined;
  const has = (bit: number): boolean => ((caps >> BigInt(bit)) & 1n) === 1n;
  if (has(CAP.SYS_ADMIN) || (has(CAP.BPF) && has(CAP.PERFMON))) return undefined;
  const missing = [has(CAP.BPF) ? undefined : 'CAP_BPF', has(CAP.PERFMON) ? undefined : 'CAP_PERFMON'].filter(
    (x) => x !== undefined,
  );
  return `pwru needs root privileges to load its BPF programs (CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN), and this process lacks ${missing.join(' and ')}: run it as root (sudo)`;
}

/** {@link missingBpfPrivileges} of this process. */
export function ownMissingBpfPrivileges(): string | undefined {
  try {
    return missingBpfPrivileges(readFileSync('/proc/self/status', 'latin1'));
  } catch {
    return undefined;
  }
}
