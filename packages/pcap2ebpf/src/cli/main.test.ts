import { describe, expect, it } from 'vitest';
import { main } from './main.js';
import { parseArgs } from './args.js';

function run(...argv: string[]): { code: number; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  const code = main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

describe('pcap2ebpf command line', () => {
  it('prints the program like tcpdump -d, -dd and -ddd', () => {
    expect(run('-d', 'ip').out).toEqual([
      '(000) ldh      [12]',
      '(001) jeq      #0x800           jt 2\tjf 3',
      '(002) ret      #262144',
      '(003) ret      #0',
    ]);
    expect(run('-dd', 'ip').out).toEqual([
      '{ 0x28, 0, 0, 0x0000000c },',
      '{ 0x15, 0, 1, 0x00000800 },',
      '{ 0x6, 0, 0, 0x00040000 },',
      '{ 0x6, 0, 0, 0x00000000 },',
    ]);
    expect(run('-ddd', 'ip').out).toEqual(['4', '40 0 0 12', '21 0 1 2048', '6 0 0 262144', '6 0 0 0']);
  });

  it('joins the remaining words into the expression and honours -y and -O', () => {
    const joined = run('-O', '-y', 'RAW', 'tcp', 'dst', 'port', '80');
    expect(joined.code).toBe(0);
    expect(joined.out).toEqual(run('-O', '-yRAW', 'tcp dst port 80').out);
    expect(joined.out[0]).toBe('(000) ldb      [0]');
    expect(run('tcp dst port 80').out.length).toBeLessThan(joined.out.length);
  });

  it('says what is wrong with a filter in one line, with its position', () => {
    expect(run('tcp port 80 443')).toEqual({
      code: 1,
      out: [],
      err: ["pcap2ebpf: can't parse filter expression: syntax error (at offset 12)"],
    });
    expect(run('-y', 'RAW', 'vlan')).toEqual({
      code: 1,
      out: [],
      err: ['pcap2ebpf: no VLAN support for Raw IP (at offset 0)'],
    });
  });

  it('rejects unknown options and link types with a hint', () => {
    expect(run('-x', 'ip').err).toEqual(["pcap2ebpf: unknown option '-x' (see pcap2ebpf --help)"]);
    expect(run('-y', 'PPP', 'ip').err).toEqual(["pcap2ebpf: unknown link type 'PPP': use EN10MB or RAW"]);
    expect(run('--help').out[0]).toMatch(/^usage: pcap2ebpf/);
    expect(run('--names-dir', '/nonexistent/dir', 'port ssh').err).toEqual([
      'pcap2ebpf: --names-dir: no directory /nonexistent/dir',
    ]);
  });

  it('prints the eBPF lowering in LLVM syntax for packet memory and for kernel memory', () => {
    const direct = run('--ebpf', 'ip');
    expect(direct.code).toBe(0);
    expect(direct.out[0]).toBe('pcap_filter:');
    expect(direct.out).toContain('\tr0 = *(u16 *)(r1 + 12)');
    const kernel = run('--ebpf-kernel-mem', 'ip');
    expect(kernel.out.some((l) => /call 113/.test(l))).toBe(true); // bpf_probe_read_kernel
    expect(run('--ebpf', 'inbound').err[0]).toMatch(/^pcap2ebpf: cannot lower to eBPF: .*ancillary/);
  });

  it('lets `--` end the options so an expression may start with a minus', () => {
    expect(parseArgs(['-O', '--', '-1', '=', 'len']).expression).toBe('-1 = len');
  });
});
