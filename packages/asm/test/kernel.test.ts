/**
 * In-kernel checks: programs assembled by this package are loaded through the real verifier
 * and run with BPF_PROG_TEST_RUN. Skipped (with the reason printed) without root or bpf(2).
 */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import {
  Add,
  Atomic,
  bswap,
  call,
  callFunction,
  encode,
  exit,
  Helper,
  Ja,
  Ja32,
  JEq,
  link,
  LoadMapPtr,
  LoadMem,
  LoadMemSX,
  mayGoto,
  Mov,
  MovSX,
  Mul,
  R0,
  R1,
  R10,
  R2,
  R3,
  R6,
  R7,
  SDiv,
  SMod,
  StoreImm,
} from '../src/index.js';
import { assemble } from '../src/text/assemble.js';
import { MAP_TYPE, PROG_TYPE, TestBpf, vmlinuxFuncId } from '../../../tools/testing/bpf-syscall.mjs';

const kernel = TestBpf.open();
const skip = typeof kernel === 'string' ? kernel : undefined;
if (skip !== undefined) console.warn(`skipping in-kernel tests: ${skip}`);
const fds: number[] = [];
const track = (fd: number): number => (fds.push(fd), fd);
afterAll(() => fds.forEach((fd) => (kernel as TestBpf).close(fd)));

/** An Ethernet + IPv4 + TCP/UDP packet (BPF_PROG_TEST_RUN strips the Ethernet header for socket filters). */
function packet(protocol: 6 | 17, srcPort: number, dstPort: number): Buffer {
  const p = Buffer.alloc(14 + 20 + 20);
  p.writeUInt16BE(0x0800, 12);
  p[14] = 0x45;
  p.writeUInt16BE(40, 16);
  p[22] = 64;
  p[23] = protocol;
  p.writeUInt32BE(0x0a000001, 26);
  p.writeUInt32BE(0x0a000002, 30);
  p.writeUInt16BE(srcPort, 34);
  p.writeUInt16BE(dstPort, 36);
  return p;
}

const run = (bytes: Uint8Array, data = packet(17, 1, 2), repeat = 1): number => {
  const bpf = kernel as TestBpf;
  const prog = track(bpf.load(PROG_TYPE.socket_filter, bytes));
  return bpf.testRun(prog, data, repeat).retval;
};

describe.skipIf(skip !== undefined)('assembled programs in the kernel verifier and BPF_PROG_TEST_RUN', () => {
  it('runs the socket-filter example: keeps IPv4 TCP to or from port 22, drops the rest', () => {
    const bytes = assemble(readFileSync(new URL('../examples/socket-filter.s', import.meta.url), 'utf8')).encode();
    const bpf = kernel as TestBpf;
    const prog = track(bpf.load(PROG_TYPE.socket_filter, bytes));
    expect(bpf.testRun(prog, packet(6, 40000, 22)).retval).toBe(0xffffffff);
    expect(bpf.testRun(prog, packet(6, 22, 40000)).retval).toBe(0xffffffff);
    expect(bpf.testRun(prog, packet(6, 40000, 80)).retval).toBe(0);
    expect(bpf.testRun(prog, packet(17, 40000, 22)).retval).toBe(0);
  });

  it('fills map relocations from link() and counts runs with an atomic add in an array map', () => {
    const bpf = kernel as TestBpf;
    const counts = track(bpf.createMap(MAP_TYPE.array, 4, 8, 4));
    const config = track(bpf.createMap(MAP_TYPE.array, 4, 8, 1));
    bpf.update(config, Buffer.alloc(4), Buffer.from([0, 0, 0, 0, 7, 0, 0, 0]));
    const linked = assemble(
      [
        '\t*(u32 *)(r10 - 4) = 2          # key',
        '\tr2 = r10',
        '\tr2 += -4',
        '\tr1 = counts ll',
        '\tcall bpf_map_lookup_elem',
        '\tif r0 == 0 goto out',
        '\tr1 = 1',
        '\tlock *(u64 *)(r0 + 0) += r1',
        '\tr1 = config + 4 ll             # direct value access',
        '\tr0 = *(u32 *)(r1 + 0)',
        '\texit',
        'out:',
        '\tr0 = 0',
        '\texit',
      ].join('\n'),
    );
    expect(linked.relocations.map((r) => [r.kind, r.symbol])).toEqual([
      ['map_fd', 'counts'],
      ['map_value', 'config'],
    ]);
    const insns = linked.resolve((r) => (r.symbol === 'counts' ? counts : config));
    expect(run(encode(insns), undefined, 5)).toBe(7);
    const key = Buffer.alloc(4);
    key.writeUInt32LE(2);
    expect(bpf.lookup(counts, key, 8).readBigUInt64LE()).toBe(5n);
  });

  it('runs the README example: counts packets in a map and keeps skb->len bytes', () => {
    const bpf = kernel as TestBpf;
    const counts = track(bpf.createMap(MAP_TYPE.array, 4, 8, 1));
    const program = [
      Mov.reg(R6, R1).withComment('save ctx'),
      StoreImm(R10, -4, 0, 'u32'),
      Mov.reg(R2, R10),
      Add.imm(R2, -4),
      LoadMapPtr(R1, 'counts'),
      call(Helper.map_lookup_elem),
      JEq.imm(R0, 0, 'out'),
      Mov.imm(R1, 1),
      Atomic.add(R0, 0, R1, 'u64'),
      LoadMem(R0, R6, 0, 'u32').withSymbol('out'),
      exit(),
    ];
    const linked = link(program);
    const fds = new Map([['counts', counts]]);
    const insns = linked.resolve((r) => {
      if (r.kind === 'map_fd' || r.kind === 'map_value') return fds.get(r.symbol)!;
      throw new Error(`cannot resolve ${r.kind} ${r.symbol}`);
    });
    const data = packet(6, 1000, 2000);
    expect(run(encode(insns), data, 3)).toBe(data.length - 14); // skb->len excludes the Ethernet header test_run pulls
    expect(bpf.lookup(counts, Buffer.alloc(4), 8).readBigUInt64LE()).toBe(3n);
  });

  it('calls kfuncs named in assembly text once the loader fills their BTF ids', (ctx) => {
    const lock = vmlinuxFuncId('bpf_rcu_read_lock');
    const unlock = vmlinuxFuncId('bpf_rcu_read_unlock');
    if (lock === undefined || unlock === undefined) {
      console.warn(
        'skipping the kfunc test: bpftool cannot read bpf_rcu_read_lock/unlock from /sys/kernel/btf/vmlinux',
      );
      ctx.skip();
      return;
    }
    const linked = assemble('call bpf_rcu_read_lock\ncall bpf_rcu_read_unlock\nr0 = 7\nexit');
    expect(linked.relocations.map((r) => [r.kind, r.symbol])).toEqual([
      ['kfunc', 'bpf_rcu_read_lock'],
      ['kfunc', 'bpf_rcu_read_unlock'],
    ]);
    const insns = linked.resolve((r) => (r.symbol === 'bpf_rcu_read_lock' ? lock : unlock));
    expect(run(encode(insns))).toBe(7);
  });

  it('runs a program compiled by llc, assembled here from its assembly listing', () => {
    const bpf = kernel as TestBpf;
    const counts = track(bpf.createMap(MAP_TYPE.array, 4, 8, 1));
    const linked = assemble(readFileSync(new URL('./fixtures/llc/socket-counter.s', import.meta.url), 'utf8'));
    const insns = linked.resolve(() => counts);
    const data = packet(6, 1, 2);
    // prog: acc = skb->len; 4 times acc = (acc ^ i) s/ 3; plus a random bit from bpf_get_prandom_u32.
    let acc = data.length - 14;
    for (let i = 0; i < 4; i++) acc = Math.trunc((acc ^ i) / 3);
    expect([acc, acc + 1]).toContain(run(encode(insns), data, 2));
    expect(bpf.lookup(counts, Buffer.alloc(4), 8).readBigUInt64LE()).toBe(2n);
  });

  it('links a bpf-to-bpf call into a subprogram the verifier accepts', () => {
    // sum(a, b) = a * 3 + b, called twice through a nested subprogram.
    const times3 = [Mov.reg(R0, R1).withSymbol('times3'), Mul.imm(R0, 3), exit()];
    const sum = [Mov.reg(R6, R2).withSymbol('sum'), callFunction('times3'), Add.reg(R0, R6), exit()];
    const main = [
      Mov.imm(R1, 10),
      Mov.imm(R2, 4),
      callFunction('sum'),
      Mov.reg(R7, R0),
      Mov.imm(R1, 1),
      Mov.imm(R2, 1),
      callFunction('sum'),
      Add.reg(R0, R7),
      exit(),
    ];
    const linked = link(main, { subprograms: [times3, sum] });
    expect(linked.functions.map((f) => f.name)).toEqual([undefined, 'sum', 'times3']);
    expect(run(linked.encode())).toBe(34 + 4);
  });

  it('runs every atomic flavour on the stack and returns their combined results', () => {
    const prog = [
      StoreImm(R10, -8, 100, 'u64'),
      Mov.imm(R1, 5),
      Atomic.fetchAdd(R10, -8, R1, 'u64'), // r1 = 100, mem = 105
      Mov.imm(R2, 0xf0),
      Atomic.or(R10, -8, R2, 'u64'), // mem = 0xf9
      Mov.imm(R3, 7),
      Atomic.xchg(R10, -8, R3, 'u64'), // r3 = 0xf9, mem = 7
      Mov.imm(R0, 7),
      Mov.imm(R2, 42),
      Atomic.cmpxchg(R10, -8, R2, 'u64'), // r0 = 7 (matched), mem = 42
      LoadMem(R6, R10, -8, 'u64'),
      StoreImm(R10, -16, 3, 'u32'),
      Mov.imm(R2, 1),
      Atomic.fetchXor(R10, -16, R2, 'u32'), // w2 = 3, mem = 2
      LoadMem(R7, R10, -16, 'u32'),
      // result = r1 + r3 + r0 + r6 + r2 + r7 = 100 + 249 + 7 + 42 + 3 + 2
      Add.reg(R0, R1),
      Add.reg(R0, R3),
      Add.reg(R0, R6),
      Add.reg(R0, R2),
      Add.reg(R0, R7),
      exit(),
    ];
    expect(run(link(prog).encode())).toBe(403);
  });

  it('runs load-acquire and store-release of every size (kernel 6.15+)', () => {
    const prog = [Mov.imm(R0, 0)];
    const sizes = [
      ['u8', -1, 0x12],
      ['u16', -4, 0x1234],
      ['u32', -8, 0x12345678],
      ['u64', -16, 0x7eadbeef],
    ] as const;
    for (const [size, off, value] of sizes) {
      prog.push(
        Mov.imm(R1, value),
        Atomic.storeRelease(R10, off, R1, size),
        Atomic.loadAcquire(R2, R10, off, size),
        Add.reg(R0, R2),
      );
    }
    prog.push(exit());
    expect(run(link(prog).encode())).toBe((0x12 + 0x1234 + 0x12345678 + 0x7eadbeef) >>> 0);
  });

  it('accepts cpu v4 instructions: signed div/mod, movsx, sign-extending loads, bswap, gotol, may_goto', () => {
    const prog = [
      Mov.imm(R1, -17),
      Mov.reg(R2, R1),
      SDiv.imm(R1, 5), // -3
      SMod.imm(R2, 5), // -2
      Mov.imm(R3, 0x80),
      MovSX.reg(R3, R3, 8), // -128
      StoreImm(R10, -8, -2, 'u32'),
      LoadMemSX(R6, R10, -8, 'u16'), // -2
      Mov.imm(R7, 0x1234),
      bswap(R7, 16), // 0x3412
      JEq.imm(R1, 12345, 'dead'), // never taken; keeps the skipped instruction reachable for check_cfg
      Ja32('skip'),
      Mov.imm(R7, 0).withSymbol('dead'), // skipped
      Mov.imm(R0, 0).withSymbol('skip'),
      // loop: add 1 to r0 until may_goto's budget or r0 == 3
      JEq.imm(R0, 3, 'done').withSymbol('loop'),
      mayGoto('done'),
      Add.imm(R0, 1),
      Ja('loop'),
      // r0 = 3 + (-3) * 1000 + (-2) * 100 + (-128) + (-2) + 0x3412
      Mul.imm(R1, 1000).withSymbol('done'),
      Add.reg(R0, R1),
      Mul.imm(R2, 100),
      Add.reg(R0, R2),
      Add.reg(R0, R3),
      Add.reg(R0, R6),
      Add.reg(R0, R7),
      exit(),
    ];
    expect(run(link(prog).encode()) | 0).toBe(3 - 3000 - 200 - 128 - 2 + 0x3412);
  });

  it('reports a verifier rejection with the log, and the instruction maps back to its provenance', () => {
    const linked = link([Mov.imm(R0, 0), LoadMem(R0, R2, 0, 'u64').withComment('filter L3 insn 12'), exit()]);
    let message = '';
    try {
      run(linked.encode());
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/R2 !read_ok/);
    const failing = Number(/(\d+): \(79\)/.exec(message)?.[1] ?? 1);
    expect(linked.commentAtSlot(failing)).toBe('filter L3 insn 12');
  });
});
