import { describe, expect, it } from 'vitest';
import { Ksyms } from './ksyms.js';

const SAMPLE = [
  'ffffffff81000000 T _stext',
  'ffffffff81000100 T ip_rcv',
  'ffffffff81000100 D ip_rcv_alias_data',
  'ffffffff81000200 t ip_rcv_core',
  'ffffffff81000300 t dup_name',
  'ffffffff81000400 t dup_name',
  'ffffffff82000000 d some_data',
  'ffffffffc0a01000 t wg_packet_receive\t[wireguard]',
  'ffffffffc0b00000 t bpf_prog_3b185187f1855c4c_dummy\t[bpf]',
].join('\n');

const at = (hex: string) => ({ hi: parseInt(hex.slice(0, 8), 16), lo: parseInt(hex.slice(8), 16) });

describe('Ksyms', () => {
  const k = Ksyms.parse(SAMPLE);

  it('finds a function by its exact address, preferring text symbols', () => {
    expect(k.exact(at('ffffffff81000100'))).toBe('ip_rcv');
    expect(k.exact(at('ffffffff81000101'))).toBeUndefined();
  });

  it('finds the nearest symbol at or below an address (like upstream findNearestSym)', () => {
    expect(k.nearest(at('ffffffff81000250'))).toBe('ip_rcv_core');
    expect(k.nearest(at('ffffffffffffffff'))).toBe('bpf_prog_3b185187f1855c4c_dummy[bpf]');
    expect(k.nearest(at('ffffffff80000000'))).toBeUndefined();
  });

  it('spells module symbols name[mod], as upstream', () => {
    expect(k.exact(at('ffffffffc0a01000'))).toBe('wg_packet_receive[wireguard]');
  });

  it('keeps every address of a repeated name', () => {
    expect(k.addressesOf('dup_name')).toEqual([at('ffffffff81000300'), at('ffffffff81000400')]);
  });

  it('resolves many names in one scan, the same as one at a time, absent names empty', () => {
    const fresh = Ksyms.parse(SAMPLE);
    const many = fresh.addressesOfMany(['dup_name', 'wg_packet_receive[wireguard]', 'no_such_function']);
    expect(many.get('dup_name')).toEqual([at('ffffffff81000300'), at('ffffffff81000400')]);
    expect(many.get('wg_packet_receive[wireguard]')).toEqual([at('ffffffffc0a01000')]);
    expect(many.get('no_such_function')).toEqual([]);
    expect(k.addressesOfMany(['dup_name']).get('dup_name')).toEqual(k.addressesOf('dup_name'));
  });

  it('lists text symbols only', () => {
    const text = k.textSymbols();
    expect(text.has('ip_rcv_core')).toBe(true);
    expect(text.has('some_data')).toBe(false);
  });

  it('parses the real /proc/kallsyms when readable', () => {
    let real: Ksyms;
    try {
      real = Ksyms.load();
    } catch (e) {
      console.log(`skipped: ${(e as Error).message}`);
      return;
    }
    expect(real.size).toBeGreaterThan(1000);
    const [addr] = real.addressesOf('kfree_skbmem');
    if (addr) expect(real.exact(addr)).toBe('kfree_skbmem');
  });
});
