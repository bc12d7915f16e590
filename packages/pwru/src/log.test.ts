import { describe, expect, it } from 'vitest';
import { Logger } from './log.js';

describe('Logger', () => {
  const at = new Date(2026, 8, 16, 11, 8, 3);
  it('writes slog default-handler lines like upstream', () => {
    expect(Logger.format('INFO', 'Attaching kprobes', { via: 'kprobe-multi' }, at)).toBe(
      '2026/09/16 11:08:03 INFO Attaching kprobes via=kprobe-multi\n',
    );
    expect(Logger.format('INFO', 'Listening for events..', {}, at)).toBe(
      '2026/09/16 11:08:03 INFO Listening for events..\n',
    );
  });
  it('quotes values with spaces, quotes or equals signs', () => {
    expect(Logger.format('ERROR', 'Failed to run pwru', { error: 'no such "file"' }, at)).toBe(
      '2026/09/16 11:08:03 ERROR Failed to run pwru error="no such \\"file\\""\n',
    );
    expect(Logger.format('WARN', 'x', { a: '', b: 'k=v', c: 3 }, at)).toBe(
      '2026/09/16 11:08:03 WARN x a="" b="k=v" c=3\n',
    );
  });
  it('prints DEBUG lines only when enabled', () => {
    const lines: string[] = [];
    const log = new Logger((l) => lines.push(l));
    log.debug('hidden');
    log.debugEnabled = true;
    log.debug('shown');
    expect(lines.length).toBe(1);
    expect(lines[0]).toContain('DEBUG shown');
  });
});
