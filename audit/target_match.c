/* What the local targets share: the subject matcher, and collecting the evidence of a run
 * (the subject's values and an access request's rows), wiped when released. */
#include "target.h"
#include "target_int.h"
#include "alloc.h"
#include "buf.h"

#include <jansson.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/* ---- The matcher -------------------------------------------------------------------- */

struct span {
	const char *p;
	size_t n;
};

/* bsearch order for a counted string against a NUL-terminated one, the same as strcmp's. */
static int span_cmp(const void *key, const void *elem)
{
	const struct span *k = key;
	const char *s = *(char *const *)elem;
	size_t n = strlen(s);
	int c = k->n && n ? memcmp(k->p, s, k->n < n ? k->n : n) : 0;

	if (c)
		return c;
	return k->n < n ? -1 : k->n > n;
}

int audit_matcher_test(const struct audit_matcher *m, const char *value, size_t len,
		       struct st_error *err)
{
	char pseudo[PII_PSEUDONYM_MAX];
	struct span key = {value ? value : "", value ? len : 0};
	int n;

	if (!m->npseudonyms)
		return 0;
	if (m->mode == AUDIT_MATCH_PSEUDONYM)
		return bsearch(&key, m->pseudonyms, m->npseudonyms, sizeof(*m->pseudonyms),
			       span_cmp) != NULL;
	if (m->mode != AUDIT_MATCH_RAW)
		return st_error_set(err, ST_E_INVALID, "unknown match mode %d", m->mode);
	if (!m->pseudonymizer || !m->category)
		return st_error_set(err, ST_E_INVALID,
				    "matching raw values needs a pseudonymizer and a category");
	n = pii_pseudonymize(m->pseudonymizer, m->norm, m->category, key.p, key.n, m->country_code, pseudo,
			     err);
	if (n == PII_NOT_OF_KIND)
		return 0; /* not an address, number, ...: not the subject's */
	if (n < 0)
		return -1;
	key.p = pseudo;
	key.n = (size_t)n;
	return bsearch(&key, m->pseudonyms, m->npseudonyms, sizeof(*m->pseudonyms), span_cmp) !=
	       NULL;
}

/* ---- Evidence ----------------------------------------------------------------------- */

void audit_evidence_release(struct audit_evidence *ev)
{
	for (size_t i = 0; i < ev->nsubject_values; i++) {
		sodium_memzero(ev->subject_values[i], strlen(ev->subject_values[i]));
		st_free(ev->subject_values[i]);
	}
	st_free(ev->subject_values);
	ev->subject_values = NULL;
	ev->nsubject_values = 0;
	if (ev->rows_json) {
		sodium_memzero(ev->rows_json, strlen(ev->rows_json));
		st_free(ev->rows_json);
		ev->rows_json = NULL;
	}
}

int audit_values_add(struct audit_values *vs, const char *s, size_t n)
{
	char *copy;

	if (st_grow(&vs->v, &vs->cap, vs->n + 1, sizeof(*vs->v)))
		return -1;
	copy = st_strndup(s, n);
	if (!copy)
		return -1;
	vs->v[vs->n++] = copy;
	return 0;
}

void audit_values_release(struct audit_values *vs)
{
	for (size_t i = 0; i < vs->n; i++) {
		sodium_memzero(vs->v[i], strlen(vs->v[i]));
		st_free(vs->v[i]);
	}
	st_free(vs->v);
	memset(vs, 0, sizeof(*vs));
}

static int strp_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorts the values, drops duplicates and hands them to ev. */
void audit_values_finish(struct audit_values *vs, struct audit_evidence *ev)
{
	size_t k = 0;

	if (vs->n)
		qsort(vs->v, vs->n, sizeof(*vs->v), strp_cmp);
	for (size_t i = 0; i < vs->n; i++) {
		if (k && !strcmp(vs->v[k - 1], vs->v[i])) {
			sodium_memzero(vs->v[i], strlen(vs->v[i]));
			st_free(vs->v[i]);
			continue;
		}
		vs->v[k++] = vs->v[i];
	}
	ev->subject_values = vs->v;
	ev->nsubject_values = k;
	memset(vs, 0, sizeof(*vs));
}

/* An access request's rows: "[" row "," row ... "]" in a bounded buffer. */
int audit_rows_add(struct st_buf *rows, json_t *row, struct st_error *err)
{
	char *text = json_dumps(row, JSON_COMPACT | JSON_PRESERVE_ORDER);
	int ret = -1;

	if (!text)
		return st_error_oom(err);
	if (st_buf_adds(rows, rows->len ? "," : "[") || st_buf_adds(rows, text)) {
		st_error_set(err, ST_E_SYSTEM, "the subject's rows are over %zu MiB",
			     ROWS_MAX >> 20);
		goto out;
	}
	ret = 0;
out:
	sodium_memzero(text, strlen(text));
	free(text); /* jansson's allocator */
	return ret;
}

/* Closes the array and hands it to ev. */
int audit_rows_finish(struct st_buf *rows, struct audit_evidence *ev, struct st_error *err)
{
	if (st_buf_adds(rows, rows->len ? "]" : "[]"))
		return st_error_set(err, ST_E_SYSTEM, "the subject's rows are over %zu MiB",
				    ROWS_MAX >> 20);
	ev->rows_json = st_buf_detach(rows);
	return ev->rows_json ? 0 : st_error_oom(err);
}

void audit_rows_release(struct st_buf *rows)
{
	if (rows->p)
		sodium_memzero(rows->p, rows->cap);
	st_buf_release(rows);
}
