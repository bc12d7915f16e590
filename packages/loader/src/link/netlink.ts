import { errorFromErrno, type ErrnoContext } from '../errors.js';
import type { SyscallBackend } from '../sys/backend.js';

const AF_NETLINK = 16;
const SOCK_RAW = 3;
const SOCK_CLOEXEC = 0x80000;
const NETLINK_ROUTE = 0;
const NLMSG_ERROR = 2;

/** Netlink header flags. */
export const NlFlag = { REQUEST: 0x1, ACK: 0x4, EXCL: 0x200, CREATE: 0x400 } as const;

/** Builds one netlink message: header, a fixed family header, then attributes. */
export class NetlinkMessage {
  private readonly parts: Uint8Array[] = [];
  private length = 16;

  constructor(
    readonly type: number,
    readonly flags: number,
    fixed: Uint8Array,
  ) {
    this.push(fixed);
  }

  private push(b: Uint8Array): void {
    const padded = new Uint8Array((b.length + 3) & ~3);
    padded.set(b);
    this.parts.push(padded);
    this.length += padded.length;
  }

  /** Appends an attribute with raw bytes. */
  attr(type: number, data: Uint8Array): this {
    const h = new Uint8Array(4 + data.length);
    const v = new DataView(h.buffer);
    v.setUint16(0, 4 + data.length, true);
    v.setUint16(2, type, true);
    h.set(data, 4);
    this.push(h);
    return this;
  }

  /** Appends a NUL-terminated string attribute. */
  str(type: number, s: string): this {
    return this.attr(type, new TextEncoder().encode(`${s}\0`));
  }

  /** Appends a u32 attribute. */
  u32(type: number, value: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, value >>> 0, true);
    return this.attr(type, b);
  }

  /** Appends a nested attribute built by `build`. */
  nested(type: number, build: (m: NetlinkMessage) => void): this {
    const inner = new NetlinkMessage(0, 0, new Uint8Array(0));
    build(inner);
    return this.attr(type, inner.body());
  }

  /** The attributes (and fixed header) without the netlink header. */
  body(): Uint8Array {
    const out = new Uint8Array(this.length - 16);
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }

  /** The complete message with sequence number `seq`. */
  bytes(seq: number): Uint8Array {
    const body = this.body();
    const out = new Uint8Array(16 + body.length);
    const v = new DataView(out.buffer);
    v.setUint32(0, out.length, true);
    v.setUint16(4, this.type, true);
    v.setUint16(6, this.flags, true);
    v.setUint32(8, seq, true);
    out.set(body, 16);
    return out;
  }
}

let seq = 1;

/**
 * Sends one rtnetlink request and waits for its acknowledgement; throws the typed error the
 * kernel answered with. Opens and closes its own socket.
 */
export function rtnetlinkRequest(backend: SyscallBackend, msg: NetlinkMessage, ctx: ErrnoContext): void {
  const fd = backend.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) throw errorFromErrno(fd, { operation: 'open rtnetlink socket' });
  const s = seq++;
  const bytes = msg.bytes(s);
  const out = backend.alloc(bytes.length);
  const buf = backend.alloc(65536);
  try {
    out.bytes.set(bytes);
    const w = backend.send(fd, out, bytes.length, 0);
    if (w < 0) throw errorFromErrno(w, { operation: `${ctx.operation} (netlink send)` });
    for (;;) {
      const n = backend.recv(fd, buf, buf.size, 0);
      if (n < 0) throw errorFromErrno(n, { operation: `${ctx.operation} (netlink recv)` });
      let o = 0;
      while (o + 16 <= n) {
        const len = buf.view.getUint32(o, true);
        const type = buf.view.getUint16(o + 4, true);
        const mseq = buf.view.getUint32(o + 8, true);
        if (type === NLMSG_ERROR && mseq === s) {
          const err = buf.view.getInt32(o + 16, true);
          if (err < 0) throw errorFromErrno(err, ctx);
          return;
        }
        if (len < 16) break;
        o += (len + 3) & ~3;
      }
    }
  } finally {
    out.free();
    buf.free();
    backend.close(fd);
  }
}
