// The floor of kprobe-multi.mjs: libbpf's bpf_program__attach_kprobe_multi_opts on a symbol list,
// then bpf_link__destroy, timed in-process (bench only; gcc + libbpf-dev in the VM).
//
//   kprobe-multi-floor OBJ SYMBOLS_FILE   → prints "attach_ms detach_ms count"
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s OBJ SYMBOLS_FILE\n", argv[0]);
		return 2;
	}
	FILE *f = fopen(argv[2], "r");
	if (!f) {
		perror(argv[2]);
		return 1;
	}
	size_t cap = 4096, n = 0;
	const char **syms = calloc(cap, sizeof(*syms));
	char line[512];
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		if (!line[0])
			continue;
		if (n == cap)
			syms = realloc(syms, (cap *= 2) * sizeof(*syms));
		syms[n++] = strdup(line);
	}
	fclose(f);

	struct bpf_object *obj = bpf_object__open_file(argv[1], NULL);
	if (!obj || bpf_object__load(obj)) {
		fprintf(stderr, "cannot load %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	struct bpf_program *prog = bpf_object__next_program(obj, NULL);
	LIBBPF_OPTS(bpf_kprobe_multi_opts, opts, .syms = syms, .cnt = n);

	double t0 = now_ms();
	struct bpf_link *link = bpf_program__attach_kprobe_multi_opts(prog, NULL, &opts);
	double t1 = now_ms();
	if (!link) {
		fprintf(stderr, "attach_kprobe_multi of %zu symbols: %s\n", n, strerror(errno));
		return 1;
	}
	bpf_link__destroy(link);
	double t2 = now_ms();
	printf("%.1f %.1f %zu\n", t1 - t0, t2 - t1, n);
	bpf_object__close(obj);
	return 0;
}
