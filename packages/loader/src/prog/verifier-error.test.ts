import { describe, expect, it } from 'vitest';
import { Mov, R0, exit, encode } from 'bpf-asm-ts';
import { FakeBackend } from '../sys/fake-backend.js';
import { ProgLoadAttr } from '../sys/attr.js';
import { Errno } from '../sys/errno.js';
import { BpfCommand, ProgramType } from '../sys/generated/constants.js';
import { PermissionError } from '../errors.js';
import type { NativeMemory } from '../sys/backend.js';
import { kernelVersionCode, Program, splitLog } from './program.js';
import { analyzeVerifierLog, VerifierError } from './verifier-error.js';

const log = [
  'func#0 @0',
  '0: R1=ctx() R10=fp0',
  '0: (b7) r0 = 0                        ; R0_w=0',
  '1: (61) r0 = *(u32 *)(r2 +0)',
  'R2 !read_ok',
  'processed 2 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0',
  '',
];

describe('verifier logs', () => {
  it('finds the rejecting line and the instruction it refers to', () => {
    expect(analyzeVerifierLog(log)).toEqual({
      reason: 'R2 !read_ok',
      instruction: 1,
      instructionText: 'r0 = *(u32 *)(r2 +0)',
    });
  });

  it('splits a rejection glued to the processed-instructions summary', () => {
    const lines = splitLog('invalid type id 3 in func infoprocessed 0 insns (limit 1000000) max_states_per_insn 0\n');
    expect(lines).toEqual([
      'invalid type id 3 in func info',
      'processed 0 insns (limit 1000000) max_states_per_insn 0',
    ]);
    expect(analyzeVerifierLog(lines).reason).toBe('invalid type id 3 in func info');
  });

  it('a log without instruction lines still yields its last meaningful line', () => {
    expect(analyzeVerifierLog(['unknown opcode 8d', ''])).toEqual({ reason: 'unknown opcode 8d' });
  });

  it('retries with a log, grows the buffer on ENOSPC, and maps the instruction to its comment', () => {
    const fake = new FakeBackend();
    const sizes: number[] = [];
    const writeLog = (attr: NativeMemory, text: string) => {
      const addr = attr.view.getUint32(ProgLoadAttr.fields.logBuf.offset, true);
      fake.memoryAt(addr)!.set(new TextEncoder().encode(text));
    };
    fake.onBpf(
      BpfCommand.PROG_LOAD,
      -Errno.EACCES, // the first, log-less attempt
      (attr) => {
        sizes.push(attr.view.getUint32(ProgLoadAttr.fields.logSize.offset, true));
        attr.view.setUint32(ProgLoadAttr.fields.logTrueSize.offset, 300_000, true);
        return -Errno.ENOSPC;
      },
      (attr) => {
        sizes.push(attr.view.getUint32(ProgLoadAttr.fields.logSize.offset, true));
        writeLog(attr, log.join('\n'));
        return -Errno.EACCES;
      },
    );
    const err = (() => {
      try {
        Program.load(
          {
            name: 'p',
            type: ProgramType.XDP,
            instructions: encode([Mov.imm(R0, 0), Mov.imm(R0, 1), exit()]),
            comments: [undefined, 'filter insn 7'],
          },
          { backend: fake },
        );
      } catch (e) {
        return e;
      }
    })() as VerifierError;
    expect(err).toBeInstanceOf(VerifierError);
    expect(sizes).toEqual([65536, 300_001]);
    expect(err.message).toBe(
      'verifier rejected program "p" (EACCES): R2 !read_ok at insn 1 (r0 = *(u32 *)(r2 +0)) [filter insn 7]',
    );
    expect(err.logText).toContain('processed 2 insns');
  });

  it('EPERM is a permission error at once, with no log retry', () => {
    const fake = new FakeBackend().onBpf(BpfCommand.PROG_LOAD, -Errno.EPERM);
    expect(() =>
      Program.load({ type: ProgramType.KPROBE, instructions: [Mov.imm(R0, 0), exit()] }, { backend: fake }),
    ).toThrow(PermissionError);
    expect(fake.calls.filter((c) => c.code === BpfCommand.PROG_LOAD)).toHaveLength(1);
  });

  it('EINVAL without a log names the load attributes', () => {
    const fake = new FakeBackend().onBpf(BpfCommand.PROG_LOAD, -Errno.EINVAL);
    expect(() =>
      Program.load(
        { type: ProgramType.TRACING, expectedAttachType: 24, attachBtfId: 5, instructions: [Mov.imm(R0, 0), exit()] },
        { backend: fake },
      ),
    ).toThrow(/EINVAL .*prog_type=tracing, expected_attach_type=24, attach_btf_id=5/);
  });
});

describe('kern_version', () => {
  it('is LINUX_VERSION_CODE of a release string, patch capped at 255', () => {
    expect(kernelVersionCode('6.1.0-50-amd64')).toBe(0x060100);
    expect(kernelVersionCode('4.19.300')).toBe(0x0413ff);
    expect(kernelVersionCode('6.18.44-fc-v669')).toBe(0x06122c);
  });

  it('is filled in for kprobe programs', () => {
    const fake = new FakeBackend();
    Program.load({ type: ProgramType.KPROBE, instructions: [Mov.imm(R0, 0), exit()] }, { backend: fake });
    const a = new DataView(fake.calls.find((c) => c.code === BpfCommand.PROG_LOAD)!.attr!.buffer);
    expect(a.getUint32(ProgLoadAttr.fields.kernVersion.offset, true)).toBe(kernelVersionCode());
  });
});
