import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { assemble } from './text/assemble.js';

// The CLI is tested as users run it: the committed launcher importing the built dist/cli.js
// (turbo builds before testing).
const pkg = fileURLToPath(new URL('..', import.meta.url));
const bin = join(pkg, 'bin/bpf-asm.js');
const example = join(pkg, 'examples/socket-filter.s');
const run = (...args: string[]) => {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
};
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'bpf-asm-cli-'));
});

describe('bpf-asm CLI', () => {
  it('assembles the example to hex, one slot per line', () => {
    const r = run('asm', example, '--hex');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const expected = Buffer.from(assemble(readFileSync(example, 'utf8')).encode()).toString('hex');
    expect(r.stdout.split('\n').join('')).toBe(expected);
    expect(r.stdout.split('\n')[0]).toBe('bf16000000000000');
  });

  it('writes raw bytes with -o and disassembles them back to the same program', () => {
    const out = join(dir, 'filter.bin');
    expect(run('asm', example, '-o', out).status).toBe(0);
    expect(readFileSync(out).length).toBe(21 * 8);
    const text = run('disasm', out);
    expect(text.status).toBe(0);
    expect(text.stdout.split('\n')[0]).toBe('\tr6 = r1');
    const again = join(dir, 'again.s');
    writeFileSync(again, text.stdout);
    const back = join(dir, 'again.bin');
    expect(run('asm', again, '-o', back).status).toBe(0);
    expect(readFileSync(back)).toEqual(readFileSync(out));
  });

  it('names jump targets with --labels so the disassembly reads like the source', () => {
    const out = join(dir, 'labels.bin');
    expect(run('asm', example, '-o', out).status).toBe(0);
    const r = run('disasm', out, '--labels');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('\tif r1 != 4 goto LBB17\n');
    expect(r.stdout).toContain('LBB19:\n\tr0 = -1\n');
  });

  it('numbers disassembly like the verifier log and encodes big-endian on request', () => {
    const out = join(dir, 'be.bin');
    expect(run('asm', example, '-o', out, '--big-endian').status).toBe(0);
    expect(readFileSync(out).subarray(0, 8).toString('hex')).toBe('bf61000000000000');
    const r = run('disasm', out, '--big-endian', '--numbered');
    expect(r.stdout.split('\n')[1]).toBe('1: (30) r0 = *(u8 *)skb[0]');
  });

  it('reports bad assembly as file:line:col in one line, exit status 1', () => {
    const bad = join(dir, 'bad.s');
    writeFileSync(bad, 'r0 = 0\nif r0 > r11 goto +1\nexit\n');
    const r = run('asm', bad, '--hex');
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`bpf-asm: ${bad}:2:9: expected an immediate, found 'r11' (registers are r0-r10, w0-w10)\n`);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  it('reports undecodable bytes with the byte offset, exit status 1', () => {
    const bin = join(dir, 'bad.bin');
    writeFileSync(bin, Buffer.from('9500000000000000ff00000000000000', 'hex'));
    const r = run('disasm', bin);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`bpf-asm: ${bin}: byte offset 8: instruction 1: unknown opcode 0xff\n`);
  });

  it('reads standard input for - and writes raw bytes to standard output for -o -', () => {
    const r = spawnSync(process.execPath, [bin, 'asm', '-', '-o', '-'], { input: 'r0 = 1\nexit\n' });
    expect(r.status).toBe(0);
    expect(Buffer.from(r.stdout).toString('hex')).toBe('b700000001000000' + '9500000000000000');
    const bad = spawnSync(process.execPath, [bin, 'asm', '-'], { input: 'r0 = 1\nbad\n', encoding: 'utf8' });
    expect(bad.stderr).toBe("bpf-asm: <stdin>:2:1: unknown instruction 'bad'\n");
  });

  it('notes relocations a loader must fill in', () => {
    const src = join(dir, 'map.s');
    writeFileSync(src, 'r1 = events ll\nr0 = 0\nexit\n');
    const r = run('asm', src);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe("bpf-asm: note: instruction 0 needs a loader relocation: map_fd 'events' (encoded as 0)\n");
  });

  it('rejects usage mistakes with the usage text, exit status 2', () => {
    for (const args of [[], ['frobnicate'], ['asm'], ['asm', example, '--bogus'], ['disasm', example, '--hex']]) {
      const r = run(...args);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/^bpf-asm: .*\nusage: bpf-asm asm FILE\.s/);
    }
    expect(run('asm', join(dir, 'missing.s')).stderr).toMatch(/missing\.s: cannot read \(ENOENT\)/);
  });
});
