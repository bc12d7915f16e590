import { FLAGS, type FlagSpec } from './spec.js';

/** pflag's `UnquoteUsage`: the placeholder shown after the flag name (empty for bools). */
function varName(spec: FlagSpec): string {
  switch (spec.kind) {
    case 'bool':
      return '';
    case 'mark':
      return 'mark[/mask]';
    default:
      return spec.kind;
  }
}

/** pflag's `defaultIsZeroValue`: zero defaults are not printed. */
function defaultIsZero(spec: FlagSpec): boolean {
  switch (spec.kind) {
    case 'bool':
      return spec.defValue === 'false';
    case 'string':
      return spec.defValue === '';
    case 'strings':
      return spec.defValue === '[]';
    case 'uint':
    case 'uint8':
    case 'uint32':
    case 'int':
      return spec.defValue === '0';
    default:
      return spec.defValue === '' || spec.defValue === '0' || spec.defValue === 'false' || spec.defValue === '[]';
  }
}

/** The option lines of `--help`, laid out exactly as pflag's `FlagUsages` does. */
export function formatFlagUsages(flags: readonly FlagSpec[] = FLAGS): string {
  const visible = flags.filter((s) => !s.hidden).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const heads: string[] = [];
  const tails: string[] = [];
  let maxlen = 0;
  for (const spec of visible) {
    let head = spec.shorthand ? `  -${spec.shorthand}, --${spec.name}` : `      --${spec.name}`;
    const v = varName(spec);
    if (v) head += ' ' + v;
    // pflag counts the NUL separator it appends, hence the +1.
    maxlen = Math.max(maxlen, head.length + 1);
    let tail = spec.usage;
    if (!defaultIsZero(spec))
      tail += spec.kind === 'string' ? ` (default "${spec.defValue}")` : ` (default ${spec.defValue})`;
    heads.push(head);
    tails.push(tail);
  }
  let out = '';
  for (let i = 0; i < heads.length; i++) {
    const head = heads[i]!;
    out += `${head} ${' '.repeat(maxlen - head.length)} ${tails[i]}\n`;
  }
  return out;
}

/** The full `--help` text as upstream prints it to stderr (`program` is upstream's `os.Args[0]`). */
export function formatUsage(program = 'pwru'): string {
  return (
    `Usage: ${program} [options] [pcap-filter]\n` +
    `    Available pcap-filter: see "man 7 pcap-filter"\n` +
    `    Available options:\n` +
    formatFlagUsages()
  );
}
