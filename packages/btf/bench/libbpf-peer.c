// Bench-only peer for bench/bench.mjs: libbpf's btf__parse (from the file) and btf__new (from bytes
// already in memory), by-name lookups, and the same "functions with a struct sk_buff pointer
// parameter" scan, timed in-process.
// Built at bench time: gcc -O2 bench/libbpf-peer.c -lbpf -o /tmp/...; never shipped.
#include <bpf/btf.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double clock_ms(clockid_t clock) {
	struct timespec ts;
	clock_gettime(clock, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double now_ms(void) { return clock_ms(CLOCK_MONOTONIC); }
static double cpu_ms(void) { return clock_ms(CLOCK_PROCESS_CPUTIME_ID); }

static int cmp(const void *a, const void *b) {
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
	qsort(v, n, sizeof(*v), cmp);
	return v[n / 2];
}

/* Counts FUNCs with a parameter that is a pointer (through typedefs/qualifiers) to struct sk_buff. */
static int skb_funcs(const struct btf *btf, int skb_id) {
	int n = btf__type_cnt(btf), count = 0;
	for (int id = 1; id < n; id++) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		if (!btf_is_func(t))
			continue;
		const struct btf_type *proto = btf__type_by_id(btf, t->type);
		const struct btf_param *p = btf_params(proto);
		for (int i = 0; i < btf_vlen(proto); i++) {
			const struct btf_type *pt = btf__type_by_id(btf, p[i].type);
			int tid = p[i].type;
			while (btf_is_typedef(pt) || btf_is_mod(pt)) {
				tid = pt->type;
				pt = btf__type_by_id(btf, tid);
			}
			if (!btf_is_ptr(pt))
				continue;
			tid = btf__resolve_type(btf, pt->type);
			if (tid == skb_id) {
				count++;
				break;
			}
		}
	}
	return count;
}

int main(int argc, char **argv) {
	if (argc < 3) {
		fprintf(stderr, "usage: %s BTF_FILE ITERATIONS\n", argv[0]);
		return 2;
	}
	int iters = atoi(argv[2]);
	/* The file's bytes, read once, for the from-memory timings (btf__new copies them). */
	FILE *f = fopen(argv[1], "rb");
	if (!f) {
		perror(argv[1]);
		return 1;
	}
	size_t cap = 1 << 20, size = 0, got;
	char *data = malloc(cap);
	while ((got = fread(data + size, 1, cap - size, f)) > 0) {
		size += got;
		if (size == cap)
			data = realloc(data, cap *= 2);
	}
	fclose(f);
	double *mem = calloc(iters, sizeof(double)), *mem_cpu = calloc(iters, sizeof(double));
	double *parse = calloc(iters, sizeof(double)), *scan = calloc(iters, sizeof(double));
	double *parse_cpu = calloc(iters, sizeof(double)), *scan_cpu = calloc(iters, sizeof(double));
	double *first = calloc(iters, sizeof(double)), *later = calloc(iters, sizeof(double));
	double *family = calloc(iters, sizeof(double));
	size_t retained = 0;
	int found = 0;
	for (int i = 0; i < iters; i++) {
		/* From the file: btf__parse reads it (fopen + fread), validates, then the first query. */
		struct mallinfo2 before = mallinfo2();
		double c0 = cpu_ms();
		double t0 = now_ms();
		struct btf *btf = btf__parse(argv[1], NULL);
		if (!btf) {
			perror("btf__parse");
			return 1;
		}
		double tq = now_ms();
		int skb = btf__find_by_name_kind(btf, "sk_buff", BTF_KIND_STRUCT);
		double t1 = now_ms(), c1 = cpu_ms();
		first[i] = t1 - tq;
		found = skb_funcs(btf, skb);
		double t2 = now_ms(), c2 = cpu_ms();
		parse_cpu[i] = c1 - c0;
		scan_cpu[i] = c2 - c1;
		struct mallinfo2 after = mallinfo2();
		retained = after.uordblks + after.hblkhd - before.uordblks - before.hblkhd;
		parse[i] = t1 - t0;
		scan[i] = t2 - t1;
		/* A second by-name query on the same blob: libbpf scans the types again. */
		double t3 = now_ms();
		if (btf__find_by_name_kind(btf, "net_device", BTF_KIND_STRUCT) < 0) {
			fprintf(stderr, "no struct net_device\n");
			return 1;
		}
		later[i] = now_ms() - t3;
		/* A name whose type lies deeper in the blob (a trace_event_raw_* struct); may be absent. */
		double t4 = now_ms();
		btf__find_by_name_kind(btf, "trace_event_raw_kfree_skb", BTF_KIND_STRUCT);
		family[i] = now_ms() - t4;
		btf__free(btf);

	}
	/* From memory, in a loop of its own so that neither mode inherits the other's malloc state. */
	for (int i = 0; i < iters; i++) {
		/* From memory: btf__new validates and copies the bytes, then the same first query. */
		double m0 = now_ms(), mc0 = cpu_ms();
		struct btf *from_mem = btf__new(data, size);
		if (!from_mem || btf__find_by_name_kind(from_mem, "sk_buff", BTF_KIND_STRUCT) < 0) {
			fprintf(stderr, "btf__new or sk_buff lookup failed\n");
			return 1;
		}
		mem_cpu[i] = cpu_ms() - mc0;
		mem[i] = now_ms() - m0;
		btf__free(from_mem);
	}
	double first_cold = first[0]; /* the process's first query, before median() sorts */
	printf("{\"mem_ms\":%.3f,\"mem_cpu_ms\":%.3f,\"parse_ms\":%.3f,\"skb_ms\":%.3f,\"parse_cpu_ms\":%.3f,\"skb_cpu_ms\":%.3f,\"skb_funcs\":%d,"
	       "\"retained_bytes\":%zu,\"first_cold_ms\":%.4f,\"first_ms\":%.4f,\"later_ms\":%.4f,\"family_ms\":%.4f}\n",
	       median(mem, iters), median(mem_cpu, iters), median(parse, iters), median(scan, iters), median(parse_cpu, iters), median(scan_cpu, iters), found,
	       retained, first_cold, median(first, iters), median(later, iters), median(family, iters));
	return 0;
}
