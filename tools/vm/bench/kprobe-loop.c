// Bench-only peer for tools/vm/bench/kprobes.mjs (compiled with gcc inside the VM, never shipped):
// the plain way to attach a BPF program to many kprobes. Serially, for each function named in
// FILE: perf_event_open on the kprobe PMU, then BPF_LINK_CREATE (BPF_PERF_EVENT); then closes
// every link and perf event fd serially. Raw syscalls only (no libbpf).
//
//   kprobe-loop PROG_ID PMU_TYPE FILE     prints "attach_ms detach_ms attached"
#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MAX_FNS 16384

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int bpf(int cmd, union bpf_attr *attr) { return (int)syscall(__NR_bpf, cmd, attr, sizeof *attr); }

static int fds[MAX_FNS], links[MAX_FNS];

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s PROG_ID PMU_TYPE FILE\n", argv[0]);
    return 2;
  }
  union bpf_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.prog_id = (uint32_t)atoi(argv[1]);
  int prog = bpf(BPF_PROG_GET_FD_BY_ID, &attr);
  if (prog < 0) {
    perror("BPF_PROG_GET_FD_BY_ID");
    return 1;
  }
  FILE *f = fopen(argv[3], "r");
  if (!f) {
    perror(argv[3]);
    return 1;
  }
  char name[256];
  int n = 0;
  double t = now_ms();
  while (n < MAX_FNS && fscanf(f, "%255s", name) == 1) {
    struct perf_event_attr pe;
    memset(&pe, 0, sizeof pe);
    pe.size = sizeof pe;
    pe.type = (uint32_t)atoi(argv[2]);
    pe.config1 = (uint64_t)(uintptr_t)name;  // kprobe_func
    int fd = (int)syscall(__NR_perf_event_open, &pe, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
    if (fd < 0) continue;
    memset(&attr, 0, sizeof attr);
    attr.link_create.prog_fd = (uint32_t)prog;
    attr.link_create.target_fd = (uint32_t)fd;
    attr.link_create.attach_type = BPF_PERF_EVENT;
    int l = bpf(BPF_LINK_CREATE, &attr);
    if (l < 0) {
      close(fd);
      continue;
    }
    fds[n] = fd;
    links[n] = l;
    n++;
  }
  double attach = now_ms() - t;
  t = now_ms();
  for (int i = 0; i < n; i++) {
    close(links[i]);
    close(fds[i]);
  }
  printf("%f %f %d\n", attach, now_ms() - t, n);
  return 0;
}
