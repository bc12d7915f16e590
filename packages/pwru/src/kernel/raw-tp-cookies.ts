import { Helper } from 'bpf-asm-ts';
import { ProgramType, probeHelper } from 'bpf-loader-ts';

/**
 * Whether this kernel gives raw tracepoint programs `bpf_get_attach_cookie` (6.10+, which also
 * takes a cookie in BPF_RAW_TRACEPOINT_OPEN): the loader's helper probe, whose verifier rejects
 * the helper for raw_tp on older kernels.
 */
export function probeRawTpCookies(): boolean {
  return probeHelper(ProgramType.RAW_TRACEPOINT, Helper.get_attach_cookie).supported;
}
