/**
 * XDP test programs that emit one fixed record per run to a ring buffer or perf event array,
 * so BPF_PROG_TEST_RUN with `repeat: N` produces exactly N records (or counted failures).
 */
import {
  Add,
  Atomic,
  call,
  exit,
  Helper,
  JEq,
  JSGE,
  LoadImm64,
  LoadMapPtr,
  Mov,
  R0,
  R1,
  R2,
  R3,
  R4,
  R5,
  R6,
  R10,
  StoreImm,
  link,
  type LinkedProgram,
} from 'bpf-asm-ts';

/** The record: `size` bytes, byte i = (i * 7 + 3) & 0xff (size a multiple of 8). */
export function expectedRecord(size: number): Uint8Array {
  return Uint8Array.from({ length: size }, (_, i) => (i * 7 + 3) & 0xff);
}

/**
 * Emits `size` bytes per run into map "events" ('ringbuf' or 'perf'); when the output helper
 * fails (buffer full), increments the per-CPU u64 at key 0 of map "lost".
 */
export function emitterProgram(output: 'ringbuf' | 'perf', size: number): LinkedProgram {
  const rec = expectedRecord(size);
  const stores = [];
  for (let o = 0; o < size; o += 4) {
    const v = rec[o]! | (rec[o + 1]! << 8) | (rec[o + 2]! << 16) | (rec[o + 3]! << 24);
    stores.push(StoreImm(R10, -size + o, v | 0, 'u32'));
  }
  return link([
    Mov.reg(R6, R1),
    ...stores,
    ...(output === 'ringbuf'
      ? [
          LoadMapPtr(R1, 'events'),
          Mov.reg(R2, R10),
          Add.imm(R2, -size),
          Mov.imm(R3, size),
          Mov.imm(R4, 0),
          call(Helper.ringbuf_output),
        ]
      : [
          Mov.reg(R1, R6),
          LoadMapPtr(R2, 'events'),
          LoadImm64(R3, 0xffffffffn),
          Mov.reg(R4, R10),
          Add.imm(R4, -size),
          Mov.imm(R5, size),
          call(Helper.perf_event_output),
        ]),
    JSGE.imm(R0, 0, 'out'),
    StoreImm(R10, -size - 4, 0, 'u32'),
    LoadMapPtr(R1, 'lost'),
    Mov.reg(R2, R10),
    Add.imm(R2, -size - 4),
    call(Helper.map_lookup_elem),
    JEq.imm(R0, 0, 'out'),
    Mov.imm(R1, 1),
    Atomic.add(R0, 0, R1, 'u64'),
    Mov.imm(R0, 2).withSymbol('out'),
    exit(),
  ]);
}
