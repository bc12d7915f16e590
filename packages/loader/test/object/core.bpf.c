// CO-RE relocations of every kind libbpf supports, on the running task (raw_tp runs under
// BPF_PROG_TEST_RUN in the caller's task). Results land in .bss for the test to read.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

// task_struct::state became __state in 5.14: the classic CO-RE flavor pair.
struct task_struct___new {
	unsigned int __state;
} __attribute__((preserve_access_index));

struct task_struct___old {
	long state;
} __attribute__((preserve_access_index));

struct no_such_kernel_type___x {
	int a;
} __attribute__((preserve_access_index));

enum bpf_map_type___local {
	BPF_MAP_TYPE_RINGBUF___local = 99,
	BPF_MAP_TYPE_NO_SUCH___local = 100,
};

__u32 pid, tgid, task_size, pid_size, pid_signed, has_new_state, has_old_state;
__u32 has_missing_type, has_task_type, ringbuf_exists, missing_enum_exists, reset_on_fork_bits;
__u64 state, ringbuf_value, reset_on_fork;
__s32 local_type_id, target_type_id;
char comm[16];

SEC("raw_tp/sys_enter")
int probe(void *ctx)
{
	struct task_struct *t = (void *)bpf_get_current_task();

	pid = BPF_CORE_READ(t, pid);
	tgid = BPF_CORE_READ(t, tgid);
	bpf_core_read_str(comm, sizeof(comm), &t->comm);
	if (bpf_core_field_exists(struct task_struct___new, __state)) {
		has_new_state = 1;
		state = BPF_CORE_READ((struct task_struct___new *)t, __state);
	}
	if (bpf_core_field_exists(struct task_struct___old, state)) {
		has_old_state = 1;
		state = BPF_CORE_READ((struct task_struct___old *)t, state);
	}
	task_size = bpf_core_type_size(struct task_struct);
	pid_size = bpf_core_field_size(t->pid);
	pid_signed = __builtin_preserve_field_info(t->pid, BPF_FIELD_SIGNED);
	has_missing_type = bpf_core_type_exists(struct no_such_kernel_type___x);
	has_task_type = bpf_core_type_exists(struct task_struct);
	local_type_id = bpf_core_type_id_local(struct task_struct);
	target_type_id = bpf_core_type_id_kernel(struct task_struct);
	ringbuf_exists = bpf_core_enum_value_exists(enum bpf_map_type___local, BPF_MAP_TYPE_RINGBUF___local);
	missing_enum_exists = bpf_core_enum_value_exists(enum bpf_map_type___local, BPF_MAP_TYPE_NO_SUCH___local);
	ringbuf_value = bpf_core_enum_value(enum bpf_map_type___local, BPF_MAP_TYPE_RINGBUF___local);
	reset_on_fork = BPF_CORE_READ_BITFIELD_PROBED(t, sched_reset_on_fork);
	reset_on_fork_bits = bpf_core_field_size(t->sched_reset_on_fork);
	return 0;
}
