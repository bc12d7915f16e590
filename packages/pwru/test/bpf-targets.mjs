// Test targets for --filter-trace-tc / --filter-trace-xdp: a tc and an XDP program, each with
// BTF func_info for two functions where the subprogram comes first in the BTF (and sorts first
// by name), so "the first function found" is the wrong entry (upstream's #404). The entry calls
// bpf_ktime_get_ns, a helper for --filter-track-bpf-helpers to find.
//
// Imported by tests, and run as a script inside a network namespace to attach the programs:
//   ip netns exec NS node bpf-targets.mjs IFACE
// prints one JSON line {"tc":<id>,"xdp":<id>,"tcVia":"tcx"|"tc"} once attached, and keeps them
// attached until stdin closes or SIGTERM.
import { BtfBuilder } from 'btf-parser';
import { call, callFunction, exit, Helper, link, Mov, R0, R6, R1 } from 'bpf-asm-ts';
import { attachTcLegacy, attachTcx, attachXdp, BtfHandle, Program, ProgramType } from 'bpf-loader-ts';

/** XDP_PASS. */
const XDP_PASS = 2;
/** TC_ACT_OK. */
const TC_ACT_OK = 0;

/**
 * Loads one program of `type` named `name` whose entry function is `entry` and which calls a
 * subprogram `sub`. Returns the program and the two functions' BTF ids.
 */
export function loadTwoFunctionProgram({ type, name, entry, sub, ctxStruct, verdict }) {
  const b = new BtfBuilder();
  const int = b.addInt('int', 4, { signed: true });
  const ctx = b.addPtr(b.addStruct(ctxStruct, 0, []));
  const proto = b.addFuncProto(int, [{ name: 'ctx', type: ctx }]);
  // The subprogram first: its FUNC has the lower type id.
  const subId = b.addFunc(sub, proto, 'static');
  const entryId = b.addFunc(entry, proto, 'global');
  const linked = link([
    Mov.reg(R6, R1).withSymbol(entry),
    // A helper call, for --filter-track-bpf-helpers (the JIT calls bpf_ktime_get_ns directly).
    call(Helper.ktime_get_ns),
    Mov.reg(R1, R6),
    callFunction(sub),
    Mov.imm(R0, verdict),
    exit(),
    Mov.imm(R0, 0).withSymbol(sub),
    exit(),
  ]);
  const subAt = linked.symbols.get(sub);
  const funcInfo = new Uint8Array(16);
  const v = new DataView(funcInfo.buffer);
  v.setUint32(0, 0, true);
  v.setUint32(4, entryId, true);
  v.setUint32(8, subAt, true);
  v.setUint32(12, subId, true);
  const btf = BtfHandle.load(b.build());
  try {
    const program = Program.load({ name, type, instructions: linked, btf: { fd: btf.fd, funcInfo } });
    return { program, entryId, subId };
  } finally {
    btf.close();
  }
}

/** The tc target: `tc_main` (entry) calling `a_tc_helper`. */
export function loadTcTarget(name = 'pwrut_tc') {
  return loadTwoFunctionProgram({
    type: ProgramType.SCHED_CLS,
    name,
    entry: 'tc_main',
    sub: 'a_tc_helper',
    ctxStruct: '__sk_buff',
    verdict: TC_ACT_OK,
  });
}

/** The XDP target: `xdp_main` (entry) calling `a_xdp_helper`. */
export function loadXdpTarget(name = 'pwrut_xdp') {
  return loadTwoFunctionProgram({
    type: ProgramType.XDP,
    name,
    entry: 'xdp_main',
    sub: 'a_xdp_helper',
    ctxStruct: 'xdp_md',
    verdict: XDP_PASS,
  });
}

async function main(iface) {
  const tc = loadTcTarget();
  const xdp = loadXdpTarget();
  const held = [];
  held.push(attachXdp(xdp.program, iface));
  let tcVia = 'tcx';
  try {
    held.push(attachTcx(tc.program, iface, 'ingress'));
  } catch {
    tcVia = 'tc'; // before Linux 6.6: a clsact cls_bpf filter
    held.push(attachTcLegacy(tc.program, iface, 'ingress'));
  }
  const done = () => {
    for (const h of held.reverse()) {
      try {
        h.close();
      } catch {
        // The namespace may be gone already.
      }
    }
    tc.program.close();
    xdp.program.close();
    process.exit(0);
  };
  process.on('SIGTERM', done);
  process.stdin.on('end', done);
  process.stdin.resume();
  process.stdout.write(`${JSON.stringify({ tc: tc.program.info().id, xdp: xdp.program.info().id, tcVia })}\n`);
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  main(process.argv[2]).catch((e) => {
    process.stderr.write(`${e.message}\n`);
    process.exit(1);
  });
}
