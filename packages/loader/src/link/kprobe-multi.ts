import { errorFromErrno, InvalidArgumentError } from '../errors.js';
import type { Program } from '../prog/program.js';
import type { NativeMemory } from '../sys/backend.js';
import { Errno } from '../sys/errno.js';
import { AttachType } from '../sys/generated/constants.js';
import { Link, linkCreateRaw } from './link.js';

/** Options of {@link attachKprobeMulti}: exactly one of `symbols` and `addresses`. */
export interface KprobeMultiOptions {
  /** Function names (resolved by the kernel through kallsyms; must be unique symbols). */
  readonly symbols?: readonly string[];
  /** Function addresses (from /proc/kallsyms), for duplicate names and module functions. */
  readonly addresses?: readonly bigint[];
  /** One cookie per function, returned by bpf_get_attach_cookie(). */
  readonly cookies?: readonly bigint[];
  /** Attach at function return. */
  readonly retprobe?: boolean;
}

/** BPF_F_KPROBE_MULTI_RETURN. */
export const KPROBE_MULTI_RETURN = 1;

/**
 * Attaches one kprobe.multi program (expected attach type TRACE_KPROBE_MULTI) to many
 * functions with one BPF_LINK_CREATE (Linux 5.18+, CONFIG_FPROBE).
 */
export function attachKprobeMulti(prog: Program, opts: KprobeMultiOptions): Link {
  const b = prog.backend;
  const n = opts.symbols?.length ?? opts.addresses?.length ?? 0;
  if (n === 0 || (opts.symbols && opts.addresses)) {
    throw new InvalidArgumentError(Errno.EINVAL, 'attach kprobe-multi', 'give either symbols or addresses, and at least one');
  }
  if (opts.cookies && opts.cookies.length !== n) {
    throw new InvalidArgumentError(Errno.EINVAL, 'attach kprobe-multi', `${opts.cookies.length} cookies for ${n} functions`);
  }
  const owned: NativeMemory[] = [];
  try {
    let syms: NativeMemory | undefined;
    let addrs: NativeMemory | undefined;
    if (opts.symbols) {
      const enc = new TextEncoder();
      const strings = opts.symbols.map((s) => enc.encode(s));
      const pool = b.alloc(strings.reduce((a, s) => a + s.length + 1, 0));
      owned.push(pool);
      syms = b.alloc(n * 8);
      owned.push(syms);
      let off = 0;
      strings.forEach((s, i) => {
        pool.bytes.set(s, off);
        syms!.view.setBigUint64(i * 8, BigInt(pool.address + off), true);
        off += s.length + 1;
      });
    } else {
      addrs = b.alloc(n * 8);
      owned.push(addrs);
      opts.addresses!.forEach((a, i) => addrs!.view.setBigUint64(i * 8, a, true));
    }
    let cookies: NativeMemory | undefined;
    if (opts.cookies) {
      cookies = b.alloc(n * 8);
      owned.push(cookies);
      opts.cookies.forEach((c, i) => cookies!.view.setBigUint64(i * 8, c, true));
    }
    const r = linkCreateRaw(b, {
      progFd: prog.fd,
      attachType: AttachType.TRACE_KPROBE_MULTI,
      kprobeMultiFlags: opts.retprobe ? KPROBE_MULTI_RETURN : 0,
      kprobeMultiCnt: n,
      kprobeMultiSyms: syms?.address,
      kprobeMultiAddrs: addrs?.address,
      kprobeMultiCookies: cookies?.address,
    });
    if (r < 0) {
      throw errorFromErrno(r, {
        operation: `attach kprobe-multi (${n} functions)`,
        hints: {
          ENOENT: 'one of the functions is not traceable on this kernel (absent, inlined, or notrace)',
          EINVAL: 'the program must be loaded with expected attach type TRACE_KPROBE_MULTI, and every symbol must exist exactly once',
          EOPNOTSUPP: 'this kernel has no kprobe-multi (needs 5.18+ with CONFIG_FPROBE)',
          ENOTSUPP: 'this kernel has no kprobe-multi (needs 5.18+ with CONFIG_FPROBE)',
          // Symbols the kernel cannot resolve come back as ESRCH (ftrace_lookup_symbols).
          ESRCH: opts.symbols ? 'one of the functions is not traceable on this kernel (absent, inlined, or notrace)' : 'one of the addresses is not a function entry',
          E2BIG: `too many functions (${n}) for one link`,
        },
      });
    }
    return new Link(r, b, `kprobe-multi (${n} functions)`);
  } finally {
    for (const m of owned) m.free();
  }
}
