import { describe, expect, it } from 'vitest';
import { PwruError } from './errors.js';
import * as api from './index.js';
import * as internal from './internal.js';

/** The exported classes that are errors, by export name: a new one is enumerated here too. */
function exportedErrorClasses(...modules: object[]): Map<string, Function> {
  const out = new Map<string, Function>();
  for (const m of modules)
    for (const [name, value] of Object.entries(m))
      if (typeof value === 'function' && value.prototype instanceof Error) out.set(name, value);
  return out;
}

describe('one error root', () => {
  it('every error class pwru exports derives from PwruError', () => {
    const errors = exportedErrorClasses(api, internal);
    expect([...errors.keys()]).toEqual(
      expect.arrayContaining(['FlagParseError', 'NetnsError', 'KallsymsError', 'FilterExprError', 'TraceOptionError']),
    );
    for (const [name, E] of errors) expect(E === PwruError || E.prototype instanceof PwruError, name).toBe(true);
  });

  it('a flag error is caught by the root and printed as one line', async () => {
    const { parseArgs } = await import('./flags/parse.js');
    const { describeError } = await import('./run.js');
    let caught: unknown;
    try {
      parseArgs(['--filter-mark', 'nope']);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(PwruError);
    expect(describeError(caught)).not.toContain('\n');
  });
});
