import { formatMark, parseMark } from './mark.js';
import { defaultOptions, FLAGS, type FlagSpec, type PwruOptions } from './spec.js';
import { FlagValueError, goQuote, parseCsvRecord, parseGoBool, parseGoInt, parseGoUint } from './values.js';
import { PwruError } from '../errors.js';

/**
 * A command line pflag would reject (unknown flag, missing or bad value). The CLI prints the
 * message and the usage, and exits 2, as upstream does.
 */
export class FlagParseError extends PwruError {
  override name = 'FlagParseError';
}

/**
 * A flag whose feature this pwru does not have yet was set to a non-default value. The CLI prints
 * the one-line message and exits 1 rather than silently ignoring it.
 */
export class UnsupportedFlagError extends PwruError {
  override name = 'UnsupportedFlagError';
  constructor(readonly flag: string) {
    super(`--${flag} is not supported yet`);
  }
}

/** The result of parsing a command line. */
export interface ParsedArgs {
  readonly options: PwruOptions;
  /** Long names of the flags that appeared on the command line (pflag's `Changed`). */
  readonly changed: ReadonlySet<string>;
}

const BY_NAME = new Map(FLAGS.map((s) => [s.name, s]));
const BY_SHORT = new Map(FLAGS.filter((s) => s.shorthand).map((s) => [s.shorthand!, s]));

function displayName(spec: FlagSpec): string {
  return spec.shorthand ? `-${spec.shorthand}, --${spec.name}` : `--${spec.name}`;
}

function toSafeNumber(v: bigint, spec: FlagSpec, raw: string): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new FlagParseError(
      `invalid argument ${goQuote(raw)} for "${displayName(spec)}" flag: value out of range for JavaScript numbers`,
    );
  }
  return Number(v);
}

function assign(opts: PwruOptions, spec: FlagSpec, raw: string, changed: Set<string>): void {
  const target = opts as unknown as Record<string, unknown>;
  try {
    switch (spec.kind) {
      case 'bool':
        target[spec.key] = parseGoBool(raw);
        break;
      case 'string':
        target[spec.key] = raw;
        break;
      case 'strings': {
        const items = parseCsvRecord(raw);
        // pflag: the first Set replaces the default, later ones append.
        target[spec.key] = changed.has(spec.name) ? [...(target[spec.key] as string[]), ...items] : items;
        break;
      }
      case 'uint':
        target[spec.key] = toSafeNumber(parseGoUint(raw, 64), spec, raw);
        break;
      case 'uint8':
        target[spec.key] = Number(parseGoUint(raw, 8));
        break;
      case 'uint32':
        target[spec.key] = Number(parseGoUint(raw, 32));
        break;
      case 'int':
        target[spec.key] = toSafeNumber(parseGoInt(raw), spec, raw);
        break;
      case 'mark':
        target[spec.key] = parseMark(raw);
        break;
    }
  } catch (e) {
    if (e instanceof FlagValueError) {
      throw new FlagParseError(`invalid argument ${goQuote(raw)} for "${displayName(spec)}" flag: ${e.message}`);
    }
    throw e;
  }
  changed.add(spec.name);
}

/**
 * Parses a command line (without `node` and the script) the way upstream's pflag set does:
 * `--flag=value` and `--flag value`, bools as `--flag` or `--flag=false`, repeatable
 * comma-separated lists, flags anywhere, `--` ending the flags; every other word joins the pcap
 * filter. Then applies upstream's implicit rewrites (`--netns-names-max-length` at least 10).
 */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const opts = defaultOptions();
  const changed = new Set<string>();
  const words: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      words.push(...argv.slice(i + 1));
      break;
    }
    if (arg.startsWith('--')) {
      const body = arg.slice(2);
      if (body.startsWith('-') || body.startsWith('=')) throw new FlagParseError(`bad flag syntax: ${arg}`);
      const eq = body.indexOf('=');
      const name = eq < 0 ? body : body.slice(0, eq);
      const spec = BY_NAME.get(name);
      if (!spec) throw new FlagParseError(`unknown flag: --${name}`);
      if (eq >= 0) assign(opts, spec, body.slice(eq + 1), changed);
      else if (spec.kind === 'bool') assign(opts, spec, 'true', changed);
      else if (i + 1 < argv.length) assign(opts, spec, argv[++i]!, changed);
      else throw new FlagParseError(`flag needs an argument: --${name}`);
      continue;
    }
    if (arg.startsWith('-') && arg.length > 1) {
      // Shorthand cluster, e.g. -h. Only `-h` exists, as upstream.
      let rest = arg.slice(1);
      while (rest.length > 0) {
        const c = rest[0]!;
        const spec = BY_SHORT.get(c);
        if (!spec) throw new FlagParseError(`unknown shorthand flag: '${c}' in ${arg}`);
        if (rest[1] === '=') {
          assign(opts, spec, rest.slice(2), changed);
          rest = '';
        } else if (spec.kind === 'bool') {
          assign(opts, spec, 'true', changed);
          rest = rest.slice(1);
        } else if (rest.length > 1) {
          assign(opts, spec, rest.slice(1), changed);
          rest = '';
        } else if (i + 1 < argv.length) {
          assign(opts, spec, argv[++i]!, changed);
          rest = '';
        } else {
          throw new FlagParseError(`flag needs an argument: '${c}' in ${arg}`);
        }
      }
      continue;
    }
    words.push(arg);
  }
  opts.filterPcap = words.join(' ');
  if (opts.netnsNamesMaxLength < 10) opts.netnsNamesMaxLength = 10;
  // As upstream: tracing tc programs (also --trace-only-bpf without --filter-trace-xdp) shows __sk_buff->cb.
  if (opts.filterTraceTc || (opts.traceOnlyBpf && !opts.filterTraceXdp)) opts.outputSkbCb = true;
  return { options: opts, changed };
}

function isDefault(spec: FlagSpec, opts: PwruOptions): boolean {
  const v = opts[spec.key];
  if (Array.isArray(v)) return v.length === 0;
  if (spec.kind === 'mark') return formatMark(v as PwruOptions['filterMark']) === spec.defValue;
  return String(v) === spec.defValue;
}

/**
 * Throws {@link UnsupportedFlagError} for the first flag whose feature is not built yet and whose
 * value differs from its default.
 */
export function checkSupported(parsed: ParsedArgs): void {
  for (const spec of FLAGS) {
    if (!spec.supported && parsed.changed.has(spec.name) && !isDefault(spec, parsed.options)) {
      throw new UnsupportedFlagError(spec.name);
    }
  }
}
