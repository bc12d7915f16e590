import type { Program } from 'bpf-loader-ts';

/** A loaded two-function target program and its functions' BTF ids. */
export interface TwoFunctionProgram {
  readonly program: Program;
  readonly entryId: number;
  readonly subId: number;
}

/** Loads a program whose entry function calls a subprogram listed first in its BTF. */
export function loadTwoFunctionProgram(o: {
  type: number;
  name: string;
  entry: string;
  sub: string;
  ctxStruct: string;
  verdict: number;
}): TwoFunctionProgram;
/** The tc target: `tc_main` (entry) calling `a_tc_helper`. */
export function loadTcTarget(name?: string): TwoFunctionProgram;
/** The XDP target: `xdp_main` (entry) calling `a_xdp_helper`. */
export function loadXdpTarget(name?: string): TwoFunctionProgram;
