// kprobe-multi by glob and kretprobe-multi by name, attached by section: they count this
// process's openat() calls (filtered by a .rodata tgid set from TypeScript).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 target_tgid = 0;
__u64 multi_hits, multi_ret_hits;

SEC("kprobe.multi/do_sys_openat?")
int multi_entry(struct pt_regs *ctx)
{
	if ((bpf_get_current_pid_tgid() >> 32) == target_tgid)
		__sync_fetch_and_add(&multi_hits, 1);
	return 0;
}

SEC("kretprobe.multi/do_sys_openat2")
int multi_exit(struct pt_regs *ctx)
{
	if ((bpf_get_current_pid_tgid() >> 32) == target_tgid)
		__sync_fetch_and_add(&multi_ret_hits, 1);
	return 0;
}
