import { AssemblerError, AsmError } from '../errors.js';
import { HELPER_IDS } from '../helpers.generated.js';
import { Instruction, type InstructionMetadata } from '../instruction.js';
import { LD_IMM64, PseudoCall, PseudoLoad } from '../opcode.js';
import { Cursor, ParseFailure } from './cursor.js';
import { Lexer, type Token } from './lexer.js';
import { parseStatement, type Pending } from './statement.js';

/** Options of {@link parse} and {@link assemble}. */
export interface AssembleOptions {
  /** File name used in error messages; default `<input>`. */
  readonly file?: string;
}

/** Where each parsed instruction came from. */
export interface SourcePosition {
  /** 1-based line. */
  readonly line: number;
  /** 1-based column of the instruction's first token. */
  readonly column: number;
}

/** Result of {@link parse}: instructions (labels and references as metadata) and their positions. */
export interface ParsedProgram {
  /** Instructions in order; jump/call labels are `reference`s, not yet resolved. */
  readonly instructions: Instruction[];
  /** Source position of each instruction (same index); built on first access. */
  readonly positions: readonly SourcePosition[];
  /** Source position of instruction `index` (cheaper than {@link positions} for one lookup). */
  positionOf(index: number): SourcePosition | undefined;
}

/** Directives that switch to a data section, whose lines are skipped. */
const DATA_SECTION_DIRECTIVES = new Set(['.data', '.bss', '.rodata']);
/** Lines that can end a data section: everything else in one is skipped unread. */
const SECTION_SWITCH = /^\s*\.(?:section|text|data|bss|rodata)\b/;

/** Directives of compiler output that carry no instructions and are skipped. */
const IGNORED_DIRECTIVES = new Set([
  '.text',
  '.globl',
  '.global',
  '.section',
  '.p2align',
  '.align',
  '.type',
  '.size',
  '.file',
  '.ident',
  '.addrsig',
  '.addrsig_sym',
  '.local',
  '.weak',
  '.hidden',
  '.cfi_sections',
  '.cfi_startproc',
  '.cfi_endproc',
]);

/**
 * Parse LLVM-syntax BPF assembly into instructions. Labels become `symbol`s, jump and call
 * targets `reference`s (resolve them with {@link link}, or use {@link assemble}).
 * `call NAME` is a bpf-to-bpf call if NAME is a label in the text, a helper if it is a
 * `bpf_`-prefixed helper name, and a kfunc otherwise; `rN = NAME ll` loads a function pointer
 * if NAME is a label, else a map by name; `rN = NAME + OFF ll` a map value address.
 * @throws {AssemblerError} with file:line:col on the first bad line
 */
export function parse(source: string, options: AssembleOptions = {}): ParsedProgram {
  const file = options.file ?? '<input>';

  const instructions: Instruction[] = [];
  const lineOf: number[] = []; // plain number arrays: no object per instruction to keep alive
  const columnOf: number[] = [];
  const labels = new Set<string>();
  const pending: Pending[] = [];
  let pendingLabels: string[] = [];
  let pendingLabelAt: SourcePosition | undefined;

  const lexer = new Lexer();
  const cur = new Cursor();
  let inCode = true; // instructions come from executable sections; data sections (maps, license, BTF) are skipped
  // Walk the lines without splitting the source: the lexer reads each in place.
  for (let l = 0, start = 0; start <= source.length; l++) {
    let end = source.indexOf('\n', start);
    if (end < 0) end = source.length;
    const lineStart = start;
    start = end + 1;
    if (!inCode && !SECTION_SWITCH.test(source.slice(lineStart, Math.min(end, lineStart + 40)))) continue;
    if (!lexer.lex(source, lineStart, end))
      throw new AssemblerError(file, l + 1, lexer.error!.column, lexer.error!.message);
    cur.reset(lexer.tokens, lexer.count, end - lineStart);
    try {
      // A verifier-log style prefix `12: (85) ` (as print's `numbered` option writes) is skipped.
      if (
        cur.peek()?.kind === 'number' &&
        cur.is(':', 1) &&
        cur.is('(', 2) &&
        cur.peek(3) !== undefined &&
        cur.is(')', 4)
      ) {
        cur.loadImm64Hint = cur.peek(3)!.text === '18';
        cur.i += 5;
      }
      // Labels: `name:` (possibly several, possibly followed by an instruction).
      while (cur.peek()?.kind === 'ident' && cur.is(':', 1)) {
        const label = cur.next('label');
        if (labels.has(label.text)) cur.fail(`label '${label.text}' is already defined`, label.column);
        labels.add(label.text);
        pendingLabels.push(label.text);
        pendingLabelAt ??= { line: l + 1, column: label.column };
        cur.next(':');
      }
      const first = cur.peek();
      if (first === undefined) continue;
      if (first.kind === 'ident' && first.text.startsWith('.') && !cur.is(':', 1)) {
        if (first.text === '.text') inCode = true;
        else if (DATA_SECTION_DIRECTIVES.has(first.text)) inCode = false;
        else if (first.text === '.section') inCode = isCodeSection(cur);
        else if (!IGNORED_DIRECTIVES.has(first.text)) cur.fail(`unsupported directive '${first.text}'`);
        continue;
      }
      const column = first.column;
      let insn = parseStatement(cur, instructions.length, pending);
      cur.end();
      const comment =
        lexer.comment !== undefined && lexer.comment !== '' && !lexer.comment.startsWith('encoding:')
          ? lexer.comment
          : undefined;
      if (pendingLabels.length > 0 || comment !== undefined) {
        insn = insn.withMetadata({ symbol: pendingLabels[0], aliases: pendingLabels.slice(1), comment });
        pendingLabels = [];
        pendingLabelAt = undefined;
      }
      instructions.push(insn);
      lineOf.push(l + 1);
      columnOf.push(column);
    } catch (e) {
      if (e instanceof ParseFailure) throw new AssemblerError(file, l + 1, e.column, e.reason);
      if (e instanceof AsmError)
        throw new AssemblerError(file, l + 1, firstColumn(lexer.tokens, lexer.count), e.message);
      throw e;
    }
  }
  if (pendingLabels.length > 0) {
    // Compilers end functions with labels such as `.Lfunc_end0:`; harmless unless something jumps there.
    const referenced = pendingLabels.find((label) => instructions.some((insn) => insn.reference === label));
    if (referenced !== undefined) {
      throw new AssemblerError(
        file,
        pendingLabelAt!.line,
        pendingLabelAt!.column,
        `label '${referenced}' is not followed by an instruction`,
      );
    }
  }

  for (const p of pending) {
    const insn = instructions[p.index]!;
    if (p.kind === 'call') {
      if (labels.has(p.name)) {
        instructions[p.index] = new Instruction(insn.opcode, 0, PseudoCall.CALL, 0, 0, undefined, {
          ...meta(insn),
          reference: p.name,
        });
      } else if (p.name.startsWith('bpf_') && Object.hasOwn(HELPER_IDS, p.name.slice(4))) {
        const id = HELPER_IDS[p.name.slice(4) as keyof typeof HELPER_IDS];
        instructions[p.index] = new Instruction(insn.opcode, 0, PseudoCall.HELPER, 0, id, undefined, {
          ...meta(insn),
          reference: undefined,
        });
      } else {
        instructions[p.index] = new Instruction(insn.opcode, 0, PseudoCall.KFUNC, 0, 0, undefined, {
          ...meta(insn),
          reference: p.name,
        });
      }
    } else if (labels.has(p.name)) {
      instructions[p.index] = new Instruction(LD_IMM64, insn.dst, PseudoLoad.FUNC, 0, 0, 0n, meta(insn));
    }
  }
  let positions: SourcePosition[] | undefined;
  return {
    instructions,
    get positions() {
      positions ??= lineOf.map((line, i) => ({ line, column: columnOf[i]! }));
      return positions;
    },
    positionOf: (index) =>
      index >= 0 && index < lineOf.length ? { line: lineOf[index]!, column: columnOf[index]! } : undefined,
  };
}

/**
 * Whether `.section NAME[, "FLAGS"[, @type]]` at the cursor selects code: flags containing `x`,
 * or, without flags, a `.text` section.
 */
function isCodeSection(cur: Cursor): boolean {
  cur.i++;
  const name = cur.next('a section name');
  if (name.kind !== 'ident' && name.kind !== 'string')
    cur.fail(`expected a section name, found '${name.text}'`, name.column);
  if (cur.accept(',')) {
    const flags = cur.next('section flags');
    if (flags.kind !== 'string') cur.fail(`expected quoted section flags, found '${flags.text}'`, flags.column);
    return flags.text.includes('x');
  }
  return name.text === '.text' || name.text.startsWith('.text.');
}

function firstColumn(tokens: Token[], count: number): number {
  return count > 0 ? tokens[0]!.column : 1;
}

function meta(insn: Instruction): InstructionMetadata {
  return { ...insn.meta };
}
