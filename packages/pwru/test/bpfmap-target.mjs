// Test target for --output-bpfmap: a tc program that, for every packet, stores value
// 0x05060708 (u64) under key 0x11223344 (u32) in a per-CPU hash map named `pwru_test_map`,
// then looks the key up. Per-CPU hashes are not inlined by the 6.1 verifier, so the JITed
// program calls htab_percpu_map_update_elem and htab_percpu_map_lookup_elem directly.
//
// Run as a script inside a network namespace:
//   ip netns exec NS node bpfmap-target.mjs IFACE
// prints one JSON line {"map":<map id>,"prog":<prog id>} once attached, and keeps the program
// attached until stdin closes or SIGTERM.
import { BtfBuilder } from 'btf-parser';
import { Add, call, exit, Helper, link, LoadMapPtr, Mov, R0, R1, R10, R2, R3, R4, StoreImm } from 'bpf-asm-ts';
import { attachTcLegacy, attachTcx, BpfMap, BtfHandle, MapType, Program, ProgramType } from 'bpf-loader-ts';

/** The map's name, key and value as the program writes them. */
export const TEST_MAP = { name: 'pwru_test_map', key: 0x11223344, value: 0x05060708 };

/** Loads the map and the tc program using it. */
export function loadBpfmapTarget() {
  const map = BpfMap.create({
    name: TEST_MAP.name,
    type: MapType.PERCPU_HASH,
    keySize: 4,
    valueSize: 8,
    maxEntries: 16,
  });
  const b = new BtfBuilder();
  const int = b.addInt('int', 4, { signed: true });
  const ctx = b.addPtr(b.addStruct('__sk_buff', 0, []));
  const entryId = b.addFunc('tc_map_main', b.addFuncProto(int, [{ name: 'ctx', type: ctx }]), 'global');
  const linked = link([
    StoreImm(R10, -4, TEST_MAP.key, 'u32').withSymbol('tc_map_main'),
    StoreImm(R10, -16, TEST_MAP.value, 'u64'),
    LoadMapPtr(R1, 'test_map'),
    Mov.reg(R2, R10),
    Add.imm(R2, -4),
    Mov.reg(R3, R10),
    Add.imm(R3, -16),
    Mov.imm(R4, 0),
    call(Helper.map_update_elem),
    LoadMapPtr(R1, 'test_map'),
    Mov.reg(R2, R10),
    Add.imm(R2, -4),
    call(Helper.map_lookup_elem),
    Mov.imm(R0, 0), // TC_ACT_OK
    exit(),
  ]);
  const funcInfo = new Uint8Array(8);
  new DataView(funcInfo.buffer).setUint32(4, entryId, true);
  const btf = BtfHandle.load(b.build());
  try {
    const program = Program.load({
      name: 'pwrut_map',
      type: ProgramType.SCHED_CLS,
      instructions: linked,
      maps: { test_map: map },
      btf: { fd: btf.fd, funcInfo },
    });
    return { map, program };
  } finally {
    btf.close();
  }
}

async function main(iface) {
  const { map, program } = loadBpfmapTarget();
  let held;
  try {
    held = attachTcx(program, iface, 'ingress');
  } catch {
    held = attachTcLegacy(program, iface, 'ingress'); // before Linux 6.6
  }
  const done = () => {
    try {
      held.close();
    } catch {
      // The namespace may be gone already.
    }
    program.close();
    map.close();
    process.exit(0);
  };
  process.on('SIGTERM', done);
  process.stdin.on('end', done);
  process.stdin.resume();
  process.stdout.write(`${JSON.stringify({ map: map.info().id, prog: program.info().id })}\n`);
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  main(process.argv[2]).catch((e) => {
    process.stderr.write(`${e.message}\n`);
    process.exit(1);
  });
}
