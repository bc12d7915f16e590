import { describe, expect, it } from 'vitest';
import { UnknownHelperError } from './errors.js';
import { Helper, helperId, helperName, helpers } from './helper.js';

describe('helper table (generated from enum bpf_func_id)', () => {
  it('names helpers without the bpf_ prefix as properties', () => {
    expect(Helper.map_lookup_elem).toBe(1);
    expect(Helper.probe_read_kernel).toBe(113);
    expect(Helper.ringbuf_reserve).toBe(131);
    expect(Helper.get_func_ip).toBe(173);
  });

  it('looks names up with or without the prefix, and ids back to prefixed names', () => {
    expect(helperId('bpf_map_update_elem')).toBe(2);
    expect(helperId('map_update_elem')).toBe(2);
    expect(helperName(1)).toBe('bpf_map_lookup_elem');
    expect(helperName(100000)).toBeUndefined();
  });

  it('rejects unknown names with a typed error', () => {
    expect(() => helperId('bpf_no_such_helper')).toThrow(UnknownHelperError);
    expect(() => helperId('toString')).toThrow(UnknownHelperError);
    expect(() => helperId(0)).toThrow(/unknown BPF helper id 0/);
  });

  it('lists helpers in id order without gaps in the known range', () => {
    const list = helpers();
    expect(list[0]).toEqual(['bpf_map_lookup_elem', 1]);
    list.forEach(([, id], i) => expect(id).toBe(i + 1));
  });
});
