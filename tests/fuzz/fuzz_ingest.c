/* Shared by the ingest fuzz targets: catalog, keyring, suppression list and plans made
 * once per process, and one input run through every plan with its counts checked. */
#include "fuzz_ingest.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog.h"
#include "fuzz.h"
#include "ingest.h"
#include "ingest_int.h"
#include "pii.h"

/* Plan 0 rejects unknown fields and streams records over 4 KiB to the rejects (run.sh's
 * -max_len is 16 KiB, so that path is reached); plan 1 drops unknown fields and takes
 * records up to 64 KiB. */
#define NPLANS 2
static const size_t plan_max_record[NPLANS] = {4096, 65536};
static const int plan_unknown[NPLANS] = {PII_UNKNOWN_REJECT, PII_UNKNOWN_DROP};

/* Subjects on the suppression list, as (category, value before normalization). Values
 * that occur in the seeds, so that suppression is reached from the start. */
static const char *const suppress_values[][2] = {
	{"user.contact.email", "olivia.obrien573@mail.example.org"},
	{"user.contact.email", "ann@example.com"},
	{"user.unique_id", "1801019"},
	{"user.unique_id", "42"},
};
#define NSUPPRESS (sizeof(suppress_values) / sizeof(*suppress_values))

static struct catalog *cat;
static struct pii_keyring keyring;
static struct pii_ingest *plans[NPLANS];
static const char *sup_cat[NSUPPRESS];
static char sup_pseu_buf[NSUPPRESS][PII_PSEUDONYM_MAX];
static const char *sup_pseu[NSUPPRESS];
static int in_fd = -1, null_fd = -1;
/* JSON lines: each record also goes through ing_process_record() (the one-pass fast path
 * first) and ing_process_full() (the full path alone), which must agree. */
static int json_lines;
static struct wctx fast_w[NPLANS], full_w[NPLANS];

/* Fills the suppression list with the pseudonyms of suppress_values under key, sorted by
 * category, then pseudonym, as pii_ingest_opts requires. */
static void make_suppression(const struct pii_key *key)
{
	struct pii_pseudonymizer *h = NULL;
	struct st_error err = ST_ERROR_INIT;

	if (pii_pseudonymizer_new(&h, key, &err))
		fuzz_die("cannot make a pseudonymizer", &err);
	for (size_t i = 0; i < NSUPPRESS; i++) {
		const char *category = suppress_values[i][0], *value = suppress_values[i][1];
		char norm[PII_NORM_MAX];
		int n = pii_normalize(pii_norm_for_category(category), value, strlen(value), "82",
				      norm);

		if (n < 0) { /* no normalizer for the category: the value as it is */
			snprintf(norm, sizeof(norm), "%s", value);
			n = (int)strlen(norm);
		}
		if (pii_pseudonym(h, category, norm, (size_t)n, sup_pseu_buf[i], &err) < 0)
			fuzz_die("cannot compute a pseudonym", &err);
		sup_cat[i] = category;
		sup_pseu[i] = sup_pseu_buf[i];
	}
	pii_pseudonymizer_free(h);
	for (size_t i = 1; i < NSUPPRESS; i++) /* insertion sort: four entries */
		for (size_t j = i; j > 0; j--) {
			int c = strcmp(sup_cat[j - 1], sup_cat[j]);
			const char *t;

			if (c < 0 || (c == 0 && strcmp(sup_pseu[j - 1], sup_pseu[j]) <= 0))
				break;
			t = sup_cat[j - 1], sup_cat[j - 1] = sup_cat[j], sup_cat[j] = t;
			t = sup_pseu[j - 1], sup_pseu[j - 1] = sup_pseu[j], sup_pseu[j] = t;
		}
}

void fuzz_ingest_setup(const unsigned char *descriptor, size_t len, const char *dataset,
		       const char *label, int format)
{
	const char *desc_path = fuzz_path("schema.yaml"), *keys = fuzz_path("keys");
	const char *paths[1] = {desc_path};
	struct catalog_load_stats stats = {0};
	struct st_diags diags;
	struct st_error err = ST_ERROR_INIT;
	const struct pii_key *key;

	st_diags_init(&diags, 0);
	if (fuzz_write_file(desc_path, descriptor, len, 0600))
		fuzz_die("cannot write the schema", NULL);
	if (catalog_open_path(&cat, ":memory:", &err) ||
	    catalog_load(cat, paths, 1, CATALOG_LOAD_SERIAL, &stats, &diags, &err)) {
		for (size_t i = 0; i < diags.n; i++)
			fprintf(stderr, "%s:%u:%u: %s\n", diags.v[i].file, diags.v[i].line,
				diags.v[i].col, diags.v[i].msg);
		fuzz_die("cannot load the embedded schema", &err);
	}
	catalog_load_stats_release(&stats);
	if (pii_keyring_create(keys, &err) || pii_keyring_open(&keyring, keys, 1, &err) ||
	    !(key = pii_keyring_current(&keyring)))
		fuzz_die("cannot make a keyring", &err);
	make_suppression(key);
	for (int i = 0; i < NPLANS; i++) {
		struct pii_ingest_opts o = {0};

		o.dataset = dataset;
		o.label = label;
		o.format = format;
		o.unknown = plan_unknown[i];
		o.max_record = plan_max_record[i];
		o.country_code = "82";
		o.suppress_categories = sup_cat;
		o.suppress_pseudonyms = sup_pseu;
		o.nsuppress = NSUPPRESS;
		if (pii_ingest_new(&plans[i], cat, key, &o, &diags, &err)) {
			for (size_t j = 0; j < diags.n; j++)
				fprintf(stderr, "%s\n", diags.v[j].msg);
			fuzz_die("cannot plan the ingest", &err);
		}
	}
	st_diags_release(&diags);
	json_lines = format == PII_FMT_JSONL;
	for (int i = 0; json_lines && i < NPLANS; i++)
		if (ing_wctx_init(&fast_w[i], plans[i], &err) ||
		    ing_wctx_init(&full_w[i], plans[i], &err))
			fuzz_die("cannot make the record workers", &err);
	in_fd = fuzz_memfd("fuzz-input");
	if ((null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC)) < 0)
		fuzz_die("cannot open /dev/null", NULL);
}

/* Aborts unless the fast path and the full path make the same of record line (len bytes)
 * under plan i: outcome, output bytes, reason and its wording. */
static void same_both_ways(int i, const char *line, size_t len)
{
	struct wctx *a = &fast_w[i], *b = &full_w[i];
	int ra = -1, rb, wide = a->wide_map;

	st_error_init(&b->err);
	rb = ing_process_full(b, line, len);
	/* The fast path with each map of special bytes this CPU can make (SSE2, AVX-512BW). */
	for (int m = 0; m <= wide; m++) {
		a->wide_map = m;
		st_error_init(&a->err);
		ra = ing_process_record(a, line, len);
		if (!(ra == rb && (ra != ING_PASSED || (a->out.len == b->out.len &&
							 !memcmp(a->out.p, b->out.p, a->out.len))) &&
		      (ra != ING_REJECTED || (a->reason == b->reason && !strcmp(a->why, b->why)))))
			break;
		if (m == wide)
			return;
	}
	fprintf(stderr, "fuzz: plan %d: the fast path and the full path differ (%d/%d): %.*s\n",
		i, ra, rb, (int)(len < 2000 ? len : 2000), line);
	if (ra == ING_PASSED && rb == ING_PASSED)
		fprintf(stderr, "fast: %.*s\nfull: %.*s\n", (int)a->out.len, a->out.p,
			(int)b->out.len, b->out.p);
	if (ra == ING_REJECTED || rb == ING_REJECTED)
		fprintf(stderr, "fast: %s\nfull: %s\n", ra == ING_REJECTED ? a->why : "-",
			rb == ING_REJECTED ? b->why : "-");
	abort();
}

void fuzz_ingest_one(const uint8_t *data, size_t size)
{
	for (size_t at = 0; json_lines && at < size;) {
		const uint8_t *nl = memchr(data + at, '\n', size - at);
		size_t len = nl ? (size_t)(nl - (data + at)) : size - at;

		for (int i = 0; i < NPLANS; i++)
			same_both_ways(i, (const char *)data + at, len);
		at += len + 1;
	}

	for (int i = 0; i < NPLANS; i++) {
		struct pii_ingest_stats st;
		struct st_error err = ST_ERROR_INIT;
		uint64_t reasons = 0;

		if (fuzz_memfd_set(in_fd, data, size))
			fuzz_die("cannot fill the input memfd", NULL);
		/* -1 is a fine answer (a CSV header naming no field, say); the counts must
		 * still add up. */
		pii_ingest_run(plans[i], in_fd, null_fd, null_fd, 1, &st, &err);
		for (int r = 0; r < PII_R_COUNT; r++)
			reasons += st.by_reason[r];
		if (st.in != st.out + st.rejected + st.suppressed || reasons != st.rejected) {
			fprintf(stderr,
				"fuzz: plan %d: counts do not add up: in %llu, out %llu, rejected "
				"%llu (reasons %llu), suppressed %llu\n",
				i, (unsigned long long)st.in, (unsigned long long)st.out,
				(unsigned long long)st.rejected, (unsigned long long)reasons,
				(unsigned long long)st.suppressed);
			abort();
		}
	}
}
