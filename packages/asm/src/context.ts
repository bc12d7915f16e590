/**
 * The uapi contexts and return codes of the packet program types (`linux/bpf.h`,
 * `linux/pkt_cls.h`), for programs written around a filter: what an XDP or tc program returns,
 * and where `struct xdp_md` and `struct __sk_buff` keep their fields (the offsets a program
 * loads from R1; the kernel rewrites them to the real structures at load time).
 */

/** What an XDP program returns (`enum xdp_action`). */
export const XdpAction = { ABORTED: 0, DROP: 1, PASS: 2, TX: 3, REDIRECT: 4 } as const;

/** What a tc (`sched_cls`, direct-action) program returns (`TC_ACT_*`). */
export const TcAction = {
  UNSPEC: -1,
  OK: 0,
  RECLASSIFY: 1,
  SHOT: 2,
  PIPE: 3,
  STOLEN: 4,
  QUEUED: 5,
  REPEAT: 6,
  REDIRECT: 7,
} as const;

/** Byte offsets of `struct xdp_md`'s fields (all u32; `data`/`data_end` load as packet pointers). */
export const XdpMdOffset = {
  data: 0,
  data_end: 4,
  data_meta: 8,
  ingress_ifindex: 12,
  rx_queue_index: 16,
  egress_ifindex: 20,
} as const;

/**
 * Byte offsets of `struct __sk_buff`'s fields, the context of socket filters and tc programs
 * (not the kernel's `struct sk_buff`). `cb` is five u32s, `remote_ip6`/`local_ip6` four each.
 */
export const SkBuffCtxOffset = {
  len: 0,
  pkt_type: 4,
  mark: 8,
  queue_mapping: 12,
  protocol: 16,
  vlan_present: 20,
  vlan_tci: 24,
  vlan_proto: 28,
  priority: 32,
  ingress_ifindex: 36,
  ifindex: 40,
  tc_index: 44,
  cb: 48,
  hash: 68,
  tc_classid: 72,
  data: 76,
  data_end: 80,
  napi_id: 84,
  family: 88,
  remote_ip4: 92,
  local_ip4: 96,
  remote_ip6: 100,
  local_ip6: 116,
  remote_port: 132,
  local_port: 136,
  data_meta: 140,
  tstamp: 152,
  wire_len: 160,
  gso_segs: 164,
  gso_size: 176,
  tstamp_type: 180,
  hwtstamp: 184,
} as const;
