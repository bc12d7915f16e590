/*
 * Bench-only peer: times libpcap's pcap_compile() on every expression read from stdin (one per line),
 * for one link type and optimizer setting. Prints "<ns per compile> <instructions or -1>" per line.
 * Build: gcc -O2 -o compile-libpcap compile-libpcap.c -lpcap
 */
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s EN10MB|RAW optimize(0|1) repeats < expressions\n", argv[0]);
    return 2;
  }
  int dlt = strcmp(argv[1], "RAW") == 0 ? DLT_RAW : DLT_EN10MB;
  int optimize = atoi(argv[2]);
  int repeats = atoi(argv[3]);
  pcap_t *p = pcap_open_dead(dlt, 262144);
  char line[4096];
  while (fgets(line, sizeof line, stdin)) {
    line[strcspn(line, "\n")] = 0;
    struct bpf_program prog;
    int len = -1;
    double t0 = now_ns();
    for (int i = 0; i < repeats; i++) {
      if (pcap_compile(p, &prog, line, optimize, PCAP_NETMASK_UNKNOWN) == 0) {
        len = (int)prog.bf_len;
        pcap_freecode(&prog);
      }
    }
    printf("%.0f %d\n", (now_ns() - t0) / repeats, len);
  }
  pcap_close(p);
  return 0;
}
