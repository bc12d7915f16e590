import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { runAsNobody, unprivilegedSkipReason } from './privileges.js';

// pwru run by an ordinary user, on this machine's kernel: whatever backend is asked for, the
// error must say that privileges are missing, never that the kernel lacks a feature (an
// unprivileged feature probe fails exactly as a missing feature does).
const skip = unprivilegedSkipReason();
if (skip) console.log(`skipped: unprivileged pwru tests ${skip}`);

describe.skipIf(skip !== undefined)('pwru without privileges', () => {
  it.each([
    [[]],
    [['--backend=fentry']],
    [['--backend=kprobe']],
    [['--backend=tracepoint']],
    [['--backend=kprobe-multi']],
  ])('%j: one ERROR line saying to run as root, exit 1', (args) => {
    const r = runAsNobody([...args, 'udp']);
    expect(r.status).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(
      /ERROR Failed to run pwru error="pwru needs root privileges to load its BPF programs \(CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN\), and this process lacks CAP_BPF and CAP_PERFMON: run it as root \(sudo\)"$/,
    );
    expect(r.stderr).not.toMatch(/not available on this kernel|needs Linux/);
    expect(r.stdout).toBe('');
  });
});

describe.skipIf(process.getuid?.() !== 0)('pwru --backend fentry as root on a kernel that refuses fentry', () => {
  it('quotes what the kernel said instead of claiming it is older than 5.5', () => {
    const bin = new URL('../../bin/pwru.js', import.meta.url).pathname;
    const r = spawnSync(
      process.execPath,
      [bin, '--backend=fentry', '--filter-func', 'ip_rcv', '--output-limit-lines', '1', 'udp'],
      { encoding: 'utf8', timeout: 30_000 },
    );
    if (r.status !== 1) return; // this kernel allows fentry: nothing to diagnose
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    // The reason is the loader's feature probe's (probeLinkType('tracing')): the kernel's errno,
    // and no advice to run as root (it is root already).
    expect(r.stderr).toMatch(
      /ERROR Failed to run pwru error="fentry trampoline is not available on this kernel: the kernel refuses it \(BPF_PROG_LOAD tracing [^:]*: refused with E\w+ even as root \([^)]*\)\); use --backend=kprobe or --backend=tracepoint"/,
    );
    expect(r.stderr).not.toMatch(/needs Linux 5\.5|run as root|CAP_BPF/);
  });
});
