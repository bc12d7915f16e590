import { describe, expect, it } from 'vitest';
import { Pcap2EbpfError } from './errors.js';
import * as api from './index.js';

/** The exported classes that are errors, by export name: a new one is enumerated here too. */
function exportedErrorClasses(...modules: object[]): Map<string, Function> {
  const out = new Map<string, Function>();
  for (const m of modules)
    for (const [name, value] of Object.entries(m))
      if (typeof value === 'function' && value.prototype instanceof Error) out.set(name, value);
  return out;
}

describe('one error root', () => {
  it('every error class pcap2ebpf exports derives from Pcap2EbpfError', () => {
    const errors = exportedErrorClasses(api);
    expect([...errors.keys()]).toEqual(expect.arrayContaining(['FilterError', 'LoweringError', 'CbpfError']));
    for (const [name, E] of errors)
      expect(E === Pcap2EbpfError || E.prototype instanceof Pcap2EbpfError, name).toBe(true);
  });
});
