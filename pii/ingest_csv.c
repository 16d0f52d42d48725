/* CSV (RFC 4180) ingest: records that may span lines, read serially; the header mapped to
 * the dataset's fields, each row checked and rewritten field by field. */
#include "ingest.h"
#include "ingest_int.h"
#include "alloc.h"
#include "buf.h"
#include "json.h"
#include "utf8.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* ---- CSV (RFC 4180) ---- */

/* Finds the end of the CSV record at p (n bytes buffered): its newline outside quotes.
 * Returns that offset, or -1 when the buffered bytes end inside the record. Sets *newlines
 * to the line breaks inside the record's quoted fields. */
static ssize_t csv_record_end(const char *p, size_t n, uint64_t *newlines)
{
	int state = CSV_START;

	*newlines = 0;
	for (size_t i = 0; i < n; i++) {
		if (ing_csv_step(&state, p[i]))
			return (ssize_t)i;
		*newlines += p[i] == '\n';
	}
	return -1;
}

struct csv_field {
	const char *p; /* decoded text (into w->tmp for quoted fields) */
	size_t n;
	int quoted;
};

#define CSV_MAX_COLUMNS 1024 /* fields per record, the header included */
#define CSV_STR_(x) #x
#define CSV_STR(x) CSV_STR_(x)

/* Splits one record (its bytes without the final line break) into fields, decoding quoted
 * ones into w->tmp. Returns the field count, or -1 on a malformed record (reason set). */
static ssize_t csv_split(struct wctx *w, const char *rec, size_t len, struct csv_field *f,
			 size_t max)
{
	size_t i = 0, nf = 0, o = 0;

	if (len && rec[len - 1] == '\r')
		len--;
	for (;;) {
		struct csv_field *x = &f[nf];

		if (nf == max)
			return ing_reject(
				w, PII_R_RAGGED, "%s",
				"the record has more than " CSV_STR(CSV_MAX_COLUMNS) " fields");
		x->quoted = i < len && rec[i] == '"';
		if (x->quoted) {
			x->p = w->tmp + o;
			for (i++;; i++) {
				if (i >= len)
					return ing_reject(w, PII_R_CSV, "%s",
							  "unterminated quoted field");
				if (rec[i] == '"') {
					if (i + 1 < len && rec[i + 1] == '"') {
						w->tmp[o++] = '"';
						i++;
						continue;
					}
					i++;
					break;
				}
				w->tmp[o++] = rec[i];
			}
			x->n = (size_t)(w->tmp + o - x->p);
			if (i < len && rec[i] != ',')
				return ing_reject(w, PII_R_CSV, "%s", "text after a closing quote");
		} else {
			x->p = rec + i;
			while (i < len && rec[i] != ',') {
				if (rec[i] == '"')
					return ing_reject(w, PII_R_CSV, "%s",
							  "a quote inside an unquoted field");
				i++;
			}
			x->n = (size_t)(rec + i - x->p);
		}
		nf++;
		if (i >= len)
			return (ssize_t)nf;
		i++; /* the comma */
	}
}

static int csv_needs_quotes(const char *p, size_t n)
{
	if (n && (p[0] == ' ' || p[n - 1] == ' '))
		return 1;
	for (size_t i = 0; i < n; i++)
		if (p[i] == ',' || p[i] == '"' || p[i] == '\n' || p[i] == '\r')
			return 1;
	return 0;
}

static int csv_put(struct st_buf *b, const char *p, size_t n, int force_quotes)
{
	size_t run = 0;

	if (!force_quotes && !csv_needs_quotes(p, n))
		return st_buf_add(b, p, n);
	if (st_buf_add(b, "\"", 1))
		return -1;
	for (size_t i = 0; i < n; i++)
		if (p[i] == '"') {
			if (st_buf_add(b, p + run, i + 1 - run) || st_buf_add(b, "\"", 1))
				return -1;
			run = i + 1;
		}
	return st_buf_add(b, p + run, n - run) || st_buf_add(b, "\"", 1);
}

static int utf8_ok(const char *p, size_t n)
{
	unsigned line, col;

	return !st_utf8_check((const unsigned char *)p, n, &line, &col);
}

static int valid_number(const char *p, size_t n)
{
	struct st_jtape t = {0};
	struct st_jerr e;
	int ok = n && (p[0] == '-' || (p[0] >= '0' && p[0] <= '9')) &&
		 !st_json_parse(p, n, &t, &e);

	st_json_tape_release(&t);
	return ok;
}

/* Checks a CSV value against its type. Returns 0, or -1 with the reason set. */
static int csv_check(struct wctx *w, const struct spec *s, const struct csv_field *f)
{
	int is_int;

	switch (s->type) {
	case F_INT:
	case F_INT64:
		if (!f->n || !ing_int_in_range(f->p, f->n, s->type == F_INT ? INT32_MIN : INT64_MIN,
					       s->type == F_INT ? INT32_MAX : INT64_MAX, &is_int))
			return ing_reject(w, f->n && is_int ? PII_R_RANGE : PII_R_TYPE,
					  f->n && is_int ? "field '%s' is out of range"
							 : "field '%s' must be an integer",
					  s->path);
		return 0;
	case F_FLOAT:
	case F_DECIMAL:
		if (!valid_number(f->p, f->n))
			return ing_reject(w, PII_R_TYPE, "field '%s' must be a number", s->path);
		if (ing_number_finite(f->p, f->n) <= 0) /* out of memory leaves it rejected */
			return ing_reject(w, PII_R_RANGE, "field '%s' is out of range", s->path);
		return 0;
	case F_BOOL:
		if ((f->n == 4 && !memcmp(f->p, "true", 4)) || (f->n == 5 && !memcmp(f->p, "false", 5)))
			return 0;
		return ing_reject(w, PII_R_TYPE, "field '%s' must be true or false", s->path);
	case F_DATE:
	case F_TIMESTAMP:
		return ing_valid_date(f->p, f->n, s->type == F_TIMESTAMP)
			       ? 0
			       : ing_reject(w, PII_R_VALUE, "field '%s' is not a date or timestamp",
					    s->path);
	case F_OBJECT:
	case F_ARRAY:
		return ing_reject(w, PII_R_TYPE, "field '%s' cannot be a CSV column", s->path);
	default:
		return 0;
	}
}


struct csv_state {
	const struct spec *col[CSV_MAX_COLUMNS]; /* NULL: an unknown column, dropped */
	size_t ncols;
	size_t country; /* 1 + the column of the dataset's country field; 0: none */
	struct csv_field f[CSV_MAX_COLUMNS];
};

/* Reads the header: every column must name a field of the dataset (or be dropped under
 * --unknown drop) and every required field must have a column. Writes the output header. */
static int csv_header(struct wctx *w, struct csv_state *cs, const char *rec, size_t len,
		      struct sink *out, struct st_error *err)
{
	const struct spec *root = &w->ing->plans[0].root;
	ssize_t nf;

	if (len >= 3 && !memcmp(rec, "\xef\xbb\xbf", 3)) {
		rec += 3;
		len -= 3;
	}
	if (!utf8_ok(rec, len))
		return st_error_set(err, ST_E_INVALID, "cannot read the CSV header: invalid UTF-8");
	nf = csv_split(w, rec, len, cs->f, CSV_MAX_COLUMNS);
	if (nf < 0)
		return st_error_set(err, ST_E_INVALID, "cannot read the CSV header: %s", w->why);
	cs->ncols = (size_t)nf;
	st_buf_reset(&w->out);
	for (size_t i = 0, first = 1; i < cs->ncols; i++) {
		const struct spec *sp = ing_find_spec(root, cs->f[i].p, cs->f[i].n);

		for (size_t j = 0; sp && j < i; j++)
			if (cs->col[j] == sp)
				return st_error_set(err, ST_E_INVALID, "column '%s' appears twice",
						    sp->name);
		if (!sp && w->ing->o.unknown != PII_UNKNOWN_DROP)
			return st_error_set(err, ST_E_INVALID,
					    "column %zu of the CSV header is not a field of '%s'", i + 1,
					    w->ing->plans[0].name);
		cs->col[i] = sp;
		if (sp && w->ing->plans[0].country_field &&
		    !strcmp(sp->path, w->ing->plans[0].country_field))
			cs->country = i + 1;
		if (!sp || sp->transform == PII_T_DROP)
			continue;
		if ((!first && st_buf_add(&w->out, ",", 1)) ||
		    csv_put(&w->out, sp->name, sp->name_len, 0))
			return st_error_oom(err);
		first = 0;
	}
	for (size_t k = 0; k < root->nfields; k++) {
		size_t i;

		for (i = 0; i < cs->ncols && cs->col[i] != &root->fields[k]; i++)
			;
		if (i == cs->ncols && root->fields[k].required)
			return st_error_set(err, ST_E_INVALID, "required field '%s' has no column",
					    root->fields[k].path);
	}
	if (st_buf_add(&w->out, "\r\n", 2))
		return st_error_oom(err);
	return ing_sink_add(out, w->out.p, w->out.len, err);
}

static int csv_row(struct wctx *w, struct csv_state *cs, struct sink *out, struct sink *rej,
		   const char *rec, size_t len)
{
	ssize_t nf;
	int first = 1;

	w->st.in++;
	st_buf_reset(&w->out);
	w->suppressed = 0;
	nf = csv_split(w, rec, len, cs->f, CSV_MAX_COLUMNS);
	if (nf < 0)
		return ing_write_reject(w, rej, rec, len);
	if ((size_t)nf != cs->ncols) {
		char why[64];

		snprintf(why, sizeof(why), "%zd fields where the header has %zu", nf, cs->ncols);
		ing_reject(w, PII_R_RAGGED, "%s", why);
		return ing_write_reject(w, rej, rec, len);
	}
	w->det = w->ing->plans[0].detect;
	if (cs->country)
		(void)pii_region_code(cs->f[cs->country - 1].p, cs->f[cs->country - 1].n,
				      w->det.region);
	/* Every column, dropped ones too, as the JSON reader checks the whole line. */
	for (size_t i = 0; i < cs->ncols; i++)
		if (!utf8_ok(cs->f[i].p, cs->f[i].n)) {
			char why[64];

			if (cs->col[i])
				ing_reject(w, PII_R_UTF8, "invalid UTF-8 in field '%s'",
					   cs->col[i]->path);
			else {
				snprintf(why, sizeof(why), "invalid UTF-8 in column %zu", i + 1);
				ing_reject(w, PII_R_UTF8, "%s", why);
			}
			return ing_write_reject(w, rej, rec, len);
		}
	for (size_t i = 0; i < cs->ncols; i++) {
		const struct spec *sp = cs->col[i];
		const struct csv_field *f = &cs->f[i];
		const char *res;
		size_t rlen;
		int r;

		if (!sp)
			continue;
		if (!f->n && !f->quoted) {
			/* An empty unquoted field is an absent value. */
			if (sp->required) {
				ing_reject(w, PII_R_MISSING_FIELD, "required field '%s' is empty",
					   sp->path);
				return ing_write_reject(w, rej, rec, len);
			}
			res = "";
			rlen = 0;
		} else {
			if (csv_check(w, sp, f))
				return ing_write_reject(w, rej, rec, len);
			if (sp->suppress && ing_check_suppressed(w, sp, f->p, f->n))
				return -1;
			r = ing_transform_text(w, sp, f->p, f->n, &res, &rlen);
			if (r == -1)
				return ing_write_reject(w, rej, rec, len);
			if (r == -2)
				return -1;
			if (r == -3) {
				ing_reject(w, PII_R_TOO_LONG, "%s", "the record grows too long");
				return ing_write_reject(w, rej, rec, len);
			}
		}
		if (sp->transform == PII_T_DROP)
			continue;
		if ((!first && st_buf_add(&w->out, ",", 1)) ||
		    csv_put(&w->out, res, rlen, f->quoted && !rlen))
			return st_error_oom(&w->err);
		first = 0;
	}
	if (w->suppressed) {
		w->st.suppressed++;
		return 0;
	}
	if (st_buf_add(&w->out, "\r\n", 2))
		return st_error_oom(&w->err);
	w->st.out++;
	w->st.bytes_out += w->out.len;
	return ing_sink_add(out, w->out.p, w->out.len, &w->err);
}

/* CSV is read serially: a record may span lines, so chunks cannot be cut at any newline. */
int ing_run_csv(struct pii_ingest *ing, struct reader *rd, struct sink *out, struct sink *rej,
		struct pii_ingest_stats *st, struct st_error *err)
{
	struct csv_state *cs = st_calloc(1, sizeof(*cs));
	struct wctx w;
	int header = 1, ret = -1;

	memset(&w, 0, sizeof(w));
	if (!cs) {
		st_error_oom(err);
		goto out;
	}
	if (ing_wctx_init(&w, ing, err))
		goto out;
	for (;;) {
		const char *p = rd->buf + rd->off;
		uint64_t inner;
		ssize_t end = csv_record_end(p, rd->have, &inner);
		size_t len;

		if (end < 0 && !rd->eof) {
			ssize_t r;

			if (rd->have > ing->o.max_record + 1) {
				if (header) {
					st_error_set(err, ST_E_INVALID,
						     "the CSV header is longer than %zu bytes",
						     ing->o.max_record);
					goto out;
				}
				if (ing_reject_long(rd, rej, &w.st, ing->o.max_record, 1, err))
					goto out;
				continue;
			}
			if (rd->off) {
				memmove(rd->buf, p, rd->have);
				rd->off = 0;
			}
			do
				r = read(rd->fd, rd->buf + rd->have, rd->cap - rd->have);
			while (r < 0 && errno == EINTR);
			if (r < 0) {
				st_error_set(err, ST_E_SYSTEM, "cannot read input: %s", strerror(errno));
				goto out;
			}
			if (r == 0)
				rd->eof = 1;
			rd->have += (size_t)r;
			continue;
		}
		if (end < 0 && !rd->have)
			break;
		len = end < 0 ? rd->have : (size_t)end;
		w.line = rd->line + 1;
		rd->line += 1 + inner;
		w.st.bytes_in += len + (end < 0 ? 0 : 1);
		if (header) {
			/* The header is unquoted into w.tmp too: it has the records' limit. */
			if (len > ing->o.max_record) {
				st_error_set(err, ST_E_INVALID, "the CSV header is longer than %zu bytes",
					     ing->o.max_record);
				goto out;
			}
			if (csv_header(&w, cs, p, len, out, err))
				goto out;
			header = 0;
		} else if (len > ing->o.max_record) {
			w.st.in++;
			ing_reject(&w, PII_R_TOO_LONG, "record longer than the limit%s", "");
			if (ing_write_reject(&w, rej, p, len))
				goto fail;
		} else if (!ing_blank(p, len) && csv_row(&w, cs, out, rej, p, len)) {
			goto fail;
		}
		rd->off += len + (end < 0 ? 0 : 1);
		rd->have -= len + (end < 0 ? 0 : 1);
	}
	ret = 0;
	goto out;
fail:
	*err = w.err;
out:
	ing_stats_add(st, &w.st);
	if (w.ing)
		ing_wctx_release(&w);
	st_free(cs);
	return ret;
}
