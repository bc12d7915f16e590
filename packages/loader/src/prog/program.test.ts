import { execFileSync } from 'node:child_process';
import { BtfBuilder } from 'btf-parser';
import { LoadMapValue, encode, exit, LoadMapPtr, LoadMem, link, Mov, R0, R1, R2 } from 'bpf-asm-ts';
import { describe, expect, it } from 'vitest';
import { BtfHandle } from '../btf/handle.js';
import { BpfMap } from '../map/map.js';
import { MapFlag } from '../map/spec.js';
import { MapType, ProgramType } from '../sys/generated/constants.js';
import { loadedPrograms } from './enumerate.js';
import { programFunctionTarget } from '../link/program-target.js';
import { enableStats, Program } from './program.js';
import { VerifierError } from './verifier-error.js';
import { countRuns } from '../../test/counter.js';

/** An Ethernet + IPv4 + UDP packet (only the protocol byte at offset 23 matters here). */
function packet(proto: number): Uint8Array {
  const p = new Uint8Array(64);
  p[12] = 0x08;
  p[14] = 0x45;
  p[23] = proto;
  return p;
}

describe('programs on the running kernel', () => {
  it('loads a hand-assembled socket filter and test-runs it on a packet', () => {
    using prog = Program.load({
      name: 'accept_all',
      type: ProgramType.SOCKET_FILTER,
      instructions: [Mov.imm(R0, 42), exit()],
    });
    const r = prog.testRun({ data: packet(17) });
    expect(r.retval).toBe(42);
    expect(r.data).toHaveLength(64);
  });

  it('resolves map references by symbol and the program updates the map', () => {
    using counts = BpfMap.create({ name: 'counts', type: MapType.ARRAY, keySize: 4, valueSize: 8, maxEntries: 1 });
    const insns = countRuns(2);
    using prog = Program.load({ name: 'count', type: ProgramType.XDP, instructions: link(insns), maps: { counts } });
    const r = prog.testRun({ data: packet(6), repeat: 5 });
    expect(r.retval).toBe(2);
    expect(r.data).toEqual(packet(6));
    expect(new DataView(counts.lookup(0)!.buffer).getBigUint64(0, true)).toBe(5n);
    const info = prog.info();
    expect(info.mapIds).toEqual([counts.info().id]);
    expect(info.name).toBe('count');
  });

  it('reads read-only config from a frozen map through a map_value reference (global-variable style)', () => {
    const cfg = new Uint8Array(8);
    new DataView(cfg.buffer).setUint32(4, 0xc0ffee, true);
    using rodata = BpfMap.create({
      name: '.rodata',
      type: MapType.ARRAY,
      keySize: 4,
      valueSize: 8,
      maxEntries: 1,
      flags: MapFlag.RDONLY_PROG,
      contents: [[0, cfg]],
      freeze: true,
    });
    using prog = Program.load({
      type: ProgramType.SOCKET_FILTER,
      instructions: [LoadMapValue(R1, '.rodata', 4), LoadMem(R0, R1, 0, 'u32'), exit()],
      maps: { '.rodata': rodata },
    });
    expect(prog.testRun({ data: packet(6) }).retval).toBe(0xc0ffee);
  });

  it('accepts encoded bytes plus relocations', () => {
    using m = BpfMap.create({ type: MapType.ARRAY, keySize: 4, valueSize: 4, maxEntries: 1 });
    const bytes = encode([LoadMapPtr(R1, 0), Mov.imm(R0, 0), exit()]);
    using prog = Program.load({
      type: ProgramType.SOCKET_FILTER,
      instructions: bytes,
      relocations: [{ index: 0, kind: 'map_fd', symbol: 'm' }],
      maps: new Map([['m', m]]),
    });
    expect(prog.info().mapIds).toEqual([m.info().id]);
  });

  it('an unknown map symbol is a relocation error naming it, before any load', () => {
    expect(() =>
      Program.load({ type: ProgramType.SOCKET_FILTER, instructions: [LoadMapPtr(R1, 'nope'), Mov.imm(R0, 0), exit()] }),
    ).toThrow(/references map "nope"/);
  });

  it('a verifier rejection is one line naming the instruction and the generator comment, with the full log kept', () => {
    const insns = [Mov.imm(R0, 0), LoadMem(R0, R2, 0, 'u32').withComment('pcap filter, L3, instruction 12'), exit()];
    let err: unknown;
    try {
      Program.load({ name: 'bad', type: ProgramType.SOCKET_FILTER, instructions: insns });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(VerifierError);
    const v = err as VerifierError;
    expect(v.message).toBe(
      'verifier rejected program "bad" (EACCES): R2 !read_ok at insn 1 (r0 = *(u32 *)(r2 +0)) [pcap filter, L3, instruction 12]',
    );
    expect(v.instruction).toBe(1);
    expect(v.log.length).toBeGreaterThan(1);
    expect(v.message).not.toContain('\n');
  });

  it('the tag matches bpftool and stats count runs while enabled', () => {
    using prog = Program.load({
      name: 'tagged',
      type: ProgramType.SOCKET_FILTER,
      instructions: [Mov.imm(R0, 0), exit()],
    });
    const info = prog.info();
    const shown = JSON.parse(
      execFileSync('bpftool', ['-j', 'prog', 'show', 'id', String(info.id)], { encoding: 'utf8' }),
    );
    expect(prog.tag).toBe(shown.tag);
    using _stats = enableStats();
    prog.testRun({ data: packet(1), repeat: 3 });
    expect(Program.fromId(info.id).stats().runCount).toBeGreaterThanOrEqual(0n);
  });

  it('enumerates loaded programs with their BTF function names', () => {
    const b = new BtfBuilder();
    const int = b.addInt('int', 4, { signed: true });
    const skb = b.addPtr(b.addStruct('__sk_buff', 0, []));
    const fn = b.addFunc('my_entry_fn', b.addFuncProto(int, [{ name: 'skb', type: skb }]), 'global');
    using btf = BtfHandle.load(b.build());
    const funcInfo = new Uint8Array(8);
    new DataView(funcInfo.buffer).setUint32(4, fn, true); // insn_off 0, type_id of the func
    using prog = Program.load({
      name: 'enum_me',
      type: ProgramType.SCHED_CLS,
      instructions: [Mov.imm(R0, 0), exit()],
      btf: { fd: btf.fd, funcInfo },
    });
    const id = prog.info().id;
    const found = loadedPrograms({ filter: (i) => i.type === ProgramType.SCHED_CLS }).find((p) => p.id === id);
    expect(found?.functions).toEqual(['my_entry_fn']);
    expect(found?.name).toBe('enum_me');
    // ... and the same BTF gives the fentry target for tracing this program
    expect(programFunctionTarget(prog)).toEqual({ attachBtfId: fn, attachProgFd: prog.fd, name: 'my_entry_fn' });
    expect(() => programFunctionTarget(prog, 'other')).toThrow(/no function "other"/);
  });
});
