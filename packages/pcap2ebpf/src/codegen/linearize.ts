/**
 * Block graph to instruction array, exactly as libpcap's `icode_to_fcode`/`convert_code_r`: a
 * walk (false edge first, then true) that fills the array back to front, with an extra `ja` for
 * branches farther than 255 instructions.
 */
import type { CbpfInstruction } from '../cbpf/instruction.js';
import { BPF_JA, BPF_JMP, bpfClass } from '../cbpf/opcode.js';
import type { Block, Stmt } from './blocks.js';

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
    // Iterative walks (no recursion): filters with thousands of blocks must not exhaust the JS stack.
    let n = 0;
    const todo: Array<Block | undefined> = [root];
    while (todo.length > 0) {
      const p = todo.pop();
      if (!p || p.mark === m1) continue;
      p.mark = m1;
      n += slength(p.stmts) + 1 + p.longjt + p.longjf;
      todo.push(p.jf, p.jt);
    }
    const out: CbpfInstruction[] = Array.from({ length: n }, () => ({ code: 0, jt: 0, jf: 0, k: 0 }));
    let tail = n;
    const m2 = nextMark();
    // libpcap restarts at the first branch that needs an extra `ja`. Distances only grow when jumps are
    // added, so marking every too-long branch of a pass and then restarting reaches the same final
    // layout in a few passes instead of one per long branch.
    let retry = false;
    /** Places one block whose successors are already placed (`convert_code_r` after its recursion). */
    const place = (p: Block): void => {
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
            retry = true;
            return;
          }
          d.jt = extra;
          extra++;
          out[dst + extra] = { code: BPF_JMP | BPF_JA, jt: 0, jf: 0, k: (o - extra) >>> 0 };
        } else d.jt = o;
        o = p.jf!.offset - (p.offset + slen) - 1;
        if (o >= 256) {
          if (p.longjf === 0) {
            p.longjf++;
            retry = true;
            return;
          }
          d.jf = extra;
          extra++;
          out[dst + extra] = { code: BPF_JMP | BPF_JA, jt: 0, jf: 0, k: (o - extra) >>> 0 };
        } else d.jf = o;
      }
    };
    // Post-order, false edge first, as convert_code_r recurses.
    const convert = (root: Block): void => {
      const frames: Array<{ p: Block | undefined; stage: number }> = [{ p: root, stage: 0 }];
      while (frames.length > 0) {
        const f = frames[frames.length - 1]!;
        const p = f.p;
        if (f.stage === 0) {
          if (!p || p.mark === m2) {
            frames.pop();
            continue;
          }
          p.mark = m2;
          f.stage = 1;
          frames.push({ p: p.jf, stage: 0 });
        } else if (f.stage === 1) {
          f.stage = 2;
          frames.push({ p: p!.jt, stage: 0 });
        } else {
          frames.pop();
          place(p!);
        }
      }
    };
    convert(root);
    if (!retry) return out;
  }
}
