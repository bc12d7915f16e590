import { readFileSync } from 'node:fs';
import { mountTracefs, tracefsRoot } from '../fs/mounts.js';
import type { Attachment } from '../link/link.js';
import { attachKprobe } from '../link/kprobe.js';
import { attachKprobeMulti } from '../link/kprobe-multi.js';
import { attachXdp, attachTcx, type Interface } from '../link/netdev.js';
import { attachTracepoint } from '../link/perf-event.js';
import { attachRawTracepoint, attachTracing, isTracingAttachType } from '../link/tracing.js';
import type { Program } from '../prog/program.js';
import { AttachType } from '../sys/generated/constants.js';
import { ObjectError, type ObjectProgramSpec } from './parse.js';

/** Options for attaching object programs by their section. */
export interface AttachBySectionOptions {
  /** Network interface for `xdp` and `tc/ingress`/`tcx/egress`-style programs. */
  readonly interface?: Interface;
  /** BPF cookie (kprobe, tracepoint, tracing links). */
  readonly cookie?: bigint;
}

/** The functions ftrace can probe: `available_filter_functions` of tracefs (mounted if needed). */
export function readFilterFunctions(): string[] {
  mountTracefs();
  return readFileSync(`${tracefsRoot()}/available_filter_functions`, 'utf8')
    .split('\n')
    .map((l) => l.split(/\s/)[0]!)
    .filter((n) => n && !n.startsWith('__ftrace_invalid_address__'));
}

/**
 * Expands a `kprobe.multi/` glob (`*` and `?`, as libbpf matches them) over the probeable
 * functions; names listed twice (static functions of several files) are kept once.
 */
export function expandGlob(pattern: string, functions: readonly string[], what = `kprobe.multi/${pattern}`): string[] {
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
  const out = [...new Set(functions.filter((f) => re.test(f)))];
  if (out.length === 0) throw new ObjectError(`${what}: no probeable kernel function matches ${pattern}`);
  return out;
}

/** Whether a program can be attached from its section name alone (libbpf's auto-attach). */
export function autoAttachable(spec: ObjectProgramSpec): boolean {
  const a = spec.def.attach;
  if (!a) return false;
  if (a === 'xdp' || a === 'tcx') return false; // these need an interface
  if (a === 'tracing') return true;
  return spec.def.target !== '';
}

/**
 * Attaches a loaded object program the way its section says: `kprobe/fn`, `kretprobe/fn`,
 * `kprobe.multi/fn`, `tracepoint/cat/name`, `raw_tp/name`, `tp_btf/name`, `fentry/fn`, `fexit/fn`,
 * `fmod_ret/fn`, `lsm/hook`, `xdp` and `tc/ingress` (with an interface).
 */
export function attachBySection(prog: Program, spec: ObjectProgramSpec, opts: AttachBySectionOptions = {}): Attachment {
  const d = spec.def;
  const what = `program ${spec.name} (SEC("${spec.sectionName}"))`;
  const needTarget = () => {
    if (!d.target)
      throw new ObjectError(
        `${what}: the section names no target; use SEC("${d.prefix}/<target>") or attach it yourself`,
      );
    return d.target;
  };
  const needIface = () => {
    if (opts.interface === undefined) throw new ObjectError(`${what}: pass { interface } to attach it`);
    return opts.interface;
  };
  switch (d.attach) {
    case 'kprobe':
    case 'kretprobe': {
      const t = needTarget();
      const plus = /^(.+)\+(\d+)$/.exec(t);
      return attachKprobe(prog, plus ? plus[1]! : t, {
        retprobe: d.attach === 'kretprobe',
        offset: plus ? Number(plus[2]) : undefined,
        cookie: opts.cookie,
      });
    }
    case 'kprobe.multi':
    case 'kretprobe.multi': {
      const t = needTarget();
      const symbols = /[*?]/.test(t) ? expandGlob(t, readFilterFunctions(), what) : t.split(',');
      return attachKprobeMulti(prog, {
        symbols,
        retprobe: d.attach === 'kretprobe.multi',
        cookies: opts.cookie === undefined ? undefined : symbols.map(() => opts.cookie!),
      });
    }
    case 'tracepoint': {
      const t = needTarget();
      const slash = t.indexOf('/');
      if (slash <= 0) throw new ObjectError(`${what}: a tracepoint section is SEC("tracepoint/<category>/<name>")`);
      return attachTracepoint(prog, t.slice(0, slash), t.slice(slash + 1), { cookie: opts.cookie });
    }
    case 'raw_tp':
      return attachRawTracepoint(prog, needTarget(), { cookie: opts.cookie });
    case 'tracing':
      if (!isTracingAttachType(d.attachType)) throw new ObjectError(`${what}: not a tracing section`);
      return attachTracing(prog, { attachType: d.attachType, cookie: opts.cookie, target: `${d.prefix} ${d.target}` });
    case 'xdp':
      return attachXdp(prog, needIface());
    case 'tcx':
      return attachTcx(prog, needIface(), d.attachType === AttachType.TCX_INGRESS ? 'ingress' : 'egress');
    default:
      throw new ObjectError(
        `${what}: this section type is not attached by section; attach the program with the loader's link functions`,
      );
  }
}
