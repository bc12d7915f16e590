import { Instruction } from '../instruction.js';

/** Options of {@link labelTargets}. */
export interface LabelOptions {
  /** Prefix of jump-target labels; the slot index follows (`LBB5`). Default `LBB`. */
  readonly jumpPrefix?: string;
  /** Prefix of subprogram labels (targets of bpf-to-bpf calls and function pointers). Default `fn_`. */
  readonly functionPrefix?: string;
}

/**
 * Give decoded code readable control flow: every jump, bpf-to-bpf call and function-pointer
 * target gets a label (kept if it already has a symbol), and the instructions that reach it
 * refer to it by name. Printing the result shows `goto LBB12` instead of `goto +7`, and it
 * assembles and links back to the same bytes. Targets outside the program stay numeric.
 */
export function labelTargets(insns: readonly Instruction[], options: LabelOptions = {}): Instruction[] {
  const jumpPrefix = options.jumpPrefix ?? 'LBB';
  const functionPrefix = options.functionPrefix ?? 'fn_';
  const slotOf: number[] = [];
  const indexOfSlot = new Map<number, number>();
  let slot = 0;
  for (let i = 0; i < insns.length; i++) {
    slotOf.push(slot);
    indexOfSlot.set(slot, i);
    slot += insns[i]!.slots;
  }

  // Target slot of each instruction that transfers control or points at code, if inside the program.
  const targetOf = (insn: Instruction, at: number): number | undefined => {
    let distance: number | undefined;
    if (insn.isJump) distance = insn.isLongJump ? insn.imm : insn.offset;
    else if (insn.isFunctionCall || insn.isFunctionPointer) distance = insn.imm;
    if (distance === undefined) return undefined;
    const target = at + 1 + distance;
    return indexOfSlot.has(target) ? target : undefined;
  };

  const names = new Map<number, string>(); // target slot -> label
  insns.forEach((insn, i) => {
    const target = targetOf(insn, slotOf[i]!);
    if (target === undefined || !(insn.isFunctionCall || insn.isFunctionPointer)) return;
    names.set(target, insns[indexOfSlot.get(target)!]!.symbol ?? `${functionPrefix}${target}`);
  });
  insns.forEach((insn, i) => {
    const target = targetOf(insn, slotOf[i]!);
    if (target === undefined || names.has(target)) return;
    names.set(target, insns[indexOfSlot.get(target)!]!.symbol ?? `${jumpPrefix}${target}`);
  });

  return insns.map((insn, i) => {
    let out = insn;
    const own = names.get(slotOf[i]!);
    if (own !== undefined && insn.symbol === undefined) out = out.withSymbol(own);
    const target = targetOf(insn, slotOf[i]!);
    if (target !== undefined && insn.reference === undefined) out = out.withReference(names.get(target));
    return out;
  });
}
