import { release } from 'node:os';
import { describe, expect, it } from 'vitest';
import { probeRawTpCookies } from './raw-tp-cookies.js';

const [major = 0, minor = 0] = release()
  .split('.')
  .map((x) => parseInt(x, 10));

describe.skipIf(process.getuid?.() !== 0)('probeRawTpCookies', () => {
  it('says raw_tp programs get bpf_get_attach_cookie from Linux 6.10 on, and not before', () => {
    expect(probeRawTpCookies()).toBe(major > 6 || (major === 6 && minor >= 10));
  });
});
