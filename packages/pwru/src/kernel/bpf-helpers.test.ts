import { describe, expect, it } from 'vitest';
import { defaultOptions } from '../flags/spec.js';
import { Ksyms } from '../ksyms.js';
import { Logger } from '../log.js';
import { withBpfHelpers } from './bpf-helpers.js';

describe.skipIf(process.arch !== 'x64')('--filter-track-bpf-helpers', () => {
  it('adds the functions BPF programs call to the non-skb functions and tracks by stack id, as upstream', () => {
    const logs: string[] = [];
    const opts = { ...defaultOptions(), filterTrackBpfHelpers: true, filterNonSkbFuncs: ['bpf_map_lookup_elem'] };
    const out = withBpfHelpers(
      opts,
      new Logger((l) => logs.push(l)),
      () => ['bpf_ktime_get_ns', 'bpf_map_lookup_elem', 'nf_conntrack_in[nf_conntrack]'],
      () => Ksyms.parse(''),
    );
    expect(out.filterNonSkbFuncs).toEqual(['bpf_map_lookup_elem', 'bpf_ktime_get_ns']);
    expect(out.filterTrackSkbByStackid).toBe(true);
    expect(opts.filterNonSkbFuncs).toEqual(['bpf_map_lookup_elem']); // the caller's options are untouched
    expect(logs.map((l) => l.replace(/^\S+ \S+ /, ''))).toEqual([
      'INFO Found functions called by BPF programs count=2\n',
    ]);
  });
});
