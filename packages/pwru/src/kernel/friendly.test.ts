import { PermissionError, VerifierError } from 'bpf-loader-ts';
import { describe, expect, it } from 'vitest';
import { PwruError } from '../errors.js';
import { friendly, ROOT_HINT } from './loader-session.js';

describe('friendly: one actionable line for a loader failure', () => {
  it('keeps the hint the loader gave for an EPERM, once (no second "run as root")', () => {
    const e = friendly(
      new PermissionError(
        1,
        'BPF_PROG_LOAD tracing "pwru_fe_0"',
        'run as root or grant CAP_BPF+CAP_PERFMON (+CAP_NET_ADMIN for tc/xdp)',
      ),
      'load the program for fentry ip_rcv',
    );
    expect(e).toBeInstanceOf(PwruError);
    expect(e.message).toBe(
      'cannot load the program for fentry ip_rcv: BPF_PROG_LOAD tracing "pwru_fe_0": EPERM (operation not permitted) — run as root or grant CAP_BPF+CAP_PERFMON (+CAP_NET_ADMIN for tc/xdp)',
    );
    expect(e.message.match(/as root/g)).toHaveLength(1);
  });

  it("adds pwru's own hint to an EPERM that came without one", () => {
    const e = friendly(new PermissionError(1, 'BPF_MAP_CREATE ringbuf "events"'), 'create BPF maps');
    expect(e.message).toBe(
      `cannot create BPF maps: BPF_MAP_CREATE ringbuf "events": EPERM (operation not permitted) — ${ROOT_HINT}`,
    );
  });

  it('passes a verifier rejection through with what was being done', () => {
    const e = friendly(
      new VerifierError(
        '"p"',
        13,
        ['0: (79) r1 = *(u64 *)(r6 +16)', 'invalid bpf_context access off=16 size=8'],
        false,
      ),
      'load the program for fentry x',
    );
    expect(e.message).toMatch(
      /^cannot load the program for fentry x: verifier rejected program "p" \(EACCES\): invalid bpf_context access/,
    );
  });
});
