import { createSocket } from 'node:dgram';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { kernelVersionCode } from '../prog/program.js';
import { readKernelConfig } from './kconfig.js';
import { mountBpffs } from '../fs/mounts.js';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkCoreObject, countOpens, OBJECT_DIR } from '../../test/object/core-checks.js';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { ElfError } from '../elf/elf.js';
import { BpfError } from '../errors.js';
import { MapType, ProgramType } from '../sys/generated/constants.js';
import { loadObject, loadObjectFile } from './load.js';
import { ObjectError, parseObject } from './parse.js';
import { VerifierError } from '../prog/verifier-error.js';

const globalsBytes = readFileSync(join(OBJECT_DIR, 'globals.bpf.o'));

describe('parseObject', () => {
  const spec = parseObject(globalsBytes, 'globals.bpf.o');

  it("finds programs by their section, with libbpf's program types", () => {
    expect(spec.programs.map((p) => [p.name, p.sectionName, p.def.type])).toEqual([
      ['xdp_count', 'xdp', ProgramType.XDP],
      ['sock_len', 'socket', ProgramType.SOCKET_FILTER],
    ]);
    expect(spec.license).toBe('GPL');
  });

  it('reads BTF-defined maps, map-in-map inner definitions and global-data sections', () => {
    const maps = Object.fromEntries(spec.maps.map((m) => [m.name, m]));
    expect(maps.counts).toMatchObject({ type: MapType.HASH, keySize: 4, valueSize: 8, maxEntries: 64 });
    expect(maps.stats).toMatchObject({ type: MapType.ARRAY, keySize: 4, valueSize: 16, maxEntries: 4 });
    expect(maps.events).toMatchObject({ type: MapType.RINGBUF, keySize: 0, valueSize: 0, maxEntries: 4096 });
    expect(maps.outer).toMatchObject({ type: MapType.ARRAY_OF_MAPS, valueSize: 4, maxEntries: 2 });
    expect(maps.outer!.inner).toMatchObject({ type: MapType.ARRAY, keySize: 4, valueSize: 4, maxEntries: 1 });
    expect(maps['.rodata']).toMatchObject({ kernelName: 'globals.rodata', valueSize: 16, data: { readonly: true } });
    expect(maps['.bss']).toMatchObject({ kernelName: 'globals.bss', valueSize: 12 });
    expect(maps['.data.tuning']).toMatchObject({ kernelName: '.data.tuning', valueSize: 4 });
    expect([...maps['.data.tuning']!.data!.bytes]).toEqual([3, 0, 0, 0]);
  });

  it('rejects what is not a BPF object with a typed error rooted at BpfError', () => {
    expect(() => parseObject(new TextEncoder().encode('not an object at all, clearly not'))).toThrow(ElfError);
    const truncated = globalsBytes.subarray(0, 200);
    expect(() => parseObject(truncated)).toThrow(BpfError);
  });
});

const probeKprobes = () => existsSync('/sys/bus/event_source/devices/kprobe');

describe('loadObject on the host kernel', () => {
  mountBpffs();

  it('sets .rodata before load and freezes it; .data and .bss are writable from user space', () => {
    const obj = loadObjectFile(join(OBJECT_DIR, 'globals.bpf.o'), { globals: { verdict: 1, min_len: 14n } });
    try {
      const ro = obj.maps['.rodata']!.lookup(0)!;
      const v = new DataView(ro.buffer, ro.byteOffset);
      expect(v.getUint32(0, true)).toBe(1); // XDP_DROP
      expect(v.getBigUint64(8, true)).toBe(14n);
      expect(() => obj.maps['.rodata']!.update(0, ro)).toThrow(BpfError);
      // XDP_DROP for a packet of at least min_len bytes, and the subprograms ran.
      const r = obj.programs.xdp_count!.testRun({ data: new Uint8Array(64) });
      expect(r.retval).toBe(1);
      const bss = obj.maps['.bss']!.lookup(0)!;
      expect(new DataView(bss.buffer, bss.byteOffset).getBigUint64(0, true)).toBe(1n); // seen
      expect(obj.maps.counts!.lookup(0)).toBeDefined();
      expect(new DataView(obj.maps.stats!.lookup(0)!.buffer).getBigUint64(8, true)).toBe(64n);
      // Short packets pass untouched: min_len is a frozen constant.
      expect(obj.programs.xdp_count!.testRun({ data: new Uint8Array(14) }).retval).toBe(1);
    } finally {
      obj.close();
    }
  });

  it('names unknown globals and wrong-sized values in its error', () => {
    const spec = parseObject(globalsBytes, 'globals.bpf.o');
    expect(() => loadObject(spec, { globals: { nope: 1 } })).toThrow(/no global variable "nope".*verdict/);
    expect(() => loadObject(spec, { globals: { verdict: new Uint8Array(3) } })).toThrow(ObjectError);
  });

  it('fills __kconfig externs from the running kernel and reuses a map pinned by name', () => {
    const pinPath = mkdtempSync('/sys/fs/bpf/kconfig-test-');
    const config = readKernelConfig();
    const load = () => loadObjectFile(join(OBJECT_DIR, 'kconfig.bpf.o'), { pinPath });
    try {
      for (const run of [1n, 2n]) {
        const obj = load();
        try {
          obj.programs.read_config!.testRun({ data: new Uint8Array(64) });
          const bss = obj.maps['.bss']!.lookup(0)!;
          const at = new Map(obj.globals().map((g) => [g.name, g.offset]));
          const u32 = (n: string) => new DataView(bss.buffer, bss.byteOffset).getUint32(at.get(n)!, true);
          expect(u32('version')).toBe(kernelVersionCode());
          expect(u32('hz')).toBe(Number(config.get('CONFIG_HZ')));
          expect(u32('bpf_syscall')).toBe(1);
          expect(u32('conntrack')).toBe({ y: 1, m: 2 }[config.get('CONFIG_NF_CONNTRACK') as 'y' | 'm'] ?? 0);
          expect(u32('no_such')).toBe(0);
          expect(obj.maps['.kconfig']!.info().name).toBe('kconfig.kconfig');
          // The pinned counter outlives the object: the second load finds it.
          expect(new DataView(obj.maps.kconfig_runs!.lookup(0)!.buffer).getBigUint64(0, true)).toBe(run);
        } finally {
          obj.close();
        }
      }
    } finally {
      rmSync(pinPath, { recursive: true, force: true });
    }
  });

  it('calls kfuncs and resolves an untyped __ksym to its /proc/kallsyms address', async () => {
    const obj = loadObjectFile(join(OBJECT_DIR, 'ksyms.bpf.o'));
    try {
      obj.attachAll();
      const tx = createSocket('udp4');
      await new Promise<void>((r) => tx.send(new Uint8Array(4), 9, '127.0.0.1', () => r())); // port 9: dropped
      tx.close();
      const bss = obj.maps['.bss']!.lookup(0)!;
      const at = new Map(obj.globals().map((g) => [g.name, g.offset]));
      const v = new DataView(bss.buffer, bss.byteOffset);
      expect(v.getUint32(at.get('ran')!, true)).toBe(1);
      const line = readFileSync('/proc/kallsyms', 'utf8')
        .split('\n')
        .find((l) => l.endsWith(' consume_skb'))!;
      expect(v.getBigUint64(at.get('consume_skb_addr')!, true)).toBe(BigInt(`0x${line.split(' ')[0]}`));
    } finally {
      obj.close();
    }
  });

  it('attaches a tracepoint program by its section; attachAll leaves nothing attached when a kprobe cannot attach', () => {
    expect(countOpens(['openat_tp']).tracepoint_hits).toBeGreaterThanOrEqual(5n);
    if (probeKprobes()) return; // this kernel has kprobes: the VM test covers attachAll
    expect(() => countOpens()).toThrow(BpfError);
    const links = execFileSync('bpftool', ['link', 'show'], { encoding: 'utf8' });
    expect(links).not.toMatch(/openat_tp|open_entry|open_exit/);
  });

  it('names the C source line in a verifier rejection (line_info), and leaks no fd', () => {
    const fds = () => readdirSync('/proc/self/fd').length;
    const before = fds();
    let err: unknown;
    try {
      loadObjectFile(join(OBJECT_DIR, 'fail-deref.bpf.o'));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(VerifierError);
    expect((err as Error).message).toMatch(
      /invalid mem access 'map_value_or_null' at insn 7 .*\[\*n \+= 1; \/\* no NULL check \*\/ \(fail-deref\.bpf\.c:19\)\]$/,
    );
    expect(fds()).toBe(before); // the map and the BTF object it created are closed again
  });

  it('fills map-in-map slots from .values at load', () => {
    const obj = loadObjectFile(join(OBJECT_DIR, 'values.bpf.o'));
    try {
      const id = (k: number) => {
        const v = obj.maps.slots!.lookup(k);
        return v && new DataView(v.buffer, v.byteOffset).getUint32(0, true);
      };
      expect(id(0)).toBe(obj.maps.inner_a!.info().id);
      expect(id(1)).toBeUndefined();
      expect(id(2)).toBe(obj.maps.inner_b!.info().id);
      obj.maps.inner_b!.update(0, new Uint8Array([42, 0, 0, 0]));
      expect(obj.programs.read_slot!.testRun({ data: new Uint8Array(64) }).retval).toBe(42);
    } finally {
      obj.close();
    }
  });

  it('relocates every CO-RE kind against the running kernel', () => {
    checkCoreObject();
  });
});
