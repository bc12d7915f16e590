import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkSupported, FLAGS, FlagParseError, formatUsage, parseArgs } from './index.js';

const upstreamHelp = readFileSync(new URL('../../test/fixtures/upstream-help.txt', import.meta.url), 'utf8');

describe('--help', () => {
  const FLAG_LINE = /^\s+(?:-\w, )?--([\w-]+)/;
  const upstreamFlags = new Set(
    upstreamHelp
      .split('\n')
      .map((l) => FLAG_LINE.exec(l)?.[1])
      .filter(Boolean),
  );

  it('matches upstream pwru HEAD byte for byte, except that --backend names our two extra backends', () => {
    // Flags upstream lacks (our additions) are checked separately.
    const ours = formatUsage('./pwru')
      .split('\n')
      .filter((l) => {
        const name = FLAG_LINE.exec(l)?.[1];
        return name === undefined || upstreamFlags.has(name);
      });
    const theirs = upstreamHelp.split('\n');
    expect(ours.length).toBe(theirs.length);
    for (let i = 0; i < theirs.length; i++) {
      if (theirs[i]!.startsWith('      --backend ')) {
        expect(ours[i]).toBe(
          "      --backend string                 Tracing backend('kprobe', 'kprobe-multi', 'tracepoint', 'fentry'). Will auto-detect if not specified.",
        );
      } else {
        expect(ours[i]).toBe(theirs[i]);
      }
    }
  });

  it('lists the flags upstream lacks among the others, in sorted order', () => {
    const help = formatUsage();
    expect(help).toMatch(
      /\n      --output-summary +at exit, print a summary: functions by hits and drop reasons by count\n      --output-summary-by-tuple +with the summary/,
    );
  });

  it('hides --ready-file', () => {
    expect(formatUsage()).not.toContain('ready-file');
    expect(parseArgs(['--ready-file', '/tmp/r']).options.readyFile).toBe('/tmp/r');
  });

  it('is requested with -h or --help', () => {
    expect(parseArgs(['-h']).options.help).toBe(true);
    expect(parseArgs(['--help']).options.help).toBe(true);
  });
});

describe('parseArgs', () => {
  it('has upstream defaults: meta and tuple on, batch 10, timestamp none', () => {
    const { options } = parseArgs([]);
    expect(options.outputMeta).toBe(true);
    expect(options.outputTuple).toBe(true);
    expect(options.filterKprobeBatch).toBe(10);
    expect(options.timestamp).toBe('none');
    expect(options.filterMark).toEqual({ mark: 0, mask: 0 });
    expect(options.netnsNamesMaxLength).toBe(16);
    expect(options.filterPcap).toBe('');
  });

  it('accepts --flag=value and --flag value', () => {
    expect(parseArgs(['--filter-func=ip_rcv']).options.filterFunc).toBe('ip_rcv');
    expect(parseArgs(['--filter-func', 'ip_rcv']).options.filterFunc).toBe('ip_rcv');
  });

  it('takes bools as --flag, --flag=false, and any Go ParseBool word', () => {
    expect(parseArgs(['--output-meta=false']).options.outputMeta).toBe(false);
    expect(parseArgs(['--output-tuple=F']).options.outputTuple).toBe(false);
    expect(parseArgs(['--output-json']).options.outputJson).toBe(true);
    // A bare bool does not consume the next word: it joins the filter.
    const p = parseArgs(['--output-json', 'false']);
    expect(p.options.outputJson).toBe(true);
    expect(p.options.filterPcap).toBe('false');
  });

  it('joins every non-flag word, with flags anywhere, into the pcap filter', () => {
    const p = parseArgs(['tcp', 'port', '80', '--output-tcp-flags', 'and', 'host', '10.0.0.1']);
    expect(p.options.filterPcap).toBe('tcp port 80 and host 10.0.0.1');
    expect(p.options.outputTcpFlags).toBe(true);
  });

  it('stops parsing flags at --', () => {
    const p = parseArgs(['--output-json', '--', '--output-meta=false', 'tcp']);
    expect(p.options.outputMeta).toBe(true);
    expect(p.options.filterPcap).toBe('--output-meta=false tcp');
  });

  it('reads string lists as CSV records, replacing the default then appending', () => {
    expect(parseArgs(['--kmods', 'a,b', '--kmods=c']).options.kmods).toEqual(['a', 'b', 'c']);
    expect(parseArgs(['--kmods', '"x,y",z']).options.kmods).toEqual(['x,y', 'z']);
    expect(parseArgs(['--kmods=']).options.kmods).toEqual([]);
  });

  it('parses unsigned numbers with Go base prefixes and range checks', () => {
    expect(parseArgs(['--filter-kprobe-batch=0x20']).options.filterKprobeBatch).toBe(32);
    expect(parseArgs(['--output-limit-lines', '20']).options.outputLimitLines).toBe(20);
    expect(() => parseArgs(['--netns-names-max-length=300'])).toThrow(
      'invalid argument "300" for "--netns-names-max-length" flag: strconv.ParseUint: parsing "300": value out of range',
    );
    expect(() => parseArgs(['--filter-kprobe-batch=-1'])).toThrow(
      'invalid argument "-1" for "--filter-kprobe-batch" flag: strconv.ParseUint: parsing "-1": invalid syntax',
    );
  });

  it('raises --netns-names-max-length below 10 to 10, as upstream', () => {
    expect(parseArgs(['--netns-names-max-length=3']).options.netnsNamesMaxLength).toBe(10);
  });

  it('parses --filter-mark as mark[/mask], exact match without a mask', () => {
    expect(parseArgs(['--filter-mark', '0xa5']).options.filterMark).toEqual({ mark: 0xa5, mask: 0xffffffff });
    expect(parseArgs(['--filter-mark=0xaf/0x0f']).options.filterMark).toEqual({ mark: 0x0f, mask: 0x0f });
    expect(parseArgs(['--filter-mark=10/0xff']).options.filterMark).toEqual({ mark: 10, mask: 0xff });
    expect(parseArgs(['--filter-mark=0']).options.filterMark).toEqual({ mark: 0, mask: 0xffffffff });
    expect(() => parseArgs(['--filter-mark=1/2/3'])).toThrow('invalid mark value "1/2/3": expected mark[/mask]');
    expect(() => parseArgs(['--filter-mark=zz'])).toThrow(FlagParseError);
  });

  it('rejects unknown flags, missing values and bad syntax with pflag messages', () => {
    expect(() => parseArgs(['--output-jsonn'])).toThrow('unknown flag: --output-jsonn');
    expect(() => parseArgs(['-x'])).toThrow("unknown shorthand flag: 'x' in -x");
    expect(() => parseArgs(['--filter-func'])).toThrow('flag needs an argument: --filter-func');
    expect(() => parseArgs(['---x'])).toThrow('bad flag syntax: ---x');
    expect(() => parseArgs(['--output-meta=maybe'])).toThrow(
      'invalid argument "maybe" for "--output-meta" flag: strconv.ParseBool: parsing "maybe": invalid syntax',
    );
    expect(() => parseArgs(['-h=x'])).toThrow('invalid argument "x" for "-h, --help" flag');
  });

  it('treats a lone - as a filter word', () => {
    expect(parseArgs(['-']).options.filterPcap).toBe('-');
  });
});

describe('checkSupported', () => {
  it('builds every upstream flag: none is refused any more', () => {
    expect(FLAGS.filter((f) => !f.supported).map((f) => f.name)).toEqual([]);
  });

  it('accepts --output-bpfmap, alone and with bpf map functions to trace', () => {
    const parsed = parseArgs([
      '--output-bpfmap',
      '--filter-non-skb-funcs',
      'htab_map_update_elem,htab_map_lookup_elem',
    ]);
    expect(() => checkSupported(parsed)).not.toThrow();
    expect(parsed.options).toMatchObject({
      outputBpfmap: true,
      filterNonSkbFuncs: ['htab_map_update_elem', 'htab_map_lookup_elem'],
    });
    expect(() => checkSupported(parseArgs(['--output-bpfmap']))).not.toThrow();
  });

  it('accepts the dump, file and summary output flags', () => {
    const parsed = parseArgs([
      '--output-skb',
      '--output-skb-shared-info',
      '--set-percpu-buf=16384',
      '--output-file=/tmp/t.log',
      '--output-file-max-size=5',
      '--output-file-max-backups=3',
      '--output-file-max-age=2',
      '--output-file-compress',
      '--output-summary-by-tuple',
    ]);
    expect(() => checkSupported(parsed)).not.toThrow();
    expect(parsed.options).toMatchObject({
      setPercpuBuf: 16384,
      outputFileMaxSize: 5,
      outputFileMaxBackups: 3,
      outputFileMaxAge: 2,
      outputFileCompress: true,
      outputSummaryByTuple: true,
      outputSummary: false,
    });
  });

  it('has --trace-only-bpf, which upstream lacks (its users asked in #394)', () => {
    expect(formatUsage()).toMatch(/^ {6}--trace-only-bpf {2,}trace only tc\/xdp BPF programs/m);
    expect(parseArgs(['--trace-only-bpf']).options.traceOnlyBpf).toBe(true);
    expect(parseArgs([]).options.traceOnlyBpf).toBe(false);
  });

  it('makes --filter-trace-tc print skb->cb, as upstream', () => {
    expect(parseArgs(['--filter-trace-tc']).options.outputSkbCb).toBe(true);
    expect(parseArgs(['--filter-trace-xdp']).options.outputSkbCb).toBe(false);
    expect(parseArgs(['--trace-only-bpf']).options.outputSkbCb).toBe(true);
    expect(parseArgs(['--trace-only-bpf', '--filter-trace-xdp']).options.outputSkbCb).toBe(false);
  });

  it('accepts every supported flag', () => {
    expect(() =>
      checkSupported(
        parseArgs([
          '--output-stack',
          '--output-caller',
          '--filter-mark=1',
          '--timestamp=relative',
          '--filter-track-skb',
          '--filter-track-skb-by-stackid',
          '--filter-non-skb-funcs',
          'nf_nat_setup_info',
          'icmp',
        ]),
      ),
    ).not.toThrow();
  });
});
