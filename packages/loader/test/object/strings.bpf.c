// String literals (.rodata.str1.1, bpf_printk) and a callback subprogram (bpf_loop).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

__u64 sum;

static int add_index(__u32 index, void *ctx)
{
	sum += index;
	return 0;
}

SEC("socket")
int strings(struct __sk_buff *skb)
{
	bpf_printk("len %u", skb->len);
	bpf_loop(4, add_index, 0, 0);
	return 0;
}
