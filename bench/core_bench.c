/* A helper for bench/core.sh: the ingest record core (pii_ingest_record(), which both the
 * stdin hook and the Kafka pipeline run) against the keyed BLAKE2b hashes it spends, on one
 * thread, over the same events held in memory, in the same run.
 * Usage: core_bench HOME DATASET FILE [--rounds N] [--out FILE] [--only core|hash]
 *
 * The program is linked with -Wl,--wrap=pii_b2b_digest: a first pass of the real core over
 * every event records each digest's keyed state (the product's subkey for the category,
 * derived by the product) and input bytes (after the product's normalisation), so the
 * hashes-only pass hashes exactly the values the core hashed, with the product's own
 * pii_b2b_digest(), and nothing else. Then each round times both over the events, 500 at a
 * time, the hashes of a slice and the core on it back to back (in turn first), and prints
 * the sums (CPU time of the thread, wall clock) in one line:
 *   round K hash_wall_s hash_cpu_s core_wall_s core_cpu_s
 * After the rounds: "events N", "hashes H" and "passed P rejected R suppressed S". --out
 * writes the first pass's output (rewritten records, one a line) for a comparison with
 * `steward ingest`. */
#include "blake2b.h"
#include "catalog.h"
#include "ingest.h"
#include "pii.h"
#include "alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The product's digest, reached through the linker's --wrap. */
void __real_pii_b2b_digest(const struct pii_b2b *s, const unsigned char *in, size_t n,
			   unsigned char *out);
void __wrap_pii_b2b_digest(const struct pii_b2b *s, const unsigned char *in, size_t n,
			   unsigned char *out);

struct hv {
	const struct pii_b2b *state;
	size_t off, len;
};

static struct {
	int on;
	struct hv *v;
	size_t n, cap;
	unsigned char *bytes;
	size_t used, bcap;
	int oom;
} rec;

void __wrap_pii_b2b_digest(const struct pii_b2b *s, const unsigned char *in, size_t n,
			   unsigned char *out)
{
	if (rec.on && !rec.oom) {
		if (rec.n == rec.cap) {
			size_t cap = rec.cap ? rec.cap * 2 : 1 << 16;
			struct hv *v = realloc(rec.v, cap * sizeof(*v));

			if (!v)
				rec.oom = 1;
			else
				rec.v = v, rec.cap = cap;
		}
		if (rec.used + n > rec.bcap) {
			size_t cap = rec.bcap ? rec.bcap * 2 : 1 << 20;
			unsigned char *b;

			while (cap < rec.used + n)
				cap *= 2;
			if (!(b = realloc(rec.bytes, cap)))
				rec.oom = 1;
			else
				rec.bytes = b, rec.bcap = cap;
		}
		if (!rec.oom) {
			rec.v[rec.n].state = s;
			rec.v[rec.n].off = rec.used;
			rec.v[rec.n].len = n;
			memcpy(rec.bytes + rec.used, in, n);
			rec.used += n;
			rec.n++;
		}
	}
	__real_pii_b2b_digest(s, in, n, out);
}

#define SLICE 500 /* events timed at a time */

static double clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int fail(const char *what, const struct st_error *err)
{
	char line[2048];

	st_error_format(err, line, sizeof(line));
	fprintf(stderr, "core_bench: %s: %s\n", what, line);
	return 3;
}

/* Where each line's recorded digests start (one more entry: the total). */
static size_t *first_hash;

struct lines {
	char *buf;
	size_t size;
	const char **p;
	size_t *len;
	size_t n;
};

/* Reads FILE whole and splits it into lines (without their newlines; blank lines are
 * skipped, as the hook skips them). */
static int load_lines(const char *path, struct lines *l)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 0, at = 0;
	long size;

	if (!f || fseek(f, 0, SEEK_END) || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
		fprintf(stderr, "core_bench: cannot read '%s'\n", path);
		if (f)
			fclose(f);
		return -1;
	}
	l->size = (size_t)size;
	l->buf = malloc(l->size + 1);
	if (!l->buf || fread(l->buf, 1, l->size, f) != l->size) {
		fprintf(stderr, "core_bench: cannot read '%s'\n", path);
		fclose(f);
		return -1;
	}
	fclose(f);
	l->buf[l->size] = '\n';
	while (at < l->size) {
		char *nl = memchr(l->buf + at, '\n', l->size + 1 - at);
		size_t len = (size_t)(nl - (l->buf + at));

		if (len) {
			if (l->n == cap) {
				cap = cap ? cap * 2 : 1 << 16;
				l->p = realloc(l->p, cap * sizeof(*l->p));
				l->len = realloc(l->len, cap * sizeof(*l->len));
				if (!l->p || !l->len) {
					fprintf(stderr, "core_bench: out of memory\n");
					return -1;
				}
			}
			l->p[l->n] = l->buf + at;
			l->len[l->n++] = len;
		}
		at += len + 1;
	}
	return 0;
}

/* Where the core's output goes in the timed passes: a 1 MiB buffer written over when it
 * fills, as the hook's output buffer is flushed (here without the write). */
static char sinkbuf[1 << 20];
static size_t sinkat;

static void sink(const char *p, size_t n)
{
	if (n + 1 > sizeof(sinkbuf))
		return;
	if (sinkat + n + 1 > sizeof(sinkbuf))
		sinkat = 0;
	memcpy(sinkbuf + sinkat, p, n);
	sinkbuf[sinkat + n] = '\n';
	sinkat += n + 1;
}

/* One pass of the core over lines [from, to). The recording pass notes where each line's
 * hashes start (first_hash) and counts outcomes into c[3] when c is not NULL and
 * writes the passed records to out when it is not NULL. Returns 0, or -1 on a system
 * error. */
static int core_pass(struct pii_ingest_worker *w, const struct lines *l, size_t from, size_t to,
		     size_t *c, FILE *out, struct st_error *err)
{
	struct pii_record_result res;

	for (size_t i = from; i < to; i++) {
		if (c)
			first_hash[i] = rec.n;
		if (pii_ingest_record(w, l->p[i], l->len[i], &res, err))
			return -1;
		if (res.outcome == PII_REC_PASSED)
			sink(res.out, res.out_len);
		else if (res.outcome == PII_REC_REJECTED)
			sink(res.why, strlen(res.why));
		if (c)
			c[res.outcome]++;
		if (out && res.outcome == PII_REC_PASSED)
			fwrite(res.out, 1, res.out_len, out), fputc('\n', out);
	}
	return 0;
}

/* The recorded digests of lines [from, to) alone. */
static unsigned hash_pass(size_t from, size_t to)
{
	unsigned char tag[64];
	unsigned acc = 0;

	for (size_t i = first_hash[from]; i < first_hash[to]; i++) {
		__real_pii_b2b_digest(rec.v[i].state, rec.bytes + rec.v[i].off, rec.v[i].len, tag);
		acc += tag[0];
	}
	return acc;
}

int main(int argc, char **argv)
{
	struct st_error err = ST_ERROR_INIT;
	struct catalog_workspace ws = {0};
	struct catalog_config cfg = {0};
	struct catalog *cat = NULL;
	struct pii_keyring kr = {0};
	struct pii_ingest *ing = NULL;
	struct pii_ingest_worker *w = NULL;
	struct pii_ingest_opts o = {0};
	struct st_diags problems;
	struct lines l = {0};
	const char *outpath = NULL, *only = "";
	char *keydir = NULL;
	size_t counts[3] = {0, 0, 0};
	long rounds = 5;
	unsigned acc = 0;
	int ret = 3, have_ws = 0, have_kr = 0;

	st_diags_init(&problems, 0);
	if (argc < 4) {
		fprintf(stderr, "usage: core_bench HOME DATASET FILE [--rounds N] [--out FILE] "
				"[--only core|hash]\n");
		return 2;
	}
	for (int i = 4; i < argc; i++) {
		if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
			rounds = strtol(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--out") && i + 1 < argc)
			outpath = argv[++i];
		else if (!strcmp(argv[i], "--only") && i + 1 < argc)
			only = argv[++i];
		else {
			fprintf(stderr, "core_bench: unknown option '%s'\n", argv[i]);
			return 2;
		}
	}
	if (rounds < 1) {
		fprintf(stderr, "core_bench: --rounds must be positive\n");
		return 2;
	}
	if (load_lines(argv[3], &l))
		goto out;
	if (catalog_workspace_find(&ws, argv[1], &err)) {
		ret = fail("workspace", &err);
		goto out;
	}
	have_ws = 1;
	if (catalog_config_load(&cfg, &ws, &err) || catalog_open(&cat, &ws, &err)) {
		ret = fail("catalog", &err);
		goto out;
	}
	if (!(keydir = catalog_workspace_state_path(&ws, "keys"))) {
		fprintf(stderr, "core_bench: out of memory\n");
		goto out;
	}
	if (pii_keyring_open(&kr, keydir, 1, &err)) {
		ret = fail("keyring", &err);
		goto out;
	}
	have_kr = 1;
	/* As `steward ingest` sets them, with no suppression list (a new workspace has none). */
	o.dataset = argv[2];
	o.country_code = pii_country_calling_code(catalog_config_str(&cfg, "pii.default_country"));
	if (pii_ingest_new(&ing, cat, pii_keyring_current(&kr), &o, &problems, &err) ||
	    pii_ingest_worker_new(&w, ing, &err)) {
		ret = fail("plan", &err);
		goto out;
	}

	/* The recording pass, which also warms the subkey cache and the buffers. */
	{
		FILE *out = outpath ? fopen(outpath, "wb") : NULL;

		if (outpath && !out) {
			fprintf(stderr, "core_bench: cannot write '%s'\n", outpath);
			goto out;
		}
		if (!(first_hash = calloc(l.n + 1, sizeof(*first_hash)))) {
			fprintf(stderr, "core_bench: out of memory\n");
			if (out)
				fclose(out);
			goto out;
		}
		rec.on = 1;
		if (core_pass(w, &l, 0, l.n, counts, out, &err)) {
			if (out)
				fclose(out);
			ret = fail("core", &err);
			goto out;
		}
		rec.on = 0;
		first_hash[l.n] = rec.n;
		if (out && fclose(out)) {
			fprintf(stderr, "core_bench: cannot write '%s'\n", outpath);
			goto out;
		}
		if (rec.oom) {
			fprintf(stderr, "core_bench: out of memory\n");
			goto out;
		}
	}
	/* Each round goes over the events in slices of SLICE, timing the slice's hashes and its
	 * core passes back to back (in turn first), so that both see the same load from the
	 * rest of the machine; the round's figures are the sums. */
	for (long r = 1; r <= rounds; r++) {
		double t[2][2] = {{0, 0}, {0, 0}}; /* [hash, core][wall, cpu] */

		for (size_t from = 0, k = 0; from < l.n; from += SLICE, k++) {
			size_t to = from + SLICE < l.n ? from + SLICE : l.n;

			for (int j = 0; j < 2; j++) {
				int hash = (j == 0) == ((k + (size_t)r) % 2 == 0);
				double w0, c0;

				if ((hash && !strcmp(only, "core")) ||
				    (!hash && !strcmp(only, "hash")))
					continue;
				w0 = clock_s(CLOCK_MONOTONIC);
				c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
				if (hash)
					acc += hash_pass(from, to);
				else if (core_pass(w, &l, from, to, NULL, NULL, &err)) {
					ret = fail("core", &err);
					goto out;
				}
				t[!hash][1] += clock_s(CLOCK_THREAD_CPUTIME_ID) - c0;
				t[!hash][0] += clock_s(CLOCK_MONOTONIC) - w0;
			}
		}
		printf("round %ld %.6f %.6f %.6f %.6f\n", r, t[0][0], t[0][1], t[1][0], t[1][1]);
		fflush(stdout);
	}
	printf("events %zu\nhashes %zu\npassed %zu rejected %zu suppressed %zu\n", l.n, rec.n,
	       counts[PII_REC_PASSED], counts[PII_REC_REJECTED], counts[PII_REC_SUPPRESSED]);
	printf("checksum %u %zu\n", acc & 0xff, sinkat);
	ret = 0;
out:
	pii_ingest_worker_free(w);
	pii_ingest_free(ing);
	if (have_kr)
		pii_keyring_release(&kr);
	st_free(keydir);
	catalog_free(cat);
	catalog_config_release(&cfg);
	if (have_ws)
		catalog_workspace_release(&ws);
	st_diags_release(&problems);
	free(first_hash);
	free(rec.v);
	free(rec.bytes);
	free(l.buf);
	free(l.p);
	free(l.len);
	return ret;
}
