/* Sampling detectors over records to find PII where the catalog says there is none. */
#include "scan.h"
#include "alloc.h"
#include "buf.h"
#include "json.h"
#include "detect_int.h"

#include <sodium.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#define SCAN_MAX_LINE (1u << 20)

void pii_scan_release(struct pii_scan_report *r)
{
	for (size_t i = 0; i < r->n; i++) {
		st_free(r->v[i].path);
		st_free(r->v[i].pii);
	}
	st_free(r->v);
	memset(r, 0, sizeof(*r));
}

static struct pii_scan_field *field(struct pii_scan_report *r, const char *path, size_t n,
				    struct st_error *err)
{
	struct pii_scan_field *f;

	for (size_t i = 0; i < r->n; i++)
		if (strlen(r->v[i].path) == n && !memcmp(r->v[i].path, path, n))
			return &r->v[i];
	if (st_grow(&r->v, &r->cap, r->n + 1, sizeof(*r->v))) {
		st_error_oom(err);
		return NULL;
	}
	f = &r->v[r->n];
	memset(f, 0, sizeof(*f));
	if (!(f->path = st_strndup(path, n))) {
		st_error_oom(err);
		return NULL;
	}
	r->n++;
	return f;
}

struct walk {
	struct pii_scan_report *r;
	const char *line;
	struct st_jtape *t;
	struct st_buf path;
	char *tmp;
	struct st_error *err;
	struct pii_detect_opts det; /* the dataset's threshold and regions, the record's region */
	char regions[PII_REGIONS_LEN];
	const char *country_field;  /* the dataset's, or NULL */
};

static int count_value(struct walk *w, const struct st_jnode *n)
{
	struct pii_scan_field *f = field(w->r, w->path.p ? w->path.p : "", w->path.len, w->err);
	struct pii_match m[32];
	const char *text = w->line + n->start;
	size_t len = n->end - n->start, found;
	int seen[PII_KIND_COUNT] = {0};

	if (!f)
		return -1;
	if (n->type == ST_J_STR) {
		text++;
		len -= 2;
		if (n->escaped) {
			len = st_json_unescape(text, len, w->tmp);
			text = w->tmp;
		}
	}
	f->values++;
	found = pii_detect_with(text, len, &w->det, m, 32);
	for (size_t i = 0; i < found && i < 32; i++) {
		if (!seen[m[i].kind]++)
			f->hits[m[i].kind]++;
		if (m[i].start == 0 && m[i].end == len && found == 1)
			f->whole[m[i].kind]++;
	}
	return 0;
}

static int walk(struct walk *w, const struct st_jnode *n)
{
	if (n->type == ST_J_OBJ || n->type == ST_J_ARR) {
		size_t base = w->path.len;

		for (uint32_t i = n->count ? n->first : 0, k = 0; k < n->count;
		     i = w->t->v[i].next, k++) {
			const struct st_jnode *c = &w->t->v[i];

			if (n->type == ST_J_OBJ) {
				size_t klen = c->key_end - c->key_start;

				if ((base && st_buf_add(&w->path, ".", 1)) ||
				    st_buf_add(&w->path, w->line + c->key_start, klen))
					return st_error_oom(w->err);
			}
			if (walk(w, c))
				return -1;
			w->path.len = base;
			if (w->path.p)
				w->path.p[base] = '\0';
		}
		return 0;
	}
	if (n->type == ST_J_STR || n->type == ST_J_NUM)
		return count_value(w, n);
	return 0;
}

/* Marks fields declared none, of class unknown (a dbt column not classified yet) or missing
 * from the schema that hold PII, and proposes. */
static void judge(struct pii_scan_report *r)
{
	for (size_t i = 0; i < r->n; i++) {
		struct pii_scan_field *f = &r->v[i];
		double best = 0;

		if ((f->pii && strcmp(f->pii, "none") && strcmp(f->pii, "unknown")) || f->scan ||
		    !f->values)
			continue;
		for (int k = 0; k < PII_KIND_COUNT; k++) {
			double share = (double)f->hits[k] / (double)f->values;

			if (share >= PII_SCAN_FLAG_SHARE && share > best) {
				best = share;
				f->flagged = 1;
				f->proposal = k;
				f->proposal_whole = (double)f->whole[k] >= 0.8 * (double)f->values;
			}
		}
		r->flagged += (size_t)f->flagged;
	}
}

int pii_scan(struct catalog *c, const char *dataset, const char *region, int fd,
	     uint64_t sample, struct pii_scan_report *r, struct st_error *err)
{
	struct catalog_card card;
	struct st_jtape tape = {0};
	struct walk w;
	char *buf = st_malloc(SCAN_MAX_LINE * 2);
	size_t have = 0;
	int eof = 0, ret = -1;

	memset(r, 0, sizeof(*r));
	memset(&w, 0, sizeof(w));
	w.r = r;
	w.t = &tape;
	w.err = err;
	w.tmp = st_malloc(SCAN_MAX_LINE + 1);
	st_buf_init(&w.path, 4096);
	if (catalog_card_get(c, dataset, 0, &card, err))
		goto out;
	if (!buf || !w.tmp) {
		st_error_oom(err);
		goto out;
	}
	/* The dataset's detect: settings, as ingest applies them. */
	w.det.min_score = card.detect_threshold;
	if (pii_detect_regions(card.detect_regions, region, w.regions, sizeof(w.regions))) {
		st_error_set(err, ST_E_INVALID, "dataset '%s' declares detect regions steward cannot "
						"use: load the catalog again", dataset);
		goto out;
	}
	w.det.regions = w.regions;
	w.country_field = card.detect_country_field;
	/* Every declared field is listed, even if the sample never fills it. */
	for (size_t i = 0; i < card.nfields; i++) {
		struct pii_scan_field *f = field(r, card.fields[i].path, strlen(card.fields[i].path),
						 err);

		if (!f || !(f->pii = st_strdup(card.fields[i].pii))) {
			if (!err->code)
				st_error_oom(err);
			goto out;
		}
		f->scan = card.fields[i].scan;
	}
	while (!sample || r->records + r->unreadable < sample) {
		char *nl = memchr(buf, '\n', have);
		struct st_jerr je;
		size_t len;

		if (!nl && !eof && have < SCAN_MAX_LINE * 2) {
			ssize_t n = read(fd, buf + have, SCAN_MAX_LINE * 2 - have);

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				st_error_set(err, ST_E_SYSTEM, "cannot read the sample: %s",
					     strerror(errno));
				goto out;
			}
			eof = n == 0;
			have += (size_t)n;
			continue;
		}
		if (!nl && !have)
			break;
		len = nl ? (size_t)(nl - buf) : have;
		if (len > SCAN_MAX_LINE || st_json_parse(buf, len, &tape, &je) ||
		    tape.v[0].type != ST_J_OBJ) {
			r->unreadable++;
		} else {
			r->records++;
			w.line = buf;
			if (w.country_field)
				pii_record_region(&tape, buf, w.country_field, w.det.region);
			st_buf_reset(&w.path);
			if (walk(&w, &tape.v[0]))
				goto out;
		}
		if (nl) {
			memmove(buf, nl + 1, have - len - 1);
			have -= len + 1;
		} else {
			have = 0;
		}
	}
	judge(r);
	ret = 0;
out:
	catalog_card_release(&card);
	st_json_tape_release(&tape);
	st_buf_release(&w.path);
	if (w.tmp)
		sodium_memzero(w.tmp, SCAN_MAX_LINE + 1);
	st_free(w.tmp);
	if (buf)
		sodium_memzero(buf, SCAN_MAX_LINE * 2);
	st_free(buf);
	if (ret)
		pii_scan_release(r);
	return ret;
}
