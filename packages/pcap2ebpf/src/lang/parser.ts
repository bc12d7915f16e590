import type { AddrType, Arith, ArithOp, Dir, Expr, Id, FilterAst, Proto, Qual, RelOp } from './ast.js';
import { QERR } from './ast.js';
import { FilterError, GrammarActionError, SYNTAX_ERROR, type Span } from './errors.js';
import { tokenize, type LexItem } from './lexer.js';
import type { Token, TokenType } from './tokens.js';

/**
 * Called for every node when the parser completes it, in the order libpcap's bison parser reduces the
 * corresponding grammar rule (children before parents, left to right). The code generator hangs off this,
 * so side effects (register allocation, VLAN offset shifts) and errors happen in libpcap's order.
 */
export type NodeHook = (node: Expr | Arith) => void;

const PNAME: Partial<Record<TokenType, Proto>> = {
  LINK: 'link',
  IP: 'ip',
  ARP: 'arp',
  RARP: 'rarp',
  SCTP: 'sctp',
  TCP: 'tcp',
  UDP: 'udp',
  ICMP: 'icmp',
  IGMP: 'igmp',
  IGRP: 'igrp',
  PIM: 'pim',
  VRRP: 'vrrp',
  CARP: 'carp',
  ATALK: 'atalk',
  AARP: 'aarp',
  DECNET: 'decnet',
  LAT: 'lat',
  SCA: 'sca',
  MOPDL: 'mopdl',
  MOPRC: 'moprc',
  IPV6: 'ip6',
  ICMPV6: 'icmp6',
  AH: 'ah',
  ESP: 'esp',
  ISO: 'iso',
  ESIS: 'esis',
  ISIS: 'isis',
  L1: 'l1',
  L2: 'l2',
  IIH: 'iih',
  LSP: 'lsp',
  SNP: 'snp',
  PSNP: 'psnp',
  CSNP: 'csnp',
  CLNP: 'clnp',
  STP: 'stp',
  IPX: 'ipx',
  NETBEUI: 'netbeui',
  RADIO: 'radio',
};
const AQUAL: Partial<Record<TokenType, AddrType>> = { HOST: 'host', NET: 'net', PORT: 'port', PORTRANGE: 'portrange' };
const SIMPLE_DQUAL: Partial<Record<TokenType, Dir>> = {
  ADDR1: 'addr1',
  ADDR2: 'addr2',
  ADDR3: 'addr3',
  ADDR4: 'addr4',
  RA: 'ra',
  TA: 'ta',
};
const RELOP: Partial<Record<TokenType, RelOp>> = { '>': '>', GEQ: '>=', '=': '=', LEQ: '<=', '<': '<', NEQ: '!=' };
const BINOP: Partial<Record<TokenType, { op: ArithOp; prec: number }>> = {
  '|': { op: '|', prec: 1 },
  '&': { op: '&', prec: 2 },
  LSH: { op: '<<', prec: 3 },
  RSH: { op: '>>', prec: 3 },
  '+': { op: '+', prec: 4 },
  '-': { op: '-', prec: 4 },
  '*': { op: '*', prec: 5 },
  '/': { op: '/', prec: 5 },
};
const UMINUS_PREC = 6;
/** Keywords of link types this compiler never has (ATM, MTP2/3, PF, 802.11): they parse, then fail in codegen. */
const LINK_SPECIFIC_BARE: Partial<Record<TokenType, string>> = {
  LANE: 'lane',
  METAC: 'metac',
  BCC: 'bcc',
  OAMF4EC: 'oamf4ec',
  OAMF4SC: 'oamf4sc',
  SC: 'sc',
  ILMIC: 'ilmic',
  OAM: 'oam',
  OAMF4: 'oamf4',
  CONNECTMSG: 'connectmsg',
  METACONNECT: 'metaconnect',
  FISU: 'fisu',
  LSSU: 'lssu',
  MSU: 'msu',
  HFISU: 'hfisu',
  HLSSU: 'hlssu',
  HMSU: 'hmsu',
};
const LINK_SPECIFIC_FIELD: Partial<Record<TokenType, string>> = {
  VPI: 'vpi',
  VCI: 'vci',
  SIO: 'sio',
  OPC: 'opc',
  DPC: 'dpc',
  SLS: 'sls',
  HSIO: 'hsio',
  HOPC: 'hopc',
  HDPC: 'hdpc',
  HSLS: 'hsls',
};

class SyntaxFailure extends FilterError {}

function span(a: Span, b: Span): Span {
  return { start: a.start, end: b.end };
}

class Parser {
  private i = 0;
  /** Furthest token index a failed alternative reached. */
  private trial = 0;

  constructor(
    private readonly items: LexItem[],
    private readonly hook: NodeHook | undefined,
  ) {}

  private item(k = 0): LexItem {
    return this.items[Math.min(this.i + k, this.items.length - 1)]!;
  }

  /**
   * The next token. Where the scanner failed it is a `LEXERR` token that no rule accepts: as in
   * libpcap, the reductions that do not need a valid lookahead still happen (their code-generation
   * errors win), then the scanner's error is reported.
   */
  private peek(k = 0): Token {
    for (let j = 0; j <= k; j++) {
      const it = this.item(j);
      if (it.type === 'ERROR')
        return { type: 'LEXERR', text: '', num: 0, str: '', span: it.error.span ?? { start: 0, end: 0 } };
    }
    return this.item(k) as Token;
  }

  private next(): Token {
    const it = this.item();
    if (it.type === 'ERROR') throw it.error;
    this.i++;
    return it;
  }

  private fail(): never {
    const it = this.item();
    if (it.type === 'ERROR') throw it.error;
    throw new SyntaxFailure('syntax', SYNTAX_ERROR, it.span);
  }

  private expect(type: TokenType): Token {
    if (this.peek().type !== type) this.fail();
    return this.next();
  }

  private emit<T extends Expr | Arith>(node: T): T {
    if (this.trial === 0 && this.hook) {
      try {
        this.hook(node);
      } catch (e) {
        // libpcap's grammar actions do not overwrite a message the scanner already set
        const it = this.item();
        if (e instanceof GrammarActionError && it.type === 'ERROR' && it.error.kind === 'lexical') throw it.error;
        throw e;
      }
    }
    return node;
  }

  /**
   * Ordered choice between grammar alternatives. Each is tried without side effects first; the first that
   * succeeds is then run for real. When all fail, the one that got furthest is run for real so that
   * libpcap's earlier semantic errors still win over its later syntax error.
   */
  private choose<T>(alts: Array<() => T>): T {
    const start = this.i;
    let best = 0;
    let bestPos = -1;
    for (let a = 0; a < alts.length; a++) {
      this.trial++;
      let result: T | undefined;
      let ok = true;
      try {
        result = alts[a]!();
      } catch (e) {
        // a syntax failure, or a lexical error this alternative reached
        if (!(e instanceof FilterError)) throw e;
        ok = false;
        if (this.i > bestPos) {
          bestPos = this.i;
          best = a;
        }
      }
      this.trial--;
      if (ok) {
        // Inside a trial nothing has side effects, so the trial's result is the result.
        if (this.trial > 0) return result as T;
        this.i = start;
        return alts[a]!();
      }
      this.i = start;
    }
    if (this.trial > 0) {
      // Inside a trial only where it failed matters.
      this.i = bestPos;
      this.fail();
    }
    return alts[best]!();
  }

  parseProgram(): FilterAst {
    if (this.peek().type === 'EOF') return { expr: undefined };
    const { node } = this.parseExpr(QERR);
    if (this.peek().type !== 'EOF') this.fail();
    return { expr: node };
  }

  private parseExpr(ctx: Qual): { node: Expr; q: Qual } {
    let { node, q } = this.parseTerm(ctx);
    for (;;) {
      const t = this.peek().type;
      if (t !== 'AND' && t !== 'OR') return { node, q };
      this.next();
      const inherited = q;
      const asTerm = (): { node: Expr; q: Qual } => this.parseTerm(inherited);
      const asId = (): { node: Expr; q: Qual } => ({ node: this.parseId(inherited, true), q: inherited });
      // Only '(' , '!' and a number can start either a term or an id; other tokens decide at once.
      const n = this.peek().type;
      const r =
        n === '(' || n === '!' || n === 'NUM'
          ? this.choose([asTerm, asId])
          : n === 'ID' || n === 'HID' || n === 'HID6' || n === 'EID' || n === 'AID'
            ? asId()
            : asTerm();
      node = this.emit({
        type: t === 'AND' ? 'and' : 'or',
        left: node,
        right: r.node,
        span: span(node.span, r.node.span),
      });
      q = r.q;
    }
  }

  private parseTerm(ctx: Qual): { node: Expr; q: Qual } {
    const t = this.peek();
    if (t.type === '!') {
      this.next();
      const r = this.parseTerm(ctx);
      return { node: this.emit({ type: 'not', operand: r.node, span: span(t.span, r.node.span) }), q: r.q };
    }
    return this.parseRterm(ctx);
  }

  private isHeadStart(type: TokenType): boolean {
    return (
      type === 'SRC' ||
      type === 'DST' ||
      type in SIMPLE_DQUAL ||
      type in AQUAL ||
      type === 'PROTO' ||
      type === 'PROTOCHAIN' ||
      type === 'GATEWAY'
    );
  }

  private parseRterm(ctx: Qual): { node: Expr; q: Qual } {
    const t = this.peek();
    if (t.type === '(') {
      return this.choose([
        () => {
          this.next();
          const r = this.parseExpr(ctx);
          this.expect(')');
          return { node: r.node, q: ctx };
        },
        () => ({ node: this.parseRelation(), q: QERR }),
      ]);
    }
    const pname = PNAME[t.type];
    if (pname !== undefined) {
      const n = this.peek(1).type;
      if (n === '[') return { node: this.parseRelation(), q: QERR };
      if (this.isHeadStart(n)) return this.parseHeadId();
      if (n === 'TK_BROADCAST' || n === 'TK_MULTICAST') {
        this.next();
        const k = this.next();
        return {
          node: this.emit({
            type: n === 'TK_BROADCAST' ? 'broadcast' : 'multicast',
            proto: pname,
            span: span(t.span, k.span),
          }),
          q: QERR,
        };
      }
      if (n === 'TYPE' || n === 'SUBTYPE' || n === 'DIR') {
        this.next();
        return { node: this.parse80211(), q: QERR };
      }
      this.next();
      // bison needs the lookahead here (pname could still start a qualifier list), so a bad token is
      // a syntax error before the abbreviation's code is generated
      if (!this.atTermEnd()) this.fail();
      return { node: this.emit({ type: 'abbrev', proto: pname, span: t.span }), q: QERR };
    }
    if (this.isHeadStart(t.type)) return this.parseHeadId();
    if (t.type === 'NUM' || t.type === 'LEN' || t.type === '-') return { node: this.parseRelation(), q: QERR };
    return { node: this.parseOther(), q: QERR };
  }

  private parseHeadId(): { node: Expr; q: Qual } {
    const q: Qual = { proto: 'default', dir: 'default', addr: 'default' };
    const p = PNAME[this.peek().type];
    if (p !== undefined) {
      q.proto = p;
      this.next();
    }
    const t = this.next();
    if (t.type === 'PROTO') q.addr = 'proto';
    else if (t.type === 'PROTOCHAIN') q.addr = 'protochain';
    else if (t.type === 'GATEWAY') q.addr = 'gateway';
    else if (t.type in AQUAL) q.addr = AQUAL[t.type]!;
    else {
      if (t.type === 'SRC' || t.type === 'DST') {
        q.dir = t.type === 'SRC' ? 'src' : 'dst';
        const c = this.peek().type;
        if (c === 'OR' || c === 'AND') {
          this.next();
          this.expect(t.type === 'SRC' ? 'DST' : 'SRC');
          q.dir = c === 'OR' ? 'or' : 'and';
        }
      } else if (t.type in SIMPLE_DQUAL) q.dir = SIMPLE_DQUAL[t.type]!;
      else this.fail();
      const a = AQUAL[this.peek().type];
      if (a !== undefined) {
        this.next();
        q.addr = a;
      }
    }
    return { node: this.parseId(q), q };
  }

  /** Whether the next token can follow a complete term. */
  private atTermEnd(): boolean {
    const t = this.peek().type;
    return t === 'AND' || t === 'OR' || t === ')' || t === 'EOF';
  }

  /** `pnum: NUM | '(' pnum ')'`. */
  private parsePnum(): Token {
    if (this.peek().type === '(') {
      this.next();
      const n = this.parsePnum();
      this.expect(')');
      return n;
    }
    return this.expect('NUM');
  }

  /**
   * An `id` with its inherited qualifiers: `nid`, `pnum` or a parenthesised `pid`. `afterBoolean`: the id
   * follows and/or, where a number could also start arithmetic, so bison reads the next token before
   * deciding (and a bad one is a syntax error before any code is generated).
   */
  private parseId(q: Qual, afterBoolean = false): Expr {
    const t = this.peek();
    if (t.type === '!') {
      this.next();
      const inner = this.parseId(q);
      return this.emit({ type: 'not', operand: inner, span: span(t.span, inner.span) });
    }
    if (t.type === '(') {
      return this.choose([
        () => {
          const n = this.parsePnum();
          if (afterBoolean && !this.atTermEnd()) this.fail();
          return this.emit({
            type: 'primitive',
            qual: q,
            id: { kind: 'num', value: n.num, span: n.span },
            span: n.span,
          });
        },
        () => {
          this.next();
          const r = this.parsePid(q);
          this.expect(')');
          return r;
        },
      ]);
    }
    if (t.type === 'NUM') {
      this.next();
      if (afterBoolean && !this.atTermEnd()) this.fail();
      return this.emit({ type: 'primitive', qual: q, id: { kind: 'num', value: t.num, span: t.span }, span: t.span });
    }
    return this.parseNid(q);
  }

  /** `pid`: ids joined by and/or inside parentheses, all with the same qualifiers. */
  private parsePid(q: Qual): Expr {
    let node: Expr;
    if (this.peek().type === 'NUM' || this.peek().type === '(') {
      node = this.choose([
        () => {
          const n = this.parsePnum();
          const t = this.peek().type;
          if (t !== 'AND' && t !== 'OR') this.fail();
          return this.emit({
            type: 'primitive',
            qual: q,
            id: { kind: 'num', value: n.num, span: n.span },
            span: n.span,
          }) as Expr;
        },
        () => this.parseNid(q),
      ]);
    } else {
      node = this.parseNid(q);
    }
    for (;;) {
      const t = this.peek().type;
      if (t !== 'AND' && t !== 'OR') return node;
      this.next();
      const right = this.parseId(q);
      node = this.emit({ type: t === 'AND' ? 'and' : 'or', left: node, right, span: span(node.span, right.span) });
    }
  }

  private parseNid(q: Qual): Expr {
    const t = this.peek();
    let id: Id;
    switch (t.type) {
      case '!': {
        this.next();
        const inner = this.parseId(q);
        return this.emit({ type: 'not', operand: inner, span: span(t.span, inner.span) });
      }
      case 'ID':
        this.next();
        id = { kind: 'name', name: t.str, span: t.span };
        break;
      case 'HID': {
        this.next();
        const n = this.peek().type;
        if (n === '/') {
          this.next();
          const len = this.expect('NUM');
          id = { kind: 'ipv4-prefix', text: t.str, len: len.num, span: span(t.span, len.span) };
        } else if (n === 'NETMASK') {
          this.next();
          const m = this.expect('HID');
          id = { kind: 'ipv4-mask', text: t.str, mask: m.str, span: span(t.span, m.span) };
        } else {
          id = { kind: 'ipv4', text: t.str, span: t.span };
        }
        break;
      }
      case 'HID6': {
        this.next();
        if (this.peek().type === '/') {
          this.next();
          const len = this.expect('NUM');
          id = { kind: 'ipv6', text: t.str, len: len.num, explicitLen: true, span: span(t.span, len.span) };
        } else {
          id = { kind: 'ipv6', text: t.str, len: 128, explicitLen: false, span: t.span };
        }
        break;
      }
      case 'EID':
        this.next();
        id = { kind: 'mac', text: t.str, span: t.span };
        break;
      case 'AID':
        this.next();
        id = { kind: 'arcnet', text: t.str, span: t.span };
        break;
      default:
        this.fail();
    }
    return this.emit({ type: 'primitive', qual: q, id, span: id.span });
  }

  private parseRelation(): Expr {
    const left = this.parseArith(0);
    const op = RELOP[this.peek().type];
    if (op === undefined) this.fail();
    this.next();
    const right = this.parseArith(0);
    return this.emit({ type: 'relation', op, left, right, span: span(left.span, right.span) });
  }

  private parseArith(minPrec: number): Arith {
    let left = this.parseArithPrimary();
    for (;;) {
      const t = this.peek().type;
      if (t === '%' || t === '^') {
        // No declared precedence: bison shifts, so the right operand is everything that follows.
        this.next();
        const right = this.parseArith(0);
        left = this.emit({ type: 'binary', op: t, left, right, span: span(left.span, right.span) });
        continue;
      }
      const b = BINOP[t];
      if (b === undefined || b.prec < minPrec) return left;
      this.next();
      const right = this.parseArith(b.prec + 1);
      left = this.emit({ type: 'binary', op: b.op, left, right, span: span(left.span, right.span) });
    }
  }

  private parseArithPrimary(): Arith {
    const t = this.peek();
    switch (t.type) {
      case 'NUM':
        this.next();
        return this.emit({ type: 'num', value: t.num, span: t.span });
      case 'LEN':
        this.next();
        return this.emit({ type: 'len', span: t.span });
      case '-': {
        this.next();
        const operand = this.parseArith(UMINUS_PREC);
        return this.emit({ type: 'neg', operand, span: span(t.span, operand.span) });
      }
      case '(': {
        this.next();
        const inner = this.parseArith(0);
        this.expect(')');
        return inner;
      }
      default: {
        const proto = PNAME[t.type];
        if (proto === undefined) this.fail();
        this.next();
        this.expect('[');
        const index = this.parseArith(0);
        let size = 1;
        if (this.peek().type === ':') {
          this.next();
          size = this.expect('NUM').num;
        }
        const end = this.expect(']');
        return this.emit({ type: 'load', proto, index, size, span: span(t.span, end.span) });
      }
    }
  }

  private optionalPnum(): Token | undefined {
    const t = this.peek().type;
    if (t === 'NUM') return this.next();
    if (t === '(') {
      const start = this.i;
      this.trial++;
      let ok = true;
      try {
        this.parsePnum();
      } catch {
        ok = false;
      }
      this.trial--;
      this.i = start;
      if (ok) return this.parsePnum();
    }
    return undefined;
  }

  private parse80211(): Expr {
    const t = this.next();
    const arg = (): string | number => {
      const v = this.next();
      if (v.type === 'NUM') return v.num;
      if (v.type === 'ID') return v.str;
      this.i--;
      return this.fail();
    };
    if (t.type === 'TYPE') {
      const ty = arg();
      if (this.peek().type === 'SUBTYPE') {
        this.next();
        const sub = arg();
        return this.emit({ type: 'linkSpecific', keyword: 'type-subtype', args: [ty, sub], span: t.span });
      }
      return this.emit({ type: 'linkSpecific', keyword: 'type', args: [ty], span: t.span });
    }
    if (t.type === 'SUBTYPE') {
      const sub = this.expect('ID');
      return this.emit({ type: 'linkSpecific', keyword: 'subtype', args: [sub.str], span: t.span });
    }
    return this.emit({ type: 'linkSpecific', keyword: 'dir', args: [arg()], span: t.span });
  }

  private parseOther(): Expr {
    const t = this.next();
    const simple = (node: Expr): Expr => this.emit(node);
    switch (t.type) {
      case 'TK_BROADCAST':
      case 'TK_MULTICAST':
        return simple({ type: t.type === 'TK_BROADCAST' ? 'broadcast' : 'multicast', proto: 'default', span: t.span });
      case 'LESS':
      case 'GREATER': {
        const n = this.expect('NUM');
        return simple({ type: t.type === 'LESS' ? 'less' : 'greater', value: n.num, span: span(t.span, n.span) });
      }
      case 'CBYTE': {
        const idx = this.expect('NUM');
        const op = this.next();
        if (op.type !== '&' && op.type !== '|' && op.type !== '<' && op.type !== '>' && op.type !== '=') {
          this.i--;
          this.fail();
        }
        const v = this.expect('NUM');
        return simple({ type: 'byte', op: op.type, index: idx.num, value: v.num, span: span(t.span, v.span) });
      }
      case 'INBOUND':
      case 'OUTBOUND':
        return simple({ type: t.type === 'INBOUND' ? 'inbound' : 'outbound', span: t.span });
      case 'IFINDEX': {
        const n = this.expect('NUM');
        return simple({ type: 'ifindex', value: n.num, span: span(t.span, n.span) });
      }
      case 'VLAN':
      case 'MPLS':
      case 'PPPOES':
      case 'GENEVE': {
        const n = this.optionalPnum();
        const type =
          t.type === 'VLAN' ? 'vlan' : t.type === 'MPLS' ? 'mpls' : t.type === 'PPPOES' ? 'pppoes' : 'geneve';
        return simple({ type, value: n?.num, span: n ? span(t.span, n.span) : t.span });
      }
      case 'PPPOED':
        return simple({ type: 'pppoed', span: t.span });
      case 'LLC': {
        const n = this.peek();
        if (n.type === 'ID' || n.type === 'PF_RNR') {
          this.next();
          return simple({ type: 'llc', subtype: n.type === 'PF_RNR' ? 'rnr' : n.str, span: span(t.span, n.span) });
        }
        return simple({ type: 'llc', subtype: undefined, span: t.span });
      }
      case 'PF_IFNAME':
      case 'PF_RSET':
      case 'PF_ACTION': {
        const v = this.expect('ID');
        const kw = t.type === 'PF_IFNAME' ? 'ifname' : t.type === 'PF_RSET' ? 'ruleset' : 'action';
        return simple({ type: 'linkSpecific', keyword: kw, args: [v.str], span: t.span });
      }
      case 'PF_RNR':
      case 'PF_SRNR': {
        const v = this.expect('NUM');
        return simple({
          type: 'linkSpecific',
          keyword: t.type === 'PF_RNR' ? 'rnr' : 'srnr',
          args: [v.num],
          span: t.span,
        });
      }
      case 'PF_REASON': {
        const v = this.next();
        if (v.type !== 'NUM' && v.type !== 'ID') {
          this.i--;
          this.fail();
        }
        return simple({
          type: 'linkSpecific',
          keyword: 'reason',
          args: [v.type === 'NUM' ? v.num : v.str],
          span: t.span,
        });
      }
      case 'TYPE':
      case 'SUBTYPE':
      case 'DIR':
        this.i--;
        return this.parse80211();
      default: {
        const bare = LINK_SPECIFIC_BARE[t.type];
        if (bare) return simple({ type: 'linkSpecific', keyword: bare, args: [], span: t.span });
        const field = LINK_SPECIFIC_FIELD[t.type];
        if (field) {
          const n = this.peek().type;
          if (n === 'NUM') this.next();
          else if (RELOP[n]) {
            this.next();
            this.expect('NUM');
          } else if (n === '(') {
            // `vpi (1 or 2)`
            this.next();
            this.expect('NUM');
            while (this.peek().type === 'OR') {
              this.next();
              this.expect('NUM');
            }
            this.expect(')');
          } else this.fail();
          return simple({ type: 'linkSpecific', keyword: field, args: [], span: t.span });
        }
        this.i--;
        this.fail();
      }
    }
  }
}

/**
 * Parses a pcap-filter expression (libpcap 1.10 grammar, quirks included: `and`/`or` share one
 * precedence, `%` and `^` take everything to their right, qualifiers are inherited by bare ids).
 * @param hook called for each node in libpcap's reduction order (used by the code generator).
 * @throws FilterError on a syntax or lexical error, or whatever the hook throws.
 */
export function parseFilter(text: string, hook?: NodeHook): FilterAst {
  try {
    return new Parser(tokenize(text), hook).parseProgram();
  } catch (e) {
    // Thousands of nested parentheses exhaust the JS stack (libpcap's parser stack has a limit too).
    if (e instanceof RangeError)
      throw new FilterError('syntax', "can't parse filter expression: expression nested too deeply");
    throw e;
  }
}
