// __ksym externs: a kfunc pair and an untyped symbol address. (Typed kernel variables need
// CONFIG_KALLSYMS_ALL, which the 6.18 host kernel lacks.)
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

extern void bpf_rcu_read_lock(void) __ksym;
extern void bpf_rcu_read_unlock(void) __ksym;
extern const void consume_skb __ksym; // untyped: its address, from /proc/kallsyms

__u64 consume_skb_addr;
__u32 ran;

SEC("tp_btf/kfree_skb")
int BPF_PROG(ksyms_drop, struct sk_buff *skb)
{
	bpf_rcu_read_lock();
	ran = 1;
	consume_skb_addr = (__u64)&consume_skb;
	bpf_rcu_read_unlock();
	return 0;
}
