import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { Btf } from 'btf-parser';
import { describe, expect, it } from 'vitest';
import { errnoName, errnoNames } from './errno.js';
import { formatReturn, returnFormat, ReturnFormats, type ReturnFormat } from './retval.js';

const btf61 = Btf.parse(
  gunzipSync(readFileSync(new URL('../../../btf/test/data/vmlinux-6.1.btf.gz', import.meta.url))),
);
const fmt = (name: string): ReturnFormat => returnFormat(btf61, btf61.typeByName(name, 'func').id);
const u64 = (v: bigint) => ({ hi: Number((v >> 32n) & 0xffffffffn), lo: Number(v & 0xffffffffn) });
const neg = (n: number) => u64(BigInt.asUintN(64, BigInt(n)));

describe('returnFormat (Debian 6.1 BTF)', () => {
  it('classifies the return types pwru meets', () => {
    expect(fmt('kfree_skb_reason')).toEqual({ kind: 'void' });
    expect(fmt('nf_hook_slow')).toEqual({ kind: 'int', size: 4, signed: true });
    expect(fmt('ip_rcv_core')).toEqual({ kind: 'ptr' });
    expect(fmt('skb_csum_hwoffload_help')).toEqual({ kind: 'int', size: 4, signed: true });
    expect(fmt('napi_gro_receive')).toMatchObject({ kind: 'enum', size: 4, type: 'enum gro_result' });
    expect(fmt('tcp_inbound_md5_hash')).toMatchObject({ kind: 'enum', type: 'enum skb_drop_reason' });
  });

  it('sees through typedefs: netdev_tx_t is enum netdev_tx, bool is a bool', () => {
    const xmit = fmt('loopback_xmit');
    expect(xmit).toMatchObject({ kind: 'enum', type: 'enum netdev_tx' });
    expect(formatReturn(xmit, { hi: 0, lo: 0 }).text).toBe('NETDEV_TX_OK');
    expect(fmt('skb_partial_csum_set')).toEqual({ kind: 'bool', size: 1 });
  });
});

describe('formatReturn', () => {
  const int: ReturnFormat = { kind: 'int', size: 4, signed: true };

  it('prints ints as signed decimal of their own size, ignoring the undefined upper half of rax', () => {
    expect(formatReturn(int, { hi: 0xdeadbeef, lo: 0 })).toEqual({ text: '0', value: 0 });
    expect(formatReturn(int, { hi: 0, lo: 1 })).toEqual({ text: '1', value: 1 });
    expect(formatReturn({ kind: 'int', size: 4, signed: false }, { hi: 0, lo: 0xffffffff })).toEqual({
      text: '4294967295',
      value: 4294967295,
    });
    expect(formatReturn({ kind: 'int', size: 2, signed: false }, { hi: 7, lo: 0x12345 })).toEqual({
      text: '9029',
      value: 0x2345,
    });
  });

  it('names negative errnos of int and long functions', () => {
    expect(formatReturn(int, neg(-1))).toEqual({ text: '-1 (EPERM)', value: -1 });
    expect(formatReturn(int, { hi: 0, lo: 0xffffffea })).toEqual({ text: '-22 (EINVAL)', value: -22 });
    expect(formatReturn({ kind: 'int', size: 8, signed: true }, neg(-105)).text).toBe('-105 (ENOBUFS)');
    expect(formatReturn(int, neg(-524)).text).toBe('-524 (ENOTSUPP)');
    // Beyond MAX_ERRNO, or without a name, or not a signed int: just the number.
    expect(formatReturn(int, neg(-4096)).text).toBe('-4096');
    expect(formatReturn(int, neg(-41)).text).toBe('-41');
    expect(formatReturn({ kind: 'int', size: 1, signed: true }, neg(-1)).text).toBe('-1');
  });

  it('keeps 64-bit values exact beyond 2^53', () => {
    expect(formatReturn({ kind: 'int', size: 8, signed: false }, u64(0xffffffffffffff00n))).toEqual({
      text: '18446744073709551360',
      value: '18446744073709551360',
    });
    expect(formatReturn({ kind: 'int', size: 8, signed: true }, u64(1n << 60n)).text).toBe(String(1n << 60n));
  });

  it('prints enums by enumerator name, and unknown values as numbers', () => {
    const xdp: ReturnFormat = {
      kind: 'enum',
      size: 4,
      signed: false,
      type: 'enum xdp_action',
      names: new Map([
        [0, 'XDP_ABORTED'],
        [1, 'XDP_DROP'],
        [2, 'XDP_PASS'],
      ]),
    };
    expect(formatReturn(xdp, { hi: 0x1234, lo: 2 })).toEqual({ text: 'XDP_PASS', value: 2 });
    expect(formatReturn(xdp, { hi: 0, lo: 9 })).toEqual({ text: '9', value: 9 });
  });

  it('prints bools as true/false from their own byte', () => {
    expect(formatReturn({ kind: 'bool', size: 1 }, { hi: 0, lo: 0x100 })).toEqual({ text: 'false', value: false });
    expect(formatReturn({ kind: 'bool', size: 1 }, { hi: 0, lo: 1 })).toEqual({ text: 'true', value: true });
  });

  it('prints pointers as hex, NULL, or the error pointer with its errno', () => {
    const ptr: ReturnFormat = { kind: 'ptr' };
    expect(formatReturn(ptr, { hi: 0xffff8881, lo: 0x0aa06ee0 })).toEqual({
      text: '0xffff88810aa06ee0',
      value: '0xffff88810aa06ee0',
    });
    expect(formatReturn(ptr, { hi: 0, lo: 0 })).toEqual({ text: 'NULL', value: '0x0' });
    expect(formatReturn(ptr, neg(-12))).toEqual({ text: 'ERR_PTR(-ENOMEM)', value: '0xfffffffffffffff4' });
    expect(formatReturn(ptr, neg(-4000)).text).toBe('ERR_PTR(-4000)');
    expect(formatReturn(ptr, neg(-4096)).text).toBe('0xfffffffffffff000');
  });
});

describe('ReturnFormats', () => {
  it('formats by FUNC-column name and treats unknown functions as long', () => {
    const f = new ReturnFormats(
      new Map<string, ReturnFormat>([
        ['ip_rcv_core', { kind: 'ptr' }],
        ['br_handle_frame[bridge]', { kind: 'int', size: 4, signed: false }],
      ]),
    );
    expect(f.format('ip_rcv_core', { hi: 0, lo: 0 }).text).toBe('NULL');
    expect(f.format('br_handle_frame[bridge]', neg(-1)).text).toBe('4294967295');
    expect(f.format('nowhere', neg(-2)).text).toBe('-2 (ENOENT)');
    // Cached values are the same objects.
    expect(f.format('ip_rcv_core', { hi: 0, lo: 0 })).toBe(f.format('ip_rcv_core', { hi: 0, lo: 0 }));
  });
});

describe('errnoName', () => {
  it('names errno-base, errno and kernel-internal codes', () => {
    expect(errnoName(1)).toBe('EPERM');
    expect(errnoName(11)).toBe('EAGAIN');
    expect(errnoName(95)).toBe('EOPNOTSUPP');
    expect(errnoName(512)).toBe('ERESTARTSYS');
    expect(errnoName(0)).toBeUndefined();
    expect(errnoName(520)).toBeUndefined();
  });

  const headers = ['/usr/include/asm-generic/errno-base.h', '/usr/include/asm-generic/errno.h'];
  it.skipIf(!headers.every((h) => existsSync(h)))(
    'agrees with every number in the kernel uapi headers (first name for aliases)',
    () => {
      const fromHeaders = new Map<number, string>();
      for (const h of headers) {
        for (const m of readFileSync(h, 'utf8').matchAll(/^#define\s+(E[A-Z0-9]+)\s+(\d+)\b/gm)) {
          if (!fromHeaders.has(Number(m[2]))) fromHeaders.set(Number(m[2]), m[1]!);
        }
      }
      expect(fromHeaders.size).toBeGreaterThan(120);
      const ours = new Map(errnoNames().filter(([n]) => n < 512));
      expect(ours).toEqual(fromHeaders);
    },
  );
});
