/**
 * Test-only access to the pcap-filter corpus in `packages/pcap2ebpf/test/corpus`: libpcap's
 * programs and verdicts for every expression, and the packets they were run on (regenerated from
 * tcpdump by `test/corpus/regenerate.mjs`). Not exported from the package.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CompileOptions } from '../compile.js';
import { NameResolver } from '../names/resolver.js';
import { fromTuples, type CbpfInstruction } from './instruction.js';

let corpusNamesCache: NameResolver | undefined;

/**
 * The names the corpus was recorded with (its `env/` services, protocols, networks, hosts), so
 * that name lookups never depend on this machine's /etc.
 */
export function corpusNames(): NameResolver {
  corpusNamesCache ??= NameResolver.fromDirectory(join(corpusDir(), 'env'));
  return corpusNamesCache;
}

/**
 * The `compileFilter` options under which libpcap produced the corpus answers (tcpdump: netmask
 * 0, the corpus's names), with the optimizer on (`matches`) or off (`matches_noopt`).
 */
export function corpusCompileOptions(linktype: 'EN10MB' | 'RAW', optimize: boolean): CompileOptions {
  return { linktype, optimize, netmask: 0, names: corpusNames() };
}

/** One corpus record (one expression on one link type); fields as the corpus README describes them. */
export interface CorpusRecord {
  expr: string;
  category: string;
  linktype: 'EN10MB' | 'RAW';
  valid: boolean;
  error?: string;
  cbpf_opt?: string[];
  cbpf_opt_raw?: number[][];
  insn_count_opt?: number;
  noopt_valid?: boolean;
  cbpf_noopt?: string[];
  cbpf_noopt_raw?: number[][];
  insn_count_noopt?: number;
  matches: number[] | null;
  matches_noopt?: number[] | null;
  match_error?: string;
  optimizer_changes_matches?: boolean;
}

/** One corpus packet. */
export interface CorpusPacket {
  index: number;
  len: number;
  desc: string;
  bytes: Uint8Array;
}

/** The corpus directory, `test/corpus` of this package (found from this file, so any clone works). */
export function corpusDir(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '../../test/corpus');
}

function readLines(file: string): string[] {
  const path = join(corpusDir(), file);
  if (!existsSync(path)) {
    throw new Error(
      `pcap corpus file missing at ${path}: restore it with git checkout, or rebuild it with test/corpus/regenerate.mjs`,
    );
  }
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');
}

const recordCache = new Map<string, CorpusRecord[]>();
const packetCache = new Map<string, CorpusPacket[]>();

/** All records of one link type. */
export function loadRecords(linktype: 'EN10MB' | 'RAW'): CorpusRecord[] {
  let r = recordCache.get(linktype);
  if (!r) {
    r = readLines(linktype === 'EN10MB' ? 'public-l2.jsonl' : 'public-l3.jsonl').map(
      (l) => JSON.parse(l) as CorpusRecord,
    );
    recordCache.set(linktype, r);
  }
  return r;
}

/** All packets of one link type. */
export function loadPackets(linktype: 'EN10MB' | 'RAW'): CorpusPacket[] {
  let p = packetCache.get(linktype);
  if (!p) {
    p = readLines(linktype === 'EN10MB' ? 'packets-l2.jsonl' : 'packets-l3.jsonl').map((l) => {
      const j = JSON.parse(l) as { index: number; len: number; desc: string; hex: string };
      return { index: j.index, len: j.len, desc: j.desc, bytes: Uint8Array.from(Buffer.from(j.hex, 'hex')) };
    });
    packetCache.set(linktype, p);
  }
  return p;
}

/** A record's optimized program (libpcap `-ddd`), or undefined. */
export function optProgram(r: CorpusRecord): CbpfInstruction[] | undefined {
  return r.cbpf_opt_raw ? fromTuples(r.cbpf_opt_raw) : undefined;
}

/** A record's unoptimized program (libpcap `-O -ddd`), or undefined. */
export function nooptProgram(r: CorpusRecord): CbpfInstruction[] | undefined {
  return r.cbpf_noopt_raw ? fromTuples(r.cbpf_noopt_raw) : undefined;
}

/** The corpus's two link types: Ethernet frames (L2) and raw IP packets (L3). */
export const LINKTYPES = ['EN10MB', 'RAW'] as const;
