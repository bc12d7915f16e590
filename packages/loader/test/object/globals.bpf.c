// Maps, global data and bpf-to-bpf calls: an XDP and a socket program sharing state.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, struct { __u64 packets; __u64 bytes; });
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

struct inner_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, struct inner_map);
} outer SEC(".maps");

const volatile __u32 verdict = XDP_PASS;
const volatile __u64 min_len = 0;
__u64 seen = 0;
__u32 last_len;
__u32 ratio SEC(".data.tuning") = 3;

static __noinline __u64 account(__u32 key, __u64 len)
{
	__u64 *c = bpf_map_lookup_elem(&counts, &key);
	if (c) {
		__sync_fetch_and_add(c, 1);
	} else {
		__u64 one = 1;
		bpf_map_update_elem(&counts, &key, &one, BPF_ANY);
	}
	return len * ratio;
}

__noinline int global_helper(__u32 len)
{
	last_len = len;
	return len > 100;
}

SEC("xdp")
int xdp_count(struct xdp_md *ctx)
{
	__u32 len = ctx->data_end - ctx->data;
	__u32 key = 0;
	if (len < min_len)
		return XDP_DROP;
	__sync_fetch_and_add(&seen, 1);
	account(len & 63, len);
	global_helper(len);
	struct { __u64 packets; __u64 bytes; } *s = bpf_map_lookup_elem(&stats, &key);
	if (s) {
		s->packets++;
		s->bytes += len;
	}
	__u32 *e = bpf_ringbuf_reserve(&events, sizeof(__u32), 0);
	if (e) {
		*e = len;
		bpf_ringbuf_submit(e, 0);
	}
	return verdict;
}

SEC("socket")
int sock_len(struct __sk_buff *skb)
{
	__u32 key = 1;
	void *inner = bpf_map_lookup_elem(&outer, &key);
	if (inner) {
		__u32 *v = bpf_map_lookup_elem(inner, &key);
		if (v)
			*v = skb->len;
	}
	account(2, skb->len);
	return skb->len;
}
