import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { probeLinkType } from 'bpf-loader-ts';

/**
 * bpf-demo.mjs attaches a counting BPF program through koffi in every mode the VM's kernel
 * supports; inside the VM each mode must count every loopback datagram it sent.
 */

const inVm = process.env.BPF_TS_VM !== undefined;
if (!inVm) console.warn('skipping the BPF attach demo: BPF_TS_VM is unset (run it with tools/vm/test.sh)');

const demo = fileURLToPath(new URL('./bpf-demo.mjs', import.meta.url));
/** The demo makes raw bpf(2) calls: where the kernel charges BPF memory to RLIMIT_MEMLOCK (< 5.11) it needs it lifted. */
const run = (args: string[]) =>
  execFileSync('prlimit', ['--memlock=unlimited', process.execPath, demo, ...args], { encoding: 'utf8' });
/** Whether BPF_LINK_CREATE takes a perf event (5.15+); the demo's link modes fail without it. */
const perfLinks = inVm ? probeLinkType('perf_event') : undefined;

interface DemoResult {
  mode: string;
  ok: boolean;
  count?: number;
  error?: string;
}

describe.skipIf(!inVm)('bpf-demo.mjs in the test VM', () => {
  it('counts every call to __netif_receive_skb with kprobe, kretprobe, fentry and fexit programs', () => {
    let out = '';
    try {
      out = run(['--json', '--packets', '7']);
    } catch (err) {
      // Exit 1: a mode failed; the report says which, and the checks below whether that is right.
      out = (err as { stdout: string }).stdout;
    }
    const report = JSON.parse(out) as { function: string; packets: number; results: DemoResult[] };
    expect(report.function).toBe('__netif_receive_skb');
    expect(report.results.map((r) => r.mode)).toEqual([
      'kprobe via BPF_LINK_CREATE',
      'kprobe via PERF_EVENT_IOC_SET_BPF',
      'kretprobe via BPF_LINK_CREATE',
      'fentry via BPF_RAW_TRACEPOINT_OPEN',
      'fexit via BPF_RAW_TRACEPOINT_OPEN',
    ]);
    for (const result of report.results) {
      if (result.mode.includes('BPF_LINK_CREATE') && !perfLinks!.supported) {
        // Linux < 5.15: only PERF_EVENT_IOC_SET_BPF attaches a kprobe (the loader falls back to it).
        expect(result.error, `${perfLinks!.feature}: ${perfLinks!.detail}`).toMatch(/BPF_LINK_CREATE.*EINVAL/);
        continue;
      }
      expect(result.error).toBeUndefined();
      // Loopback delivers each datagram through __netif_receive_skb once; nothing else runs here.
      expect(result.count).toBeGreaterThanOrEqual(7);
    }
  });

  it('exits 1 with a per-mode error when the function does not exist', () => {
    let status = 0;
    let out = '';
    try {
      run(['--json', '--function', 'bpfts_no_such_function']);
    } catch (err) {
      const failure = err as { status: number; stdout: string };
      status = failure.status;
      out = failure.stdout;
    }
    expect(status).toBe(1);
    const { results } = JSON.parse(out) as { results: DemoResult[] };
    expect(results[0]!.error).toBe('perf_event_open(kprobe bpfts_no_such_function): ENOENT (2)');
    expect(results[3]!.error).toBe('no function bpfts_no_such_function in the vmlinux BTF');
  });
});
