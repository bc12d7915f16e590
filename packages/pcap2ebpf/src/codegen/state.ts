import { FilterError, GrammarActionError, type Span } from '../lang/errors.js';
import type { NameResolver } from '../names/resolver.js';
import { OFFSET_NOT_SET } from './constants.js';

/** The link types the generator deals with: the two pwru uses, and PPP (inside PPPoE). */
export type Dlt = 'EN10MB' | 'RAW' | 'PPP';

/** An offset that is a constant plus, when `isVariable`, a value kept at run time in scratch `reg`. */
export interface AbsOffset {
  constantPart: number;
  isVariable: boolean;
  reg: number;
}

const BPF_MEMWORDS = 16;

function offset(constantPart: number): AbsOffset {
  return { constantPart, isVariable: false, reg: -1 };
}

/**
 * Everything libpcap's `compiler_state_t` tracks while generating code: current link type and header
 * offsets (shifted by vlan/mpls/pppoes/geneve as parsing proceeds), the scratch-register allocator,
 * and the environment (snaplen, netmask, names).
 */
export class CodegenState {
  linktype: Dlt;
  prevlinktype: Dlt;
  readonly outermostlinktype: Dlt;
  offLinkhdr: AbsOffset;
  offPrevlinkhdr: AbsOffset;
  offOutermostlinkhdr: AbsOffset;
  offLinkpl: AbsOffset;
  offLinktype: AbsOffset;
  offNl: number;
  offNlNosnap: number;
  labelStackDepth = 0;
  vlanStackDepth = 0;
  isGeneve = false;
  /** Set by protochain and geneve: libpcap never optimizes such programs. */
  noOptimize = false;
  private readonly regused: boolean[] = new Array<boolean>(BPF_MEMWORDS).fill(false);
  private curreg = 0;
  /** Where in the expression the node being generated is, for error positions. */
  span: Span | undefined;

  constructor(
    linktype: 'EN10MB' | 'RAW',
    readonly snaplen: number,
    /** The IPv4 netmask for `ip broadcast`; undefined = unknown (as pwru compiles). */
    readonly netmask: number | undefined,
    readonly names: NameResolver,
  ) {
    this.linktype = this.prevlinktype = this.outermostlinktype = linktype;
    if (linktype === 'EN10MB') {
      this.offLinktype = offset(12);
      this.offLinkpl = offset(14);
      this.offNl = 0;
      this.offNlNosnap = 3;
    } else {
      this.offLinktype = offset(OFFSET_NOT_SET);
      this.offLinkpl = offset(0);
      this.offNl = 0;
      this.offNlNosnap = 0;
    }
    this.offLinkhdr = offset(0);
    this.offPrevlinkhdr = { ...this.offLinkhdr };
    this.offOutermostlinkhdr = { ...this.offLinkhdr };
  }

  /** Raises a compile error at the current node. */
  error(message: string): never {
    throw new FilterError('semantic', message, this.span);
  }

  /** Raises an error that libpcap raises in a grammar action rather than in its code generator. */
  grammarError(message: string): never {
    throw new GrammarActionError('semantic', message, this.span);
  }

  /** Allocates a scratch register, round-robin from where the last search stopped (`alloc_reg`). */
  allocReg(): number {
    for (let n = BPF_MEMWORDS; --n >= 0; ) {
      if (this.regused[this.curreg]) this.curreg = (this.curreg + 1) % BPF_MEMWORDS;
      else {
        this.regused[this.curreg] = true;
        return this.curreg;
      }
    }
    return this.error('too many registers needed to evaluate expression');
  }

  /** Releases a scratch register. */
  freeReg(n: number): void {
    this.regused[n] = false;
  }

  /** Switches to a new link-layer header (`PUSH_LINKHDR`). */
  pushLinkhdr(linktype: Dlt, isVariable: boolean, constantPart: number, reg: number): void {
    this.prevlinktype = this.linktype;
    this.offPrevlinkhdr = { ...this.offLinkhdr };
    this.linktype = linktype;
    this.offLinkhdr = { isVariable, constantPart, reg };
    this.isGeneve = false;
  }

  /** libpcap's name for the current link type in messages. */
  linktypeDescription(): string {
    return this.linktype === 'EN10MB' ? 'Ethernet' : this.linktype === 'RAW' ? 'Raw IP' : 'PPP';
  }
}
