import { type Btf, BtfNotFoundError, memberPath, sizeOf } from 'btf-parser';
import { PwruError } from '../errors.js';

/** Offsets inside one `struct nf_conntrack_tuple`. */
export interface CtTupleFields {
  readonly srcU3: number;
  readonly srcAll: number;
  readonly l3num: number;
  readonly dstU3: number;
  readonly dstAll: number;
  readonly protonum: number;
}

/** Where `--output-ct` reads conntrack state, from the kernel's BTF (CO-RE style). */
export interface CtFields {
  /** `sk_buff._nfct`. */
  readonly nfct: number;
  /** `nf_conn.status`, 8 bytes. */
  readonly status: number;
  /** `nf_conn.mark` (4 bytes), when the kernel has it. */
  readonly mark?: number;
  /** `nf_conn.zone.id` (2 bytes), when the kernel has it. */
  readonly zone?: number;
  /** Offsets of `tuplehash[IP_CT_DIR_ORIGINAL].tuple` and `tuplehash[IP_CT_DIR_REPLY].tuple`. */
  readonly tuples: readonly [number, number];
  readonly tuple: CtTupleFields;
  /** What this kernel lacks, one sentence each, to say once at start-up. */
  readonly missing: readonly string[];
}

/** Why `--output-ct` cannot work on a kernel. */
export class CtFieldsError extends PwruError {
  override name = 'CtFieldsError';
}

function offsetOf(btf: Btf, struct: string, path: string): number {
  const p = memberPath(btf, btf.typeByName(struct, 'struct'), path);
  if (p.loads.length !== 1) throw new BtfNotFoundError(`${struct}.${path} is behind a pointer`);
  return p.loads[0]!.offset;
}

/** Reads every offset `--output-ct` needs; optional members missing are listed in `missing`. */
export function ctFieldsFromBtf(btf: Btf): CtFields {
  const need = (struct: string, path: string): number => {
    try {
      return offsetOf(btf, struct, path);
    } catch (e) {
      throw new CtFieldsError(
        `--output-ct: kernel BTF has no ${struct}.${path} (${(e as Error).message}); this kernel's conntrack cannot be read`,
      );
    }
  };
  const missing: string[] = [];
  const optional = (path: string, what: string): number | undefined => {
    try {
      return offsetOf(btf, 'nf_conn', path);
    } catch {
      missing.push(`kernel BTF has no nf_conn.${path} (${what} off): --output-ct shows no ${path.split('.')[0]}`);
      return undefined;
    }
  };
  if (!btf.findType('nf_conn', 'struct'))
    throw new CtFieldsError('--output-ct: kernel BTF has no struct nf_conn (a kernel without conntrack)');
  const nfct = need('sk_buff', '_nfct');
  const status = need('nf_conn', 'status');
  const mark = optional('mark', 'CONFIG_NF_CONNTRACK_MARK');
  const zone = optional('zone.id', 'CONFIG_NF_CONNTRACK_ZONES');
  const hashes = need('nf_conn', 'tuplehash');
  const hashSize = sizeOf(btf, btf.typeByName('nf_conntrack_tuple_hash', 'struct').id);
  const inHash = need('nf_conntrack_tuple_hash', 'tuple');
  const t = (path: string): number => need('nf_conntrack_tuple', path);
  return {
    nfct,
    status,
    ...(mark !== undefined ? { mark } : {}),
    ...(zone !== undefined ? { zone } : {}),
    tuples: [hashes + inHash, hashes + hashSize + inHash],
    tuple: {
      srcU3: t('src.u3'),
      srcAll: t('src.u.all'),
      l3num: t('src.l3num'),
      dstU3: t('dst.u3'),
      dstAll: t('dst.u.all'),
      protonum: t('dst.protonum'),
    },
    missing,
  };
}
