/** eBPF registers. R0 holds return values, R1-R5 arguments, R6-R9 are callee-saved, R10 the read-only frame pointer. */

/** A register number, 0 to 10. */
export type Register = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10;

/** Return value of calls and of the program. */
export const R0: Register = 0;
/** First argument (the context pointer on entry). */
export const R1: Register = 1;
/** Second argument. */
export const R2: Register = 2;
/** Third argument. */
export const R3: Register = 3;
/** Fourth argument. */
export const R4: Register = 4;
/** Fifth argument. */
export const R5: Register = 5;
/** Callee-saved. */
export const R6: Register = 6;
/** Callee-saved. */
export const R7: Register = 7;
/** Callee-saved. */
export const R8: Register = 8;
/** Callee-saved. */
export const R9: Register = 9;
/** Read-only frame pointer (top of the 512-byte stack). */
export const R10: Register = 10;
/** Alias of {@link R10}. */
export const RFP: Register = 10;

/** Number of registers (R0 to R10). */
export const REGISTER_COUNT = 11;

/** True if `n` is a valid register number. */
export function isRegister(n: number): n is Register {
  return Number.isInteger(n) && n >= 0 && n <= 10;
}
