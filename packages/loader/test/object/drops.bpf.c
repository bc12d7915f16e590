// A libbpf-tools-like tracer: packet drops by reason, from the kfree_skb tracepoint (tp_btf).
// Counts per reason in a hash map and one ring-buffer event per drop.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "GPL";

struct drop_event {
	__u64 location;
	__u32 reason;
	__u32 len;
	__u32 ifindex;
	__u16 protocol;
	__u16 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} drops_by_reason SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 16);
} events SEC(".maps");

/* Only this reason (0: all). */
const volatile __u32 only_reason = 0;
__u64 total = 0;

SEC("tp_btf/kfree_skb")
int BPF_PROG(trace_drop, struct sk_buff *skb, void *location, enum skb_drop_reason reason)
{
	__u32 key = reason;
	if (only_reason && reason != only_reason)
		return 0;
	__sync_fetch_and_add(&total, 1);
	__u64 *n = bpf_map_lookup_elem(&drops_by_reason, &key);
	if (n) {
		__sync_fetch_and_add(n, 1);
	} else {
		__u64 one = 1;
		bpf_map_update_elem(&drops_by_reason, &key, &one, BPF_NOEXIST);
	}
	struct drop_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return 0;
	e->location = (__u64)location;
	e->reason = reason;
	e->len = BPF_CORE_READ(skb, len);
	e->ifindex = BPF_CORE_READ(skb, dev, ifindex);
	e->protocol = bpf_ntohs(BPF_CORE_READ(skb, protocol));
	e->pad = 0;
	bpf_ringbuf_submit(e, 0);
	return 0;
}
