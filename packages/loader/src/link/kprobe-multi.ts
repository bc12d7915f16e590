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
    throw new InvalidArgumentError(
      Errno.EINVAL,
      'attach kprobe-multi',
      'give either symbols or addresses, and at least one',
    );
  }
  if (opts.cookies && opts.cookies.length !== n) {
    throw new InvalidArgumentError(
      Errno.EINVAL,
      'attach kprobe-multi',
      `${opts.cookies.length} cookies for ${n} functions`,
    );
  }
  const owned: NativeMemory[] = [];
  try {
    let syms: NativeMemory | undefined;
    let addrs: NativeMemory | undefined;
    if (opts.symbols) {
      // One NUL-separated pool and an array of pointers into it, written without a TextEncoder
      // call or a BigInt per symbol: thousands of symbols are common (pwru attaches ~1,500).
      const pool = b.alloc(opts.symbols.reduce((a, s) => a + Buffer.byteLength(s) + 1, 0));
      owned.push(pool);
      syms = b.alloc(n * 8);
      owned.push(syms);
      const joined = Buffer.from(opts.symbols.join('\0') + '\0');
      pool.bytes.set(joined);
      let off = 0;
      for (let i = 0; i < n; i++) {
        const address = pool.address + off;
        syms.view.setUint32(i * 8, address % 0x1_0000_0000, true);
        syms.view.setUint32(i * 8 + 4, Math.floor(address / 0x1_0000_0000), true);
        off = joined.indexOf(0, off) + 1;
      }
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
          EINVAL:
            'the program must be loaded with expected attach type TRACE_KPROBE_MULTI, and every symbol must exist exactly once',
          EOPNOTSUPP: 'this kernel has no kprobe-multi (needs 5.18+ with CONFIG_FPROBE)',
          ENOTSUPP: 'this kernel has no kprobe-multi (needs 5.18+ with CONFIG_FPROBE)',
          // Symbols the kernel cannot resolve come back as ESRCH (ftrace_lookup_symbols).
          ESRCH: opts.symbols
            ? 'one of the functions is not traceable on this kernel (absent, inlined, or notrace)'
            : 'one of the addresses is not a function entry',
          E2BIG: `too many functions (${n}) for one link`,
        },
      });
    }
    return new Link(r, b, `kprobe-multi (${n} functions)`);
  } finally {
    for (const m of owned) m.free();
  }
}
