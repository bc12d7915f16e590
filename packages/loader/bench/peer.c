// Bench-only peer, built into /tmp by bench.mjs: the same work in C.
//   peer lookup <map_id> <iterations>          -> ns per BPF_MAP_LOOKUP_ELEM
//   peer ringbuf <map_id> <prog_id> <records> <repeat-per-run> -> records consumed with libbpf + decode
#include <stdarg.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static volatile uint64_t sink;
static uint64_t seen;

static int on_record(void *ctx, void *data, size_t len) {
  const uint8_t *p = data;
  uint64_t v = *(const uint32_t *)p + *(const uint64_t *)(p + 8);
  if (len >= 246) v += *(const uint32_t *)(p + 64) + *(const uint16_t *)(p + 84) + *(const uint64_t *)(p + 186) + p[144];
  sink += v;
  seen++;
  return 0;
}

static int quiet(enum libbpf_print_level level, const char *fmt, va_list args) {
  (void)level; (void)fmt; (void)args;
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 4 && !strcmp(argv[1], "objload")) {
    /* open + relocate + load + close of an object file, N times: ns per round */
    long n = atol(argv[3]);
    libbpf_set_print(quiet);
    double t = now_ns();
    for (long i = 0; i < n; i++) {
      struct bpf_object *obj = bpf_object__open_file(argv[2], NULL);
      if (!obj || bpf_object__load(obj)) { fprintf(stderr, "libbpf could not load %s\n", argv[2]); return 1; }
      bpf_object__close(obj);
    }
    printf("%.0f\n", (now_ns() - t) / n);
    return 0;
  }
  if (argc >= 4 && !strcmp(argv[1], "lookup")) {
    int fd = bpf_map_get_fd_by_id(atoi(argv[2]));
    long n = atol(argv[3]);
    uint32_t key = 0;
    uint64_t value;
    double t = now_ns();
    for (long i = 0; i < n; i++) bpf_map_lookup_elem(fd, &key, &value);
    printf("%f\n", (now_ns() - t) / n);
    return 0;
  }
  if (argc >= 6 && !strcmp(argv[1], "ringbuf")) {
    int map = bpf_map_get_fd_by_id(atoi(argv[2]));
    int prog = bpf_prog_get_fd_by_id(atoi(argv[3]));
    long total = atol(argv[4]);
    int repeat = atoi(argv[5]);
    struct ring_buffer *rb = ring_buffer__new(map, on_record, NULL, NULL);
    uint8_t pkt[64] = {0};
    LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt, .data_size_in = sizeof pkt, .repeat = repeat);
    double consume = 0;
    long produced = 0;
    while (produced < total) {
      bpf_prog_test_run_opts(prog, &opts);
      produced += repeat;
      double t = now_ns();
      ring_buffer__consume(rb);
      consume += now_ns() - t;
    }
    printf("%ld %f\n", (long)seen, consume);
    return 0;
  }
  fprintf(stderr, "usage: peer lookup <map_id> <n> | peer ringbuf <map_id> <prog_id> <records> <repeat>\n");
  return 2;
}
