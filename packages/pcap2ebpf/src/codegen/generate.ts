/**
 * Drives code generation from the parser: each AST node's code is generated the moment the parser
 * completes it, in libpcap's reduction order, so that offset shifts, register numbers and the first
 * error are exactly libpcap's.
 */
import type { Arith, Expr } from '../lang/ast.js';
import { parseFilter } from '../lang/parser.js';
import type { CbpfInstruction } from '../cbpf/instruction.js';
import { type Block, finish, genAnd, genNot, genOr, retBlock } from './blocks.js';
import { genArth, genLoad, genLoadi, genLoadlen, genNeg, genRelation, type Arth } from './arith.js';
import { genGeneve, genMpls, genPppoed, genPppoes, genVlan } from './encap.js';
import { linearize } from './linearize.js';
import {
  genBroadcast,
  genByteop,
  genIfindex,
  genInbound,
  genLen,
  genLinkSpecific,
  genLlc,
  genMulticast,
} from './misc.js';
import { genPrimitive } from './primitive.js';
import { genProtoAbbrev } from './proto.js';
import { CodegenState } from './state.js';
import type { NameResolver } from '../names/resolver.js';

/** Options of {@link generate}. */
export interface GenerateOptions {
  linktype: 'EN10MB' | 'RAW';
  /** Accept value (`ret #snaplen`); libpcap/pwru use 262144. */
  snaplen: number;
  /** IPv4 netmask for `ip broadcast`; undefined = unknown (pwru). */
  netmask: number | undefined;
  names: NameResolver;
}

/** The unoptimized program and whether libpcap would skip its optimizer (protochain, geneve). */
export interface Generated {
  program: CbpfInstruction[];
  /** Root of the block graph (for an optimizer working on libpcap's intermediate form). */
  root: Block;
  noOptimize: boolean;
}

function isArith(n: Expr | Arith): n is Arith {
  return n.type === 'num' || n.type === 'len' || n.type === 'load' || n.type === 'binary' || n.type === 'neg';
}

/**
 * Parses and generates unoptimized classic BPF for `expr`, instruction for instruction what
 * libpcap 1.10's `pcap_compile(optimize=0)` produces.
 * @throws FilterError
 */
export function generate(expr: string, opts: GenerateOptions): Generated {
  const cs = new CodegenState(opts.linktype, opts.snaplen, opts.netmask, opts.names);
  const blocks = new WeakMap<Expr, Block>();
  const ariths = new WeakMap<Arith, Arth>();
  const blk = (e: Expr): Block => blocks.get(e)!;
  const ar = (a: Arith): Arth => ariths.get(a)!;

  const onArith = (n: Arith): Arth => {
    switch (n.type) {
      case 'num':
        return genLoadi(cs, n.value);
      case 'len':
        return genLoadlen(cs);
      case 'load':
        return genLoad(cs, n.proto, ar(n.index), n.size);
      case 'binary':
        return genArth(cs, n.op, ar(n.left), ar(n.right));
      case 'neg':
        return genNeg(cs, ar(n.operand));
    }
  };

  const onExpr = (n: Expr): Block => {
    switch (n.type) {
      case 'and':
      case 'or': {
        const b0 = blk(n.left);
        const b1 = blk(n.right);
        if (n.type === 'and') genAnd(b0, b1);
        else genOr(b0, b1);
        return b1;
      }
      case 'not': {
        const b = blk(n.operand);
        genNot(b);
        return b;
      }
      case 'primitive':
        return genPrimitive(cs, n.qual, n.id);
      case 'abbrev':
        return genProtoAbbrev(cs, n.proto);
      case 'relation':
        return genRelation(cs, n.op, ar(n.left), ar(n.right));
      case 'broadcast':
        return genBroadcast(cs, n.proto);
      case 'multicast':
        return genMulticast(cs, n.proto);
      case 'less':
        return genLen(true, n.value);
      case 'greater':
        return genLen(false, n.value);
      case 'byte':
        return genByteop(cs, n.op, n.index, n.value);
      case 'inbound':
        return genInbound(cs, false);
      case 'outbound':
        return genInbound(cs, true);
      case 'ifindex':
        return genIfindex(cs, n.value);
      case 'vlan':
        return genVlan(cs, n.value);
      case 'mpls':
        return genMpls(cs, n.value);
      case 'pppoed':
        return genPppoed(cs);
      case 'pppoes':
        return genPppoes(cs, n.value);
      case 'geneve':
        return genGeneve(cs, n.value);
      case 'llc':
        return genLlc(cs, n.subtype);
      case 'linkSpecific':
        return genLinkSpecific(cs, n.keyword, n.args);
    }
  };

  const program = parseFilter(expr, (node) => {
    cs.span = node.span;
    if (isArith(node)) ariths.set(node, onArith(node));
    else blocks.set(node, onExpr(node));
  });
  const root = program.expr ? finish(blk(program.expr), opts.snaplen) : retBlock(opts.snaplen);
  return { program: linearize(root), root, noOptimize: cs.noOptimize };
}
