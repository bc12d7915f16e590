#!/usr/bin/env node
// A BPF attach demo for the test VM: loads a tiny program that counts calls to a kernel function
// and attaches it every way the VM's 6.1 kernel allows (kprobe and kretprobe through the kprobe
// PMU, with BPF_LINK_CREATE or PERF_EVENT_IOC_SET_BPF; fentry and fexit through BTF), then sends
// UDP datagrams over loopback and reads the count back from an array map. Everything goes through
// koffi and raw bpf(2)/perf_event_open(2) calls, so it proves the path bpf-loader-ts takes.
//
//   tools/vm/run.sh -- node tools/vm/bpf-demo.mjs [--function NAME] [--packets N] [--json]
//
// Exit status 0 when every attach mode counted at least N calls, 1 otherwise.

import { createSocket } from 'node:dgram';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { constants } from 'node:os';
import { parseArgs } from 'node:util';

// koffi is bpf-loader-ts's dependency: resolve it the way that package does.
const koffi = createRequire(new URL('../../packages/loader/package.json', import.meta.url))('koffi');

const libc = koffi.load('libc.so.6');
const syscall = libc.func('long syscall(long nr, ...)');
const ioctl = libc.func('int ioctl(int fd, unsigned long request, ...)');
const close = libc.func('int close(int fd)');

const SYS_perf_event_open = 298;
const SYS_bpf = 321;

const BPF_MAP_CREATE = 0;
const BPF_MAP_LOOKUP_ELEM = 1;
const BPF_PROG_LOAD = 5;
const BPF_RAW_TRACEPOINT_OPEN = 17;
const BPF_LINK_CREATE = 28;

const BPF_MAP_TYPE_ARRAY = 2;
const BPF_PROG_TYPE_KPROBE = 2;
const BPF_PROG_TYPE_TRACING = 26;
const BPF_TRACE_FENTRY = 24;
const BPF_TRACE_FEXIT = 25;
const BPF_PERF_EVENT = 41;

const PERF_FLAG_FD_CLOEXEC = 8;
const PERF_EVENT_IOC_SET_BPF = 0x40042408; // _IOW('$', 8, __u32)
const PERF_EVENT_IOC_ENABLE = 0x2400; // _IO('$', 0)
const PERF_ATTR_SIZE = 128; // PERF_ATTR_SIZE_VER7
const BPF_ATTR_SIZE = 128; // enough for every command used here; the kernel checks the tail is zero

const errnoNames = new Map(Object.entries(constants.errno).map(([name, value]) => [value, name]));

/** A failed system call: names the call and errno, e.g. "bpf(BPF_PROG_LOAD): EACCES (13)". */
export class SyscallError extends Error {
  /**
   * @param {string} call the call that failed
   * @param {number} errno the errno it set
   * @param {string} [detail] more context (a verifier log)
   */
  constructor(call, errno, detail) {
    super(`${call}: ${errnoNames.get(errno) ?? 'errno'} (${errno})${detail ? `\n${detail}` : ''}`);
    this.name = 'SyscallError';
    this.errno = errno;
  }
}

/** The running kernel lacks something an attach mode needs. */
export class MissingFeatureError extends Error {
  /** @param {string} message what is missing and what to do */
  constructor(message) {
    super(message);
    this.name = 'MissingFeatureError';
  }
}

/** Call bpf(2) with a zero-padded attribute buffer; returns the result or throws. */
function bpf(cmd, cmdName, attr, detail) {
  const ret = Number(syscall(SYS_bpf, 'int', cmd, 'void *', attr, 'uint', attr.length));
  if (ret < 0) {
    const errno = koffi.errno();
    throw new SyscallError(`bpf(${cmdName})`, errno, detail?.());
  }
  return ret;
}

/** A NUL-terminated C string in a Buffer (kept referenced by the caller while in use). */
function cString(text) {
  return Buffer.from(`${text}\0`, 'latin1');
}

/** Create a one-slot u64 array map; returns its fd. */
function createCounterMap() {
  const attr = Buffer.alloc(BPF_ATTR_SIZE);
  attr.writeUInt32LE(BPF_MAP_TYPE_ARRAY, 0);
  attr.writeUInt32LE(4, 4); // key_size
  attr.writeUInt32LE(8, 8); // value_size
  attr.writeUInt32LE(1, 12); // max_entries
  return bpf(BPF_MAP_CREATE, 'BPF_MAP_CREATE', attr);
}

/** Read slot 0 of the counter map. */
function readCounter(mapFd) {
  const key = Buffer.alloc(4);
  const value = Buffer.alloc(8);
  const attr = Buffer.alloc(BPF_ATTR_SIZE);
  attr.writeUInt32LE(mapFd, 0);
  attr.writeBigUInt64LE(koffi.address(key), 8);
  attr.writeBigUInt64LE(koffi.address(value), 16);
  bpf(BPF_MAP_LOOKUP_ELEM, 'BPF_MAP_LOOKUP_ELEM', attr);
  return Number(value.readBigUInt64LE(0));
}

/** Encode one instruction: opcode, dst and src registers, 16-bit offset, 32-bit immediate. */
function insn(code, dst, src, off, imm) {
  const b = Buffer.alloc(8);
  b.writeUInt8(code, 0);
  b.writeUInt8((src << 4) | dst, 1);
  b.writeInt16LE(off, 2);
  b.writeInt32LE(imm, 4);
  return b;
}

/**
 * The counting program: look up slot 0 of the map and atomically add 1 to it. It never reads its
 * context, so the same instructions serve kprobe and fentry programs.
 */
function counterProgram(mapFd) {
  return Buffer.concat([
    insn(0x62, 10, 0, -4, 0), //   *(u32 *)(r10 - 4) = 0
    insn(0xbf, 2, 10, 0, 0), //    r2 = r10
    insn(0x07, 2, 0, 0, -4), //    r2 += -4
    insn(0x18, 1, 1, 0, mapFd), // r1 = map fd (ld_imm64, BPF_PSEUDO_MAP_FD)
    insn(0x00, 0, 0, 0, 0),
    insn(0x85, 0, 0, 0, 1), //     call bpf_map_lookup_elem
    insn(0x15, 0, 0, 2, 0), //     if r0 == 0 goto +2
    insn(0xb7, 1, 0, 0, 1), //     r1 = 1
    insn(0xdb, 0, 1, 0, 0), //     lock *(u64 *)(r0 + 0) += r1
    insn(0xb7, 0, 0, 0, 0), //     r0 = 0
    insn(0x95, 0, 0, 0, 0), //     exit
  ]);
}

/** Load a program; on failure the error carries the verifier log. */
function loadProgram({ type, insns, name, expectedAttachType = 0, attachBtfId = 0 }) {
  const license = cString('GPL');
  const log = Buffer.alloc(64 * 1024);
  const attr = Buffer.alloc(BPF_ATTR_SIZE);
  attr.writeUInt32LE(type, 0);
  attr.writeUInt32LE(insns.length / 8, 4);
  attr.writeBigUInt64LE(koffi.address(insns), 8);
  attr.writeBigUInt64LE(koffi.address(license), 16);
  attr.writeUInt32LE(1, 24); // log_level
  attr.writeUInt32LE(log.length, 28);
  attr.writeBigUInt64LE(koffi.address(log), 32);
  attr.write(name.slice(0, 15), 48, 'latin1'); // prog_name[16]
  attr.writeUInt32LE(expectedAttachType, 68);
  attr.writeUInt32LE(attachBtfId, 108);
  return bpf(BPF_PROG_LOAD, 'BPF_PROG_LOAD', attr, () => log.toString('latin1').replace(/\0.*$/s, '').trim());
}

/** perf_event_open on the kprobe PMU: a k(ret)probe on `fn`, on all CPUs (pid -1, cpu 0). */
function openKprobeEvent(fn, retprobe) {
  const pmu = '/sys/bus/event_source/devices/kprobe';
  if (!existsSync(`${pmu}/type`)) {
    throw new MissingFeatureError(`this kernel has no kprobe PMU (${pmu}); run inside the test VM (tools/vm/run.sh)`);
  }
  const type = Number(readFileSync(`${pmu}/type`, 'utf8'));
  // format/retprobe reads "config:<bit>".
  const retprobeBit = Number(readFileSync(`${pmu}/format/retprobe`, 'utf8').trim().split(':')[1]);
  const name = cString(fn);
  const attr = Buffer.alloc(PERF_ATTR_SIZE);
  attr.writeUInt32LE(type, 0);
  attr.writeUInt32LE(PERF_ATTR_SIZE, 4);
  attr.writeBigUInt64LE(retprobe ? 1n << BigInt(retprobeBit) : 0n, 8); // config
  attr.writeBigUInt64LE(koffi.address(name), 56); // config1 = kprobe_func
  attr.writeBigUInt64LE(0n, 64); // config2 = probe_offset
  const fd = Number(
    syscall(SYS_perf_event_open, 'void *', attr, 'int', -1, 'int', 0, 'int', -1, 'ulong', PERF_FLAG_FD_CLOEXEC),
  );
  if (fd < 0) throw new SyscallError(`perf_event_open(kprobe ${fn})`, koffi.errno());
  return fd;
}

/** BPF_LINK_CREATE of a kprobe program on a perf event (kernel >= 5.15). Returns the link fd. */
function linkPerfEvent(progFd, perfFd) {
  const attr = Buffer.alloc(BPF_ATTR_SIZE);
  attr.writeUInt32LE(progFd, 0);
  attr.writeUInt32LE(perfFd, 4);
  attr.writeUInt32LE(BPF_PERF_EVENT, 8);
  return bpf(BPF_LINK_CREATE, 'BPF_LINK_CREATE', attr);
}

/** The older attach: PERF_EVENT_IOC_SET_BPF then PERF_EVENT_IOC_ENABLE on the perf event fd. */
function ioctlSetBpf(progFd, perfFd) {
  if (ioctl(perfFd, PERF_EVENT_IOC_SET_BPF, 'int', progFd) < 0) {
    throw new SyscallError('ioctl(PERF_EVENT_IOC_SET_BPF)', koffi.errno());
  }
  if (ioctl(perfFd, PERF_EVENT_IOC_ENABLE, 'int', 0) < 0) {
    throw new SyscallError('ioctl(PERF_EVENT_IOC_ENABLE)', koffi.errno());
  }
}

/** BPF_RAW_TRACEPOINT_OPEN with no name attaches a loaded fentry/fexit program. Returns the link fd. */
function attachTracing(progFd) {
  const attr = Buffer.alloc(BPF_ATTR_SIZE);
  attr.writeBigUInt64LE(0n, 0);
  attr.writeUInt32LE(progFd, 8);
  return bpf(BPF_RAW_TRACEPOINT_OPEN, 'BPF_RAW_TRACEPOINT_OPEN', attr);
}

/** Bytes of type-specific data after each 12-byte btf_type header, by kind. */
function btfTrailerSize(kind, vlen) {
  switch (kind) {
    case 1:
      return 4; // INT
    case 3:
      return 12; // ARRAY
    case 4:
    case 5:
      return 12 * vlen; // STRUCT, UNION
    case 6:
      return 8 * vlen; // ENUM
    case 13:
      return 8 * vlen; // FUNC_PROTO
    case 14:
      return 4; // VAR
    case 15:
      return 12 * vlen; // DATASEC
    case 17:
      return 4; // DECL_TAG
    case 19:
      return 12 * vlen; // ENUM64
    default:
      return 0; // PTR, FWD, TYPEDEF, VOLATILE, CONST, RESTRICT, FUNC, FLOAT, TYPE_TAG
  }
}

/** The BTF id of the kernel function `fn` in /sys/kernel/btf/vmlinux (a linear scan). */
export function vmlinuxFuncId(fn) {
  const btf = readFileSync('/sys/kernel/btf/vmlinux');
  const hdrLen = btf.readUInt32LE(4);
  const typeOff = hdrLen + btf.readUInt32LE(8);
  const typeEnd = typeOff + btf.readUInt32LE(12);
  const strOff = hdrLen + btf.readUInt32LE(16);
  const wanted = Buffer.from(`${fn}\0`, 'latin1');
  let id = 1;
  for (let at = typeOff; at < typeEnd; id++) {
    const nameOff = btf.readUInt32LE(at);
    const info = btf.readUInt32LE(at + 4);
    const kind = (info >>> 24) & 0x1f;
    const vlen = info & 0xffff;
    // The name may sit at the very end of the string section: never compare past the buffer.
    const nameAt = strOff + nameOff;
    if (
      kind === 12 &&
      btf.compare(wanted, 0, wanted.length, nameAt, Math.min(btf.length, nameAt + wanted.length)) === 0
    ) {
      return id;
    }
    at += 12 + btfTrailerSize(kind, vlen);
  }
  throw new Error(`no function ${fn} in the vmlinux BTF`);
}

/** Send `count` UDP datagrams to ourselves over loopback and wait until all arrived. */
async function sendLoopbackDatagrams(count) {
  const rx = createSocket('udp4');
  const tx = createSocket('udp4');
  try {
    await new Promise((resolve) => rx.bind(0, '127.0.0.1', resolve));
    const { port } = rx.address();
    let received = 0;
    const allReceived = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${received} of ${count} datagrams arrived`)), 30_000);
      rx.on('message', () => {
        if (++received === count) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    for (let i = 0; i < count; i++) {
      await new Promise((resolve, reject) =>
        tx.send(`bpf-demo ${i}`, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())),
      );
    }
    await allReceived;
  } finally {
    rx.close();
    tx.close();
  }
}

/** The attach modes this demo tries, with how each loads and attaches the counting program. */
const modes = [
  { name: 'kprobe via BPF_LINK_CREATE', kind: 'kprobe', retprobe: false, attach: 'link' },
  { name: 'kprobe via PERF_EVENT_IOC_SET_BPF', kind: 'kprobe', retprobe: false, attach: 'ioctl' },
  { name: 'kretprobe via BPF_LINK_CREATE', kind: 'kprobe', retprobe: true, attach: 'link' },
  { name: 'fentry via BPF_RAW_TRACEPOINT_OPEN', kind: 'tracing', attachType: BPF_TRACE_FENTRY },
  { name: 'fexit via BPF_RAW_TRACEPOINT_OPEN', kind: 'tracing', attachType: BPF_TRACE_FEXIT },
];

/**
 * Attach the counting program to `fn` in one mode, send `packets` loopback datagrams, detach, and
 * return how many calls the program counted.
 */
export async function countCalls(mode, fn, packets) {
  const fds = [];
  try {
    const mapFd = createCounterMap();
    fds.push(mapFd);
    const insns = counterProgram(mapFd);
    if (mode.kind === 'kprobe') {
      const progFd = loadProgram({ type: BPF_PROG_TYPE_KPROBE, insns, name: 'bpfts_demo' });
      fds.push(progFd);
      const perfFd = openKprobeEvent(fn, mode.retprobe);
      fds.push(perfFd);
      if (mode.attach === 'link') fds.push(linkPerfEvent(progFd, perfFd));
      else ioctlSetBpf(progFd, perfFd);
    } else {
      const progFd = loadProgram({
        type: BPF_PROG_TYPE_TRACING,
        insns,
        name: 'bpfts_demo',
        expectedAttachType: mode.attachType,
        attachBtfId: vmlinuxFuncId(fn),
      });
      fds.push(progFd);
      fds.push(attachTracing(progFd));
    }
    await sendLoopbackDatagrams(packets);
    return readCounter(mapFd);
  } finally {
    // Closing the link/perf fds detaches the program; nothing stays attached.
    for (const fd of fds.reverse()) close(fd);
  }
}

async function main() {
  const { values } = parseArgs({
    options: {
      function: { type: 'string', default: '__netif_receive_skb' },
      packets: { type: 'string', default: '10' },
      json: { type: 'boolean', default: false },
    },
  });
  const packets = Number(values.packets);
  if (!Number.isInteger(packets) || packets < 1)
    throw new Error(`--packets takes a positive integer, not '${values.packets}'`);
  const results = [];
  for (const mode of modes) {
    try {
      const count = await countCalls(mode, values.function, packets);
      results.push({ mode: mode.name, ok: count >= packets, count });
    } catch (err) {
      results.push({ mode: mode.name, ok: false, error: err instanceof Error ? err.message : String(err) });
    }
  }
  if (values.json) {
    console.log(JSON.stringify({ function: values.function, packets, results }));
  } else {
    console.log(`${packets} loopback datagrams, calls to ${values.function} counted by BPF:`);
    for (const r of results) console.log(`  ${r.ok ? 'ok  ' : 'FAIL'} ${r.mode}: ${r.error ?? r.count}`);
  }
  return results.every((r) => r.ok) ? 0 : 1;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().then(
    (status) => process.exit(status),
    (err) => {
      console.error(`bpf-demo: ${err instanceof Error ? err.message : err}`);
      process.exit(1);
    },
  );
}
