import { parseArgs } from 'node:util';
import type { Btf } from './btf.js';
import { BtfError } from './errors.js';
import { formatCChunks } from './format/c.js';
import { formatJsonChunks } from './format/json.js';
import { formatRawChunks } from './format/raw.js';
import { loadBtfFile } from './load.js';

/** Output formats of `btf-dump`, each a generator of text chunks. */
export const DUMP_FORMATS: Record<string, (btf: Btf) => Iterable<string>> = {
  raw: (btf) => formatRawChunks(btf),
  c: (btf) => formatCChunks(btf),
  json: (btf) => formatJsonChunks(btf),
};

const usage = (): string => `usage: btf-dump FILE [--format ${Object.keys(DUMP_FORMATS).join('|')}] [--base VMLINUX]

Prints the types of a BTF file like \`bpftool btf dump file FILE\`.
FILE is /sys/kernel/btf/vmlinux, a module's BTF (give --base /sys/kernel/btf/vmlinux),
a raw .btf file, or an ELF file with a .BTF section.

  -f, --format FORMAT  ${Object.keys(DUMP_FORMATS).join(', ')} (default raw)
  -B, --base FILE      base BTF for split BTF
  -h, --help           show this help
`;

/** Where `btf-dump` writes: stdout chunks (awaited for back-pressure) and stderr lines. */
export interface DumpIo {
  out(chunk: string): Promise<void> | void;
  err(text: string): void;
}

class UsageError extends BtfError {}

/**
 * Runs `btf-dump` with these arguments; returns the exit code (0 ok, 1 bad input file, 2 bad
 * usage). Errors are one line on `err`, never a stack trace.
 */
export async function runBtfDump(argv: string[], io: DumpIo): Promise<number> {
  try {
    let parsed;
    try {
      parsed = parseArgs({
        args: argv,
        allowPositionals: true,
        options: {
          format: { type: 'string', short: 'f', default: 'raw' },
          base: { type: 'string', short: 'B' },
          help: { type: 'boolean', short: 'h' },
        },
      });
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const { values, positionals } = parsed;
    if (values.help) {
      await io.out(usage());
      return 0;
    }
    if (positionals.length !== 1)
      throw new UsageError(positionals.length ? 'expected exactly one FILE' : 'missing FILE');
    const format = DUMP_FORMATS[values.format!];
    if (!format) {
      throw new UsageError(`unknown format '${values.format}' (expected ${Object.keys(DUMP_FORMATS).join(', ')})`);
    }
    const base = values.base ? loadBtfFile(values.base) : undefined;
    const btf = loadBtfFile(positionals[0]!, { base });
    for (const chunk of format(btf)) await io.out(chunk);
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`btf-dump: ${e.message}\n${usage()}`);
      return 2;
    }
    if (e instanceof BtfError) {
      io.err(`btf-dump: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}
