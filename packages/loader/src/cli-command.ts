import { readFileSync } from 'node:fs';
import { BpfError } from './errors.js';
import { generateSkeleton } from './object/skeleton.js';

const USAGE = `usage: bpf-loader-ts gen skeleton FILE.bpf.o [--class NAME] [--import MODULE] > FILE.ts

Writes a TypeScript module embedding a clang-built BPF object, with its programs, typed maps
and global variables (like bpftool gen skeleton, or bpf2go).

  --class NAME     name of the generated class (default: from the file name)
  --import MODULE  module to import the loader from (default: bpf-loader-ts)
  -h, --help       show this help
`;

/** Runs the `bpf-loader-ts` command; returns the exit code. */
export function runCli(args: readonly string[], io: { out: (s: string) => void; err: (s: string) => void }): number {
  if (args.includes('-h') || args.includes('--help')) {
    io.out(USAGE);
    return 0;
  }
  const rest = [...args];
  if (rest[0] !== 'gen' || rest[1] !== 'skeleton') {
    io.err(
      `bpf-loader-ts: unknown command "${rest.slice(0, 2).join(' ')}": the command is \`gen skeleton FILE.bpf.o\` (see --help)\n`,
    );
    return 2;
  }
  rest.splice(0, 2);
  let className: string | undefined;
  let importFrom: string | undefined;
  let file: string | undefined;
  while (rest.length) {
    const a = rest.shift()!;
    if (a === '--class' || a === '--import') {
      const v = rest.shift();
      if (!v) {
        io.err(`bpf-loader-ts: ${a} needs a value\n`);
        return 2;
      }
      if (a === '--class') className = v;
      else importFrom = v;
    } else if (a.startsWith('-')) {
      io.err(`bpf-loader-ts: unknown option ${a} (see --help)\n`);
      return 2;
    } else if (file) {
      io.err(`bpf-loader-ts: one object file at a time (got ${file} and ${a})\n`);
      return 2;
    } else file = a;
  }
  if (!file) {
    io.err('bpf-loader-ts: give the object file: bpf-loader-ts gen skeleton FILE.bpf.o > FILE.ts\n');
    return 2;
  }
  if (className !== undefined && !/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(className)) {
    io.err(`bpf-loader-ts: --class ${className} is not a TypeScript identifier\n`);
    return 2;
  }
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    io.err(`bpf-loader-ts: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}\n`);
    return 1;
  }
  try {
    io.out(generateSkeleton(bytes, file, { className, importFrom }));
    return 0;
  } catch (e) {
    if (e instanceof BpfError || (e as Error).name?.endsWith('Error')) {
      io.err(`bpf-loader-ts: ${file}: ${(e as Error).message}\n`);
      return 1;
    }
    throw e;
  }
}
