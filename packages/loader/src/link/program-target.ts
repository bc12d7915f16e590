import { BtfHandle } from '../btf/handle.js';
import { NotFoundError } from '../errors.js';
import { getInfoByFd } from '../info.js';
import type { Program } from '../prog/program.js';
import { readProgramInfo } from '../prog/program.js';
import { ProgInfo } from '../sys/attr.js';
import { Errno } from '../sys/errno.js';
import type { TracingTarget } from './targets.js';

/**
 * The fentry/fexit target for a function of a loaded BPF program (pwru's tc/xdp tracing): its
 * BTF id in the program's BTF and the program's fd. Without `func`, the entry function
 * (instruction 0). Programs loaded without BTF cannot be targets.
 */
export function programFunctionTarget(target: Program, func?: string): TracingTarget {
  const b = target.backend;
  const info = readProgramInfo(b, target.fd);
  if (!info.btfId || !info.funcInfoCount) {
    throw new NotFoundError(Errno.ENOENT, `trace ${target.describeTarget()}`, 'the program has no BTF func_info, so fentry/fexit cannot attach to it');
  }
  const n = info.funcInfoCount;
  const recs = b.alloc(n * 8);
  try {
    getInfoByFd(b, target.fd, ProgInfo, 'program', (v) => {
      v.setUint32(ProgInfo.fields.nrFuncInfo.offset, n, true);
      v.setUint32(ProgInfo.fields.funcInfoRecSize.offset, 8, true);
      v.setBigUint64(ProgInfo.fields.funcInfo.offset, BigInt(recs.address), true);
    });
    using btf = BtfHandle.fromId(info.btfId, { backend: b });
    const parsed = btf.parse();
    for (let i = 0; i < n; i++) {
      const insnOff = recs.view.getUint32(i * 8, true);
      const typeId = recs.view.getUint32(i * 8 + 4, true);
      const name = parsed.nameOf(typeId);
      if (func === undefined ? insnOff === 0 : name === func) return { attachBtfId: typeId, attachProgFd: target.fd, name };
    }
  } finally {
    recs.free();
  }
  throw new NotFoundError(Errno.ENOENT, `trace ${target.describeTarget()}`, `no function "${func}" in the program's BTF`);
}
