// Bench-only peer for the kprobe attach benchmark (built by kprobe-vm.mjs inside the VM):
// serially, for each function: perf_event_open on the kprobe PMU + BPF_LINK_CREATE; then closes
// them all serially. Prints "attach_ms detach_ms attached".
#include <bpf/bpf.h>
#include <linux/perf_event.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv) {
  if (argc < 4) return 2;
  int prog = bpf_prog_get_fd_by_id(atoi(argv[1]));
  int type = atoi(argv[2]);
  FILE *f = fopen(argv[3], "r");
  char name[256];
  int fds[8192], links[8192], n = 0;
  double t = now_ms();
  while (n < 8192 && fscanf(f, "%255s", name) == 1) {
    struct perf_event_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.size = sizeof attr;
    attr.type = type;
    attr.config1 = (uint64_t)(uintptr_t)name;
    int fd = syscall(SYS_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
    if (fd < 0) continue;
    int l = bpf_link_create(prog, fd, BPF_PERF_EVENT, NULL);
    if (l < 0) { close(fd); continue; }
    fds[n] = fd;
    links[n] = l;
    n++;
  }
  double attach = now_ms() - t;
  t = now_ms();
  for (int i = 0; i < n; i++) { close(links[i]); close(fds[i]); }
  printf("%f %f %d\n", attach, now_ms() - t, n);
  return 0;
}
