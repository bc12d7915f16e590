import { NotFoundError } from '../errors.js';
import { programFunctions } from '../prog/enumerate.js';
import type { Program } from '../prog/program.js';
import { readProgramInfo } from '../prog/program.js';
import { Errno } from '../sys/errno.js';
import type { TracingTarget } from './targets.js';

/**
 * The fentry/fexit target for a function of a loaded BPF program (pwru's tc/xdp tracing): its
 * BTF id in the program's BTF and the program's fd. Without `func`, the entry function
 * (instruction 0). Programs loaded without BTF cannot be targets.
 */
export function programFunctionTarget(target: Program, func?: string): TracingTarget {
  const info = readProgramInfo(target.backend, target.fd);
  const fns = programFunctions(target.backend, target.fd, info);
  if (fns.length === 0) {
    throw new NotFoundError(
      Errno.ENOENT,
      `trace ${target.describeTarget()}`,
      'the program has no BTF func_info, so fentry/fexit cannot attach to it',
    );
  }
  const f = func === undefined ? fns.find((x) => x.insnOffset === 0) : fns.find((x) => x.name === func);
  if (!f)
    throw new NotFoundError(
      Errno.ENOENT,
      `trace ${target.describeTarget()}`,
      `no function "${func}" in the program's BTF`,
    );
  return { attachBtfId: f.typeId, attachProgFd: target.fd, name: f.name };
}
