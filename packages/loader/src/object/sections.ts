import { AttachType, ProgramType } from '../sys/generated/constants.js';

/** BPF_F_SLEEPABLE (program flag). */
export const PROG_F_SLEEPABLE = 1 << 4;
/** BPF_F_XDP_HAS_FRAGS (program flag). */
export const PROG_F_XDP_HAS_FRAGS = 1 << 5;

/** How a program section name (libbpf's `SEC("...")` conventions) maps to a program. */
export interface SectionDef {
  /** The program type. */
  readonly type: ProgramType;
  /** expected_attach_type, when the program type needs one. */
  readonly attachType?: AttachType;
  /** Program flags (sleepable, xdp frags). */
  readonly flags?: number;
  /** The part after `prefix/` names a BTF attach target (tp_btf, fentry, fexit, lsm, iter, ...). */
  readonly btfTarget?: 'tracepoint' | 'function' | 'lsm' | 'iter';
  /** The attach kind the loader uses for `attach()`. */
  readonly attach?:
    | 'kprobe'
    | 'kretprobe'
    | 'kprobe.multi'
    | 'kretprobe.multi'
    | 'tracepoint'
    | 'raw_tp'
    | 'tracing'
    | 'tcx'
    | 'xdp';
}

/** The program definition of a section, and the target named after the prefix (if any). */
export interface ResolvedSection extends SectionDef {
  /** The section prefix that matched, e.g. `kprobe`. */
  readonly prefix: string;
  /** What follows `prefix/`, e.g. `tcp_v4_rcv` for `kprobe/tcp_v4_rcv` (empty when none). */
  readonly target: string;
}

const P = ProgramType;
const A = AttachType;

// [name, definition, exact]: an exact entry matches only the name itself; the others also match `name/anything`.
const DEFS: ReadonlyArray<readonly [string, SectionDef, boolean?]> = [
  ['socket', { type: P.SOCKET_FILTER }],
  ['sk_reuseport/migrate', { type: P.SK_REUSEPORT, attachType: A.SK_REUSEPORT_SELECT_OR_MIGRATE }, true],
  ['sk_reuseport', { type: P.SK_REUSEPORT, attachType: A.SK_REUSEPORT_SELECT }, true],
  ['kprobe', { type: P.KPROBE, attach: 'kprobe' }],
  ['kretprobe', { type: P.KPROBE, attach: 'kretprobe' }],
  ['ksyscall', { type: P.KPROBE, attach: 'kprobe' }],
  ['kretsyscall', { type: P.KPROBE, attach: 'kretprobe' }],
  ['kprobe.multi', { type: P.KPROBE, attachType: A.TRACE_KPROBE_MULTI, attach: 'kprobe.multi' }],
  ['kretprobe.multi', { type: P.KPROBE, attachType: A.TRACE_KPROBE_MULTI, attach: 'kretprobe.multi' }],
  ['tc/ingress', { type: P.SCHED_CLS, attachType: A.TCX_INGRESS, attach: 'tcx' }, true],
  ['tc/egress', { type: P.SCHED_CLS, attachType: A.TCX_EGRESS, attach: 'tcx' }, true],
  ['tcx/ingress', { type: P.SCHED_CLS, attachType: A.TCX_INGRESS, attach: 'tcx' }, true],
  ['tcx/egress', { type: P.SCHED_CLS, attachType: A.TCX_EGRESS, attach: 'tcx' }, true],
  ['tc', { type: P.SCHED_CLS }],
  ['classifier', { type: P.SCHED_CLS }],
  ['action', { type: P.SCHED_ACT }],
  ['tracepoint', { type: P.TRACEPOINT, attach: 'tracepoint' }],
  ['tp', { type: P.TRACEPOINT, attach: 'tracepoint' }],
  ['raw_tracepoint', { type: P.RAW_TRACEPOINT, attach: 'raw_tp' }],
  ['raw_tp', { type: P.RAW_TRACEPOINT, attach: 'raw_tp' }],
  ['raw_tracepoint.w', { type: P.RAW_TRACEPOINT_WRITABLE, attach: 'raw_tp' }],
  ['raw_tp.w', { type: P.RAW_TRACEPOINT_WRITABLE, attach: 'raw_tp' }],
  ['tp_btf', { type: P.TRACING, attachType: A.TRACE_RAW_TP, btfTarget: 'tracepoint', attach: 'tracing' }],
  ['fentry', { type: P.TRACING, attachType: A.TRACE_FENTRY, btfTarget: 'function', attach: 'tracing' }],
  ['fmod_ret', { type: P.TRACING, attachType: A.MODIFY_RETURN, btfTarget: 'function', attach: 'tracing' }],
  ['fexit', { type: P.TRACING, attachType: A.TRACE_FEXIT, btfTarget: 'function', attach: 'tracing' }],
  [
    'fentry.s',
    { type: P.TRACING, attachType: A.TRACE_FENTRY, flags: PROG_F_SLEEPABLE, btfTarget: 'function', attach: 'tracing' },
  ],
  [
    'fmod_ret.s',
    { type: P.TRACING, attachType: A.MODIFY_RETURN, flags: PROG_F_SLEEPABLE, btfTarget: 'function', attach: 'tracing' },
  ],
  [
    'fexit.s',
    { type: P.TRACING, attachType: A.TRACE_FEXIT, flags: PROG_F_SLEEPABLE, btfTarget: 'function', attach: 'tracing' },
  ],
  ['lsm', { type: P.LSM, attachType: A.LSM_MAC, btfTarget: 'lsm', attach: 'tracing' }],
  ['lsm.s', { type: P.LSM, attachType: A.LSM_MAC, flags: PROG_F_SLEEPABLE, btfTarget: 'lsm', attach: 'tracing' }],
  ['lsm_cgroup', { type: P.LSM, attachType: A.LSM_CGROUP, btfTarget: 'lsm' }],
  ['iter', { type: P.TRACING, attachType: A.TRACE_ITER, btfTarget: 'iter' }],
  ['iter.s', { type: P.TRACING, attachType: A.TRACE_ITER, flags: PROG_F_SLEEPABLE, btfTarget: 'iter' }],
  ['syscall', { type: P.SYSCALL }, true],
  ['xdp.frags/devmap', { type: P.XDP, attachType: A.XDP_DEVMAP, flags: PROG_F_XDP_HAS_FRAGS }, true],
  ['xdp/devmap', { type: P.XDP, attachType: A.XDP_DEVMAP }, true],
  ['xdp.frags/cpumap', { type: P.XDP, attachType: A.XDP_CPUMAP, flags: PROG_F_XDP_HAS_FRAGS }, true],
  ['xdp/cpumap', { type: P.XDP, attachType: A.XDP_CPUMAP }, true],
  ['xdp.frags', { type: P.XDP, attachType: A.XDP, flags: PROG_F_XDP_HAS_FRAGS, attach: 'xdp' }, true],
  ['xdp', { type: P.XDP, attachType: A.XDP, attach: 'xdp' }, true],
  ['perf_event', { type: P.PERF_EVENT }, true],
  ['lwt_in', { type: P.LWT_IN }, true],
  ['lwt_out', { type: P.LWT_OUT }, true],
  ['lwt_xmit', { type: P.LWT_XMIT }, true],
  ['lwt_seg6local', { type: P.LWT_SEG6LOCAL }, true],
  ['sockops', { type: P.SOCK_OPS, attachType: A.CGROUP_SOCK_OPS }, true],
  ['sk_skb/stream_parser', { type: P.SK_SKB, attachType: A.SK_SKB_STREAM_PARSER }, true],
  ['sk_skb/stream_verdict', { type: P.SK_SKB, attachType: A.SK_SKB_STREAM_VERDICT }, true],
  ['sk_skb', { type: P.SK_SKB }],
  ['sk_msg', { type: P.SK_MSG, attachType: A.SK_MSG_VERDICT }, true],
  ['lirc_mode2', { type: P.LIRC_MODE2, attachType: A.LIRC_MODE2 }, true],
  ['flow_dissector', { type: P.FLOW_DISSECTOR, attachType: A.FLOW_DISSECTOR }, true],
  ['cgroup_skb/ingress', { type: P.CGROUP_SKB, attachType: A.CGROUP_INET_INGRESS }, true],
  ['cgroup_skb/egress', { type: P.CGROUP_SKB, attachType: A.CGROUP_INET_EGRESS }, true],
  ['cgroup/skb', { type: P.CGROUP_SKB }, true],
  ['cgroup/sock_create', { type: P.CGROUP_SOCK, attachType: A.CGROUP_INET_SOCK_CREATE }, true],
  ['cgroup/sock_release', { type: P.CGROUP_SOCK, attachType: A.CGROUP_INET_SOCK_RELEASE }, true],
  ['cgroup/sock', { type: P.CGROUP_SOCK, attachType: A.CGROUP_INET_SOCK_CREATE }, true],
  ['cgroup/post_bind4', { type: P.CGROUP_SOCK, attachType: A.CGROUP_INET4_POST_BIND }, true],
  ['cgroup/post_bind6', { type: P.CGROUP_SOCK, attachType: A.CGROUP_INET6_POST_BIND }, true],
  ['cgroup/dev', { type: P.CGROUP_DEVICE, attachType: A.CGROUP_DEVICE }, true],
  ['cgroup/bind4', { type: P.CGROUP_SOCK_ADDR, attachType: A.CGROUP_INET4_BIND }, true],
  ['cgroup/bind6', { type: P.CGROUP_SOCK_ADDR, attachType: A.CGROUP_INET6_BIND }, true],
  ['cgroup/connect4', { type: P.CGROUP_SOCK_ADDR, attachType: A.CGROUP_INET4_CONNECT }, true],
  ['cgroup/connect6', { type: P.CGROUP_SOCK_ADDR, attachType: A.CGROUP_INET6_CONNECT }, true],
  ['cgroup/sendmsg4', { type: P.CGROUP_SOCK_ADDR, attachType: A.CGROUP_UDP4_SENDMSG }, true],
  ['cgroup/sendmsg6', { type: P.CGROUP_SOCK_ADDR, attachType: A.CGROUP_UDP6_SENDMSG }, true],
  ['cgroup/recvmsg4', { type: P.CGROUP_SOCK_ADDR, attachType: A.CGROUP_UDP4_RECVMSG }, true],
  ['cgroup/recvmsg6', { type: P.CGROUP_SOCK_ADDR, attachType: A.CGROUP_UDP6_RECVMSG }, true],
  ['cgroup/getpeername4', { type: P.CGROUP_SOCK_ADDR, attachType: A.CGROUP_INET4_GETPEERNAME }, true],
  ['cgroup/getpeername6', { type: P.CGROUP_SOCK_ADDR, attachType: A.CGROUP_INET6_GETPEERNAME }, true],
  ['cgroup/getsockname4', { type: P.CGROUP_SOCK_ADDR, attachType: A.CGROUP_INET4_GETSOCKNAME }, true],
  ['cgroup/getsockname6', { type: P.CGROUP_SOCK_ADDR, attachType: A.CGROUP_INET6_GETSOCKNAME }, true],
  ['cgroup/sysctl', { type: P.CGROUP_SYSCTL, attachType: A.CGROUP_SYSCTL }, true],
  ['cgroup/getsockopt', { type: P.CGROUP_SOCKOPT, attachType: A.CGROUP_GETSOCKOPT }, true],
  ['cgroup/setsockopt', { type: P.CGROUP_SOCKOPT, attachType: A.CGROUP_SETSOCKOPT }, true],
  ['struct_ops', { type: P.STRUCT_OPS }],
  ['struct_ops.s', { type: P.STRUCT_OPS, flags: PROG_F_SLEEPABLE }],
  ['sk_lookup', { type: P.SK_LOOKUP, attachType: A.SK_LOOKUP }, true],
  ['netfilter', { type: P.NETFILTER, attachType: A.NETFILTER }, true],
];

/**
 * Resolves a program section name by libbpf's conventions (`kprobe/tcp_v4_rcv`, `tp_btf/kfree_skb`,
 * `xdp`, `tc/ingress`, ...). Returns undefined for a name no convention covers.
 */
export function resolveSection(name: string): ResolvedSection | undefined {
  for (const [prefix, def, exact] of DEFS) {
    if (name === prefix) return { ...def, prefix, target: '' };
    if (!exact && name.startsWith(prefix + '/')) return { ...def, prefix, target: name.slice(prefix.length + 1) };
  }
  return undefined;
}
