// A map-in-map whose slots are filled at load: .values = { [1] = &inner_b }.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} inner_a SEC(".maps"), inner_b SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 3);
	__type(key, __u32);
	__array(values, struct inner);
} slots SEC(".maps") = {
	.values = { [0] = &inner_a, [2] = &inner_b },
};

SEC("socket")
int read_slot(struct __sk_buff *skb)
{
	__u32 key = 2, zero = 0;
	void *m = bpf_map_lookup_elem(&slots, &key);
	if (!m)
		return 0;
	__u32 *v = bpf_map_lookup_elem(m, &zero);
	return v ? *v : 0;
}
