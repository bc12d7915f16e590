/**
 * What core.bpf.o must compute on the running kernel, derived independently from the kernel's
 * BTF with btf-parser: shared by the host test and the VM test (5.10, 6.1, 6.12).
 */
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mountTracefs } from '../../src/fs/mounts.js';
import { join } from 'node:path';
import { enumValue, findMember, loadKernelBtf, sizeOf, type Btf } from 'btf-parser';
import { expect } from 'vitest';
import { loadObjectFile } from '../../src/object/load.js';

/** Directory of the committed objects. */
export const OBJECT_DIR = new URL('.', import.meta.url).pathname;

/** Loads core.bpf.o, runs its raw_tp program once in this thread, and checks every result. */
export function checkCoreObject(vmlinux: Btf = loadKernelBtf()): void {
  const obj = loadObjectFile(join(OBJECT_DIR, 'core.bpf.o'));
  try {
    obj.programs.probe!.testRun({ context: new Uint8Array(8), contextOutSize: 0 });
    const bss = obj.maps['.bss']!.lookup(0)!;
    const vars = new Map(obj.globals().map((g) => [g.name, g]));
    const read = (name: string): bigint => {
      const g = vars.get(name)!;
      const v = new DataView(bss.buffer, bss.byteOffset + g.offset, g.size);
      return g.size === 8 ? v.getBigInt64(0, true) : BigInt(v.getInt32(0, true));
    };
    const task = vmlinux.typeByName('task_struct', 'struct');
    const hasNew = findMember(vmlinux, task, '__state') !== undefined;
    expect(read('tgid')).toBe(BigInt(process.pid));
    const commAt = vars.get('comm')!.offset;
    const comm = new TextDecoder().decode(bss.subarray(commAt, commAt + 16)).replace(/\0.*$/s, '');
    expect(comm).toBe(readFileSync('/proc/thread-self/comm', 'utf8').trim());
    expect(read('has_new_state')).toBe(hasNew ? 1n : 0n);
    expect(read('has_old_state')).toBe(hasNew ? 0n : 1n);
    expect(read('state')).toBe(0n); // TASK_RUNNING: this very task
    expect(read('task_size')).toBe(BigInt(sizeOf(vmlinux, task.id)));
    expect(read('pid_size')).toBe(4n);
    expect(read('pid_signed')).toBe(1n);
    expect(read('has_missing_type')).toBe(0n);
    expect(read('has_task_type')).toBe(1n);
    expect(read('target_type_id')).toBe(BigInt(task.id));
    expect(read('local_type_id')).toBe(BigInt(obj.spec.btf!.typeByName('task_struct', 'struct').id));
    expect(read('ringbuf_exists')).toBe(1n);
    expect(read('missing_enum_exists')).toBe(0n);
    expect(read('ringbuf_value')).toBe(BigInt(enumValue(vmlinux, 'bpf_map_type', 'BPF_MAP_TYPE_RINGBUF')));
    expect(read('reset_on_fork')).toBe(0n);
  } finally {
    obj.close();
  }
}

/**
 * Loads probes.bpf.o filtered on this process, attaches `names` by section (all with
 * attachAll), opens a file five times and returns the hit counters.
 */
export function countOpens(
  names?: readonly string[],
): Record<'kprobe_hits' | 'kretprobe_hits' | 'tracepoint_hits' | 'last_dfd', bigint> {
  mountTracefs();
  const obj = loadObjectFile(join(OBJECT_DIR, 'probes.bpf.o'), { globals: { target_tgid: process.pid } });
  try {
    if (names) for (const n of names) obj.attach(n);
    else obj.attachAll();
    for (let i = 0; i < 5; i++) closeSync(openSync('/proc/self/stat', 'r'));
    const out: Record<string, bigint> = {};
    for (const g of obj.globals()) {
      if (g.size !== 8 || g.section === '.rodata') continue;
      const value = obj.maps[g.section]!.lookup(0)!; // .bss, or .data for last_dfd
      out[g.name] = new DataView(value.buffer, value.byteOffset).getBigInt64(g.offset, true);
    }
    return out as Record<'kprobe_hits' | 'kretprobe_hits' | 'tracepoint_hits' | 'last_dfd', bigint>;
  } finally {
    obj.close();
  }
}

/** Loads multi.bpf.o filtered on this process, attaches it by section, opens a file five times. */
export function countMultiOpens(): { multi_hits: bigint; multi_ret_hits: bigint } {
  const obj = loadObjectFile(join(OBJECT_DIR, 'multi.bpf.o'), { globals: { target_tgid: process.pid } });
  try {
    obj.attachAll();
    for (let i = 0; i < 5; i++) closeSync(openSync('/proc/self/stat', 'r'));
    const bss = obj.maps['.bss']!.lookup(0)!;
    const at = new Map(obj.globals().map((g) => [g.name, g.offset]));
    const v = new DataView(bss.buffer, bss.byteOffset);
    return {
      multi_hits: v.getBigUint64(at.get('multi_hits')!, true),
      multi_ret_hits: v.getBigUint64(at.get('multi_ret_hits')!, true),
    };
  } finally {
    obj.close();
  }
}
