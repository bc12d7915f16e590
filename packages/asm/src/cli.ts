/**
 * The `bpf-asm` command: assemble LLVM-syntax eBPF text to bytes, disassemble bytes to text.
 *
 *   bpf-asm asm FILE.s [-o out.bin] [--hex] [--big-endian]
 *   bpf-asm disasm FILE.bin [--big-endian] [--numbered] [--helper-names] [--labels]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { decode, INSTRUCTION_SIZE } from './encoding.js';
import { AsmError, DecodeError } from './errors.js';
import { assemble } from './text/assemble.js';
import { labelTargets } from './text/labels.js';
import { printTo } from './text/printer.js';
import { VERSION } from './version.js';

const USAGE = `usage: bpf-asm asm FILE.s [-o OUT.bin] [--hex] [--big-endian]
       bpf-asm disasm FILE.bin [--big-endian] [--numbered] [--helper-names] [--labels]

  asm      assemble LLVM-syntax BPF assembly; writes raw bytes to -o, and hex (one
           8-byte slot per line, reversible with 'xxd -r -p') to stdout with --hex or
           when no -o is given
  disasm   print the instructions of a raw bytecode file in LLVM syntax

  -o, --output FILE   write the encoded program to FILE
      --hex           print the encoding as hex
      --big-endian    encode/decode for bpfeb instead of bpfel
      --numbered      prefix slots with their index and opcode, as the verifier log does
      --helper-names  print helper calls by name (call bpf_map_lookup_elem)
      --labels        name jump and call targets (goto LBB12, call fn_40) instead of offsets
  FILE may be '-' for standard input, and OUT.bin '-' for standard output.`;

/** A usage mistake: printed with the usage text, exit status 2. */
class UsageError extends AsmError {}

function readInput(file: string): Buffer {
  try {
    return readFileSync(file === '-' ? 0 : file);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new AsmError(`${file}: cannot read (${err.code ?? err.message})`);
  }
}

function hexLines(bytes: Uint8Array): string {
  const lines: string[] = [];
  for (let o = 0; o < bytes.length; o += INSTRUCTION_SIZE)
    lines.push(Buffer.from(bytes.subarray(o, o + INSTRUCTION_SIZE)).toString('hex'));
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

function run(argv: string[]): void {
  const { values, positionals } = (() => {
    try {
      return parseArgs({
        args: argv,
        allowPositionals: true,
        options: {
          output: { type: 'string', short: 'o' },
          hex: { type: 'boolean' },
          'big-endian': { type: 'boolean' },
          numbered: { type: 'boolean' },
          'helper-names': { type: 'boolean' },
          labels: { type: 'boolean' },
          help: { type: 'boolean', short: 'h' },
          version: { type: 'boolean', short: 'V' },
        },
      });
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  })();
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (values.version) {
    process.stdout.write(`${VERSION}\n`);
    return;
  }
  const [command, file, ...extra] = positionals;
  if (command === undefined) throw new UsageError('missing command (asm or disasm)');
  if (command !== 'asm' && command !== 'disasm') throw new UsageError(`unknown command '${command}' (asm or disasm)`);
  if (file === undefined) throw new UsageError(`${command}: missing input FILE`);
  if (extra.length > 0) throw new UsageError(`${command}: unexpected argument '${extra[0]}'`);
  const endian = values['big-endian'] ? 'big' : 'little';

  if (command === 'asm') {
    if (values.numbered || values['helper-names'] || values.labels)
      throw new UsageError('asm: --numbered, --helper-names and --labels apply to disasm');
    const linked = assemble(readInput(file).toString('utf8'), { file: file === '-' ? '<stdin>' : file });
    const bytes = linked.encode({ endian });
    for (const r of linked.relocations) {
      process.stderr.write(
        `bpf-asm: note: instruction ${r.index} needs a loader relocation: ${r.kind} '${r.symbol}' (encoded as 0)\n`,
      );
    }
    if (values.output !== undefined) {
      try {
        writeFileSync(values.output === '-' ? 1 : values.output, values.hex ? hexLines(bytes) : bytes);
      } catch (e) {
        throw new AsmError(
          `${values.output}: cannot write (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
        );
      }
    }
    if (values.output === undefined) process.stdout.write(hexLines(bytes));
    return;
  }

  if (values.output !== undefined || values.hex) throw new UsageError('disasm: -o and --hex apply to asm');
  const bytes = readInput(file);
  try {
    const decoded = decode(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length), { endian });
    const insns = values.labels ? labelTargets(decoded) : decoded;
    printTo(insns, (chunk) => process.stdout.write(chunk), {
      numbered: values.numbered ?? false,
      helperNames: values['helper-names'] ?? false,
    });
  } catch (e) {
    if (e instanceof DecodeError)
      throw new AsmError(`${file}: byte offset ${e.index * INSTRUCTION_SIZE}: ${e.message}`);
    throw e;
  }
}

try {
  run(process.argv.slice(2));
} catch (e) {
  if (e instanceof UsageError) {
    process.stderr.write(`bpf-asm: ${e.message}\n${USAGE}\n`);
    process.exitCode = 2;
  } else if (e instanceof AsmError) {
    process.stderr.write(`bpf-asm: ${e.message}\n`);
    process.exitCode = 1;
  } else {
    throw e;
  }
}
