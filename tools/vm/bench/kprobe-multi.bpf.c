// The do-nothing kprobe.multi program the libbpf floor of kprobe-multi.mjs attaches (bench only;
// compiled in the VM with clang -target bpf). The section name makes libbpf load it with
// expected_attach_type BPF_TRACE_KPROBE_MULTI.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("kprobe.multi")
int bench_multi(void *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
