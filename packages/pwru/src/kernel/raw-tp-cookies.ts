import { call, exit, Helper, Mov, R0 } from 'bpf-asm-ts';
import { Program, ProgramType } from 'bpf-loader-ts';

/**
 * Whether this kernel gives raw tracepoint programs `bpf_get_attach_cookie` (6.10+, which also
 * takes a cookie in BPF_RAW_TRACEPOINT_OPEN): loads a two-call raw_tp program that asks for it.
 * Older verifiers reject the helper for raw_tp ("unknown func"), so the load fails.
 */
export function probeRawTpCookies(): boolean {
  try {
    const prog = Program.load({
      type: ProgramType.RAW_TRACEPOINT,
      name: 'pwru_probe_ck',
      instructions: [call(Helper.get_attach_cookie), Mov.imm(R0, 0), exit()],
    });
    prog.close();
    return true;
  } catch {
    return false;
  }
}
