/**
 * Block graph to instruction array, exactly as libpcap's `icode_to_fcode`/`convert_code_r`: a
 * recursive walk (false edge first, then true) that fills the array back to front, with an extra
 * `ja` for branches farther than 255 instructions.
 */
import type { CbpfInstruction } from '../cbpf/instruction.js';
import { BPF_JA, BPF_JMP, bpfClass } from '../cbpf/opcode.js';
import type { Block, Stmt } from './blocks.js';

class RetryLongJump extends Error {}

let markCounter = 0;
const nextMark = (): number => ++markCounter;

function slength(s: Stmt | undefined): number {
  let n = 0;
  for (; s; s = s.next) n++;
  return n;
}

/** Converts the block graph rooted at `root` to classic BPF. */
export function linearize(root: Block): CbpfInstruction[] {
  for (;;) {
    const m1 = nextMark();
    const count = (p: Block | undefined): number => {
      if (!p || p.mark === m1) return 0;
      p.mark = m1;
      const n = count(p.jt) + count(p.jf);
      return slength(p.stmts) + n + 1 + p.longjt + p.longjf;
    };
    const n = count(root);
    const out: CbpfInstruction[] = Array.from({ length: n }, () => ({ code: 0, jt: 0, jf: 0, k: 0 }));
    let tail = n;
    const m2 = nextMark();
    const convert = (p: Block | undefined): void => {
      if (!p || p.mark === m2) return;
      p.mark = m2;
      convert(p.jf);
      convert(p.jt);
      const slen = slength(p.stmts);
      tail -= slen + 1 + p.longjt + p.longjf;
      let dst = tail;
      p.offset = dst;
      const offsets: Stmt[] = [];
      for (let s = p.stmts; s; s = s.next) offsets.push(s);
      let off = 0;
      for (let src = p.stmts; src; src = src.next, dst++, off++) {
        const d = out[dst]!;
        d.code = src.code;
        d.k = src.k;
        if (bpfClass(src.code) !== BPF_JMP || src.code === (BPF_JMP | BPF_JA)) continue;
        if (off === slen - 2) continue;
        let jt = 0;
        let jf = 0;
        for (let i = 0; i < slen; i++) {
          if (offsets[i] === src.jt) {
            d.jt = i - off - 1;
            jt++;
          }
          if (offsets[i] === src.jf) {
            d.jf = i - off - 1;
            jf++;
          }
        }
        if (jt !== 1 || jf !== 1) throw new Error(`internal: bad block-local jump at statement ${off}`);
      }
      const d = out[dst]!;
      d.code = p.code;
      d.k = p.k;
      if (p.jt) {
        let extra = 0;
        let o = p.jt.offset - (p.offset + slen) - 1;
        if (o >= 256) {
          if (p.longjt === 0) {
            p.longjt++;
            throw new RetryLongJump();
          }
          d.jt = extra;
          extra++;
          out[dst + extra] = { code: BPF_JMP | BPF_JA, jt: 0, jf: 0, k: (o - extra) >>> 0 };
        } else d.jt = o;
        o = p.jf!.offset - (p.offset + slen) - 1;
        if (o >= 256) {
          if (p.longjf === 0) {
            p.longjf++;
            throw new RetryLongJump();
          }
          d.jf = extra;
          extra++;
          out[dst + extra] = { code: BPF_JMP | BPF_JA, jt: 0, jf: 0, k: (o - extra) >>> 0 };
        } else d.jf = o;
      }
    };
    try {
      convert(root);
      return out;
    } catch (e) {
      if (!(e instanceof RetryLongJump)) throw e;
    }
  }
}
