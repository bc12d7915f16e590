// __kconfig externs (filled from the running kernel) and a map pinned by name.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

extern __u32 LINUX_KERNEL_VERSION __kconfig;
extern bool CONFIG_BPF_SYSCALL __kconfig;
extern int CONFIG_HZ __kconfig;
extern enum libbpf_tristate CONFIG_NF_CONNTRACK __kconfig __weak;
extern bool CONFIG_NO_SUCH_OPTION_AT_ALL __kconfig __weak;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} kconfig_runs SEC(".maps");

__u32 version, hz, conntrack;
__u32 bpf_syscall, no_such;

SEC("socket")
int read_config(struct __sk_buff *skb)
{
	__u32 key = 0;
	__u64 *n = bpf_map_lookup_elem(&kconfig_runs, &key);
	if (n)
		__sync_fetch_and_add(n, 1);
	version = LINUX_KERNEL_VERSION;
	hz = CONFIG_HZ;
	conntrack = CONFIG_NF_CONNTRACK;
	bpf_syscall = CONFIG_BPF_SYSCALL;
	no_such = CONFIG_NO_SUCH_OPTION_AT_ALL;
	return 0;
}
