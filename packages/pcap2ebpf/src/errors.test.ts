import { describe, expect, it } from 'vitest';
import { CbpfError, FilterError, LoweringError, Pcap2EbpfError } from './index.js';
import { UsageError } from './cli/args.js';
import { compileFilter } from './compile.js';

describe('one error root', () => {
  it('every error class this package throws is a Pcap2EbpfError', () => {
    for (const E of [CbpfError, FilterError, LoweringError, UsageError])
      expect(E.prototype).toBeInstanceOf(Pcap2EbpfError);
  });

  it('a bad filter is caught by the root', () => {
    expect(() => compileFilter('tcp port', { linktype: 'EN10MB' })).toThrow(Pcap2EbpfError);
  });
});
