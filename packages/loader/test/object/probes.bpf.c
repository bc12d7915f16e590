// Tracepoint, kprobe and kretprobe programs (in that order: attachAll meets the kprobe
// after the tracepoint is attached), attached by section: they count this process's
// openat() calls (filtered by a .rodata tgid set from TypeScript).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 target_tgid = 0;
__u64 kprobe_hits, kretprobe_hits, tracepoint_hits;
__s64 last_dfd = 1;

static __always_inline int mine(void)
{
	return (bpf_get_current_pid_tgid() >> 32) == target_tgid;
}

SEC("tracepoint/syscalls/sys_enter_openat")
int openat_tp(void *ctx)
{
	if (mine())
		__sync_fetch_and_add(&tracepoint_hits, 1);
	return 0;
}

SEC("kprobe/do_sys_openat2")
int BPF_KPROBE(open_entry, int dfd)
{
	if (mine()) {
		__sync_fetch_and_add(&kprobe_hits, 1);
		last_dfd = dfd;
	}
	return 0;
}

SEC("kretprobe/do_sys_openat2")
int BPF_KRETPROBE(open_exit, long ret)
{
	if (mine())
		__sync_fetch_and_add(&kretprobe_hits, 1);
	return 0;
}
