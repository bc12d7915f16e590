import { BpfError } from '../errors.js';
import { errnoName } from '../sys/errno.js';

const INSN_LINE = /^(\d+): \([0-9a-f]{2}\) (.*)$/;
const NOISE = [
  /^processed \d+ insns/,
  /^verification time/,
  /^stack depth/,
  /^mark_precise/,
  /^\s*$/,
  /^-- END PROG LOAD LOG --/,
];

/** What {@link VerifierError} found in the log. */
export interface VerifierFailure {
  /** The line explaining the rejection (e.g. `R0 !read_ok`). */
  readonly reason: string;
  /** Slot index of the last instruction the verifier printed before rejecting, if any. */
  readonly instruction?: number;
  /** That instruction as the verifier printed it (`r0 = *(u32 *)(r1 +0)`). */
  readonly instructionText?: string;
}

/** Finds the rejecting line and instruction in a verifier log. */
export function analyzeVerifierLog(lines: readonly string[]): VerifierFailure {
  let reason = '';
  let reasonAt = -1;
  for (let i = lines.length - 1; i >= 0; i--) {
    const l = lines[i]!;
    if (NOISE.some((re) => re.test(l))) continue;
    reason = l.trim();
    reasonAt = i;
    break;
  }
  for (let i = reasonAt; i >= 0; i--) {
    const m = INSN_LINE.exec(lines[i]!);
    if (m) {
      if (i === reasonAt) reason = lines[i]!.trim();
      return { reason, instruction: Number(m[1]), instructionText: m[2]!.trim() };
    }
  }
  return { reason: reason || 'no verifier log' };
}

/** The verifier rejected a program. `message` is one line; `log` keeps everything. */
export class VerifierError extends BpfError {
  /** The errno of the failed load (EACCES for most rejections, EINVAL for malformed programs). */
  readonly errno: number;
  /** The whole verifier log, line by line. */
  readonly log: readonly string[];
  /** The rejecting line. */
  readonly reason: string;
  /** Slot index of the rejected instruction, if the log names one. */
  readonly instruction?: number;
  /** The verifier's rendering of that instruction. */
  readonly instructionText?: string;
  /** The generator's comment (provenance) for that instruction, if known. */
  readonly comment?: string;
  /** Whether the log was cut short (log buffer limit reached). */
  readonly truncated: boolean;

  constructor(
    program: string,
    errno: number,
    log: readonly string[],
    truncated: boolean,
    commentAt?: (slot: number) => string | undefined,
  ) {
    const f = analyzeVerifierLog(log);
    const comment = f.instruction !== undefined ? commentAt?.(f.instruction) : undefined;
    const where =
      f.instruction !== undefined && !f.reason.startsWith(`${f.instruction}:`)
        ? ` at insn ${f.instruction} (${f.instructionText})`
        : '';
    super(
      `verifier rejected program ${program} (${errnoName(errno)}): ${f.reason}${where}${comment ? ` [${comment}]` : ''}`,
    );
    this.errno = errno;
    this.log = log;
    this.reason = f.reason;
    if (f.instruction !== undefined) this.instruction = f.instruction;
    if (f.instructionText !== undefined) this.instructionText = f.instructionText;
    if (comment !== undefined) this.comment = comment;
    this.truncated = truncated;
  }

  /** The full log as one string. */
  get logText(): string {
    return this.log.join('\n');
  }
}
