import {
  AttachType,
  attachTracing,
  type HasFd,
  type LoadedProgramInfo,
  loadedPrograms,
  NotFoundError,
  Program,
  programFunctionTarget,
  ProgramType,
} from 'bpf-loader-ts';
import type { Instruction, LinkedProgram } from 'bpf-asm-ts';
import { type BpfProgTarget, hookOf } from '../discovery/bpf-progs.js';
import { PwruError } from '../errors.js';
import type { Attachment } from './session.js';

/** What discovery needs to know about a loaded program. */
export type BpfProgInfo = Pick<LoadedProgramInfo, 'id' | 'type' | 'name' | 'tag' | 'functions'>;

/** Every tc (sched_cls/sched_act) and XDP program loaded on the system, with its BTF functions. */
export function tcAndXdpPrograms(): BpfProgInfo[] {
  return loadedPrograms({ filter: (info) => hookOf(info.type) !== undefined });
}

/** How a target reads in messages: `tc program my_prog (id 42, entry tc_main)`. */
export function describeBpfProg(t: BpfProgTarget): string {
  return `${t.hook} program ${t.name || '(no name)'} (id ${t.id}, entry ${t.entry})`;
}

/**
 * Loads a fentry or fexit program on the entry function of the loaded program `target` (opened
 * by id; its BTF func_info at instruction 0 gives the attach BTF id, so a subprogram listed first
 * cannot be mistaken for it).
 */
export function loadBpfProgTracer(o: {
  name: string;
  target: BpfProgTarget;
  mode: 'fentry' | 'fexit';
  instructions: LinkedProgram | readonly Instruction[];
  maps: Readonly<Record<string, HasFd>>;
}): Program {
  let target: Program;
  try {
    target = Program.fromId(o.target.id);
  } catch (e) {
    if (e instanceof NotFoundError) throw new PwruError(`cannot trace ${describeBpfProg(o.target)}: it was unloaded`);
    throw e;
  }
  try {
    const at = programFunctionTarget(target);
    return Program.load({
      name: o.name,
      type: ProgramType.TRACING,
      expectedAttachType: o.mode === 'fentry' ? AttachType.TRACE_FENTRY : AttachType.TRACE_FEXIT,
      attachBtfId: at.attachBtfId,
      attachProgFd: at.attachProgFd,
      instructions: o.instructions,
      maps: o.maps,
    });
  } finally {
    target.close();
  }
}

/** Attaches a program loaded by {@link loadBpfProgTracer}; closing the attachment detaches it. */
export function attachBpfProgTracer(program: Program, target: BpfProgTarget, mode: 'fentry' | 'fexit'): Attachment {
  const link = attachTracing(program, {
    attachType: mode === 'fentry' ? AttachType.TRACE_FENTRY : AttachType.TRACE_FEXIT,
    target: `${mode} ${describeBpfProg(target)}`,
  });
  return {
    count: 1,
    detach: async (progress) => {
      link.close();
      progress(1);
    },
  };
}
