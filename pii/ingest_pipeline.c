/* The ingest pipeline for JSON lines: the bounded reader, worker threads that rewrite
 * chunks of lines, the writer that keeps input order, the buffered output, and the rejects
 * file (reason codes, over-long records streamed as base64). */
#include "ingest.h"
#include "ingest_int.h"
#include "alloc.h"
#include "buf.h"
#include "json.h"
#include "utf8.h"

#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *const reject_codes[PII_R_COUNT] = {
	"malformed-json", "invalid-utf8", "invalid-escape", "too-deep", "too-long",
	"duplicate-key", "not-an-object", "missing-label", "unknown-label", "unknown-field",
	"missing-field", "wrong-type", "out-of-range", "null-not-allowed", "invalid-value",
	"ragged-row", "malformed-csv",
};

const char *pii_reject_code(int reason)
{
	return reason >= 0 && reason < PII_R_COUNT ? reject_codes[reason] : "?";
}

/* ---- output ---- */

static int write_all(int fd, const char *p, size_t n, struct st_error *err, const char *what)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return st_error_set(err, ST_E_SYSTEM, "cannot write %s: %s", what,
					    w < 0 ? strerror(errno) : "short write");
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int ing_sink_flush(struct sink *o, struct st_error *err)
{
	int r = 0;

	if (o->fd >= 0) {
		r = write_all(o->fd, o->b.p, o->b.len, err, o->what);
		st_buf_reset(&o->b);
	}
	return r;
}

int ing_sink_add(struct sink *o, const char *p, size_t n, struct st_error *err)
{
	if (o->fd >= 0 && o->b.len + n > (1 << 16) && ing_sink_flush(o, err))
		return -1;
	if (o->fd >= 0 && n > (1 << 16))
		return write_all(o->fd, p, n, err, o->what);
	if (st_buf_add(&o->b, p, n))
		return st_error_oom(err);
	return 0;
}

static int utf8_valid(const char *s, size_t n)
{
	unsigned line, col;

	return !st_utf8_check((const unsigned char *)s, n, &line, &col);
}

/* The rejects entry for a record held whole in memory. */
int ing_write_reject(struct wctx *w, struct sink *rej, const char *line, size_t len)
{
	struct st_buf *b = &w->rej;
	int r;

	st_buf_reset(b);
	r = st_buf_addf(b, "{\"line\":%llu,\"code\":\"%s\",\"reason\":", (unsigned long long)w->line,
			pii_reject_code(w->reason)) ||
	    st_json_quote(b, w->why, strlen(w->why));
	if (!r && utf8_valid(line, len)) {
		r = st_buf_adds(b, ",\"record\":") || st_json_quote(b, line, len);
	} else if (!r) {
		size_t b64 = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
		char *enc = st_malloc(b64);

		r = !enc || st_buf_adds(b, ",\"record_base64\":\"");
		if (!r) {
			sodium_bin2base64(enc, b64, (const unsigned char *)line, len,
					  sodium_base64_VARIANT_ORIGINAL);
			r = st_buf_adds(b, enc) || st_buf_adds(b, "\"");
		}
		st_free(enc);
	}
	if (r || st_buf_adds(b, "}\n"))
		return st_error_oom(&w->err);
	w->st.rejected++;
	w->st.by_reason[w->reason]++;
	return ing_sink_add(rej, b->p, b->len, &w->err);
}

/* One line through the record core (ingest_record.c), its outcome written to out or rej. */
static int process_line(struct wctx *w, struct sink *out, struct sink *rej, const char *line,
			size_t len)
{
	int r;

	w->st.in++;
	r = ing_process_record(w, line, len);
	if (r < 0)
		return -1;
	if (r == ING_REJECTED)
		return ing_write_reject(w, rej, line, len);
	if (r == ING_SUPPRESSED) {
		w->st.suppressed++;
		return 0;
	}
	if (st_buf_add(&w->out, "\n", 1))
		return st_error_oom(&w->err);
	w->st.out++;
	w->st.bytes_out += w->out.len;
	return ing_sink_add(out, w->out.p, w->out.len, &w->err);
}

int ing_blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return 0;
	return 1;
}

/* Rewrites every line of a chunk that holds whole lines; the first is line first_line. */
static int process_chunk(struct wctx *w, struct sink *out, struct sink *rej, const char *p,
			 size_t n, uint64_t first_line)
{
	const char *end = p + n;

	w->line = first_line - 1;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);

		w->line++;
		w->st.bytes_in += len + (nl ? 1 : 0);
		if (len && p[len - 1] == '\r')
			len--;
		if (!ing_blank(p, len) && process_line(w, out, rej, p, len))
			return -1;
		p = nl ? nl + 1 : end;
	}
	return 0;
}

void ing_stats_add(struct pii_ingest_stats *to, const struct pii_ingest_stats *from)
{
	to->in += from->in;
	to->out += from->out;
	to->rejected += from->rejected;
	to->suppressed += from->suppressed;
	to->bytes_in += from->bytes_in;
	to->bytes_out += from->bytes_out;
	for (int r = 0; r < PII_R_COUNT; r++)
		to->by_reason[r] += from->by_reason[r];
}

/* Base64 in pieces: whole 3-byte groups are encoded as they come, the rest is carried. */
struct b64 {
	unsigned char carry[3];
	size_t ncarry;
};

static int b64_feed(struct b64 *b, struct sink *o, const char *p, size_t n,
		    struct st_error *err)
{
	unsigned char chunk[6144];
	char enc[8200];

	while (n) {
		size_t c = b->ncarry, take;

		memcpy(chunk, b->carry, c);
		take = sizeof(chunk) - c < n ? sizeof(chunk) - c : n;
		memcpy(chunk + c, p, take);
		c += take;
		p += take;
		n -= take;
		b->ncarry = c % 3;
		memcpy(b->carry, chunk + c - b->ncarry, b->ncarry);
		c -= b->ncarry;
		if (c) {
			sodium_bin2base64(enc, sizeof(enc), chunk, c, sodium_base64_VARIANT_ORIGINAL);
			if (ing_sink_add(o, enc, strlen(enc), err))
				return -1;
		}
	}
	return 0;
}

static int b64_end(struct b64 *b, struct sink *o, struct st_error *err)
{
	char enc[8];

	if (!b->ncarry)
		return 0;
	sodium_bin2base64(enc, sizeof(enc), b->carry, b->ncarry, sodium_base64_VARIANT_ORIGINAL);
	return ing_sink_add(o, enc, strlen(enc), err);
}

/* ---- the reader and the pipeline ---- */

/* Steps the record-end scanner over byte c. Returns 1 when c ends the record. A quote counts
 * only at the start of a field or inside a quoted one, so a stray quote in a plain field
 * cannot swallow the following lines (the split reports it). */
int ing_csv_step(int *state, char c)
{
	if (*state == CSV_QUOTED) {
		if (c == '"')
			*state = CSV_QUOTE;
		return 0;
	}
	if (*state == CSV_QUOTE && c == '"') {
		*state = CSV_QUOTED; /* a doubled quote */
		return 0;
	}
	/* Outside quotes (a closing quote has ended its field). */
	if (c == '\n') {
		*state = CSV_START;
		return 1;
	}
	*state = c == ',' ? CSV_START : (*state == CSV_START && c == '"') ? CSV_QUOTED : CSV_PLAIN;
	return 0;
}

/* Reads more input into an emptied buffer. Returns the bytes read (0 at the end), or -1. */
static ssize_t reader_refill(struct reader *rd, struct st_error *err)
{
	ssize_t r;

	rd->off = rd->have = 0;
	do
		r = read(rd->fd, rd->buf, rd->cap);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return st_error_set(err, ST_E_SYSTEM, "cannot read input: %s", strerror(errno));
	rd->eof = r == 0;
	rd->have = (size_t)r;
	return r;
}

/* Streams an over-long record, whose first bytes are buffered, into the rejects file as
 * base64, reading on to its end (the next newline; for CSV, outside quotes), so that memory
 * stays bounded and nothing is lost. */
int ing_reject_long(struct reader *rd, struct sink *rej, struct pii_ingest_stats *st, size_t max,
		    int csv, struct st_error *err)
{
	struct b64 b = {{0}, 0};
	int state = CSV_START, done = 0;
	char hdr[256];

	st->in++;
	st->rejected++;
	st->by_reason[PII_R_TOO_LONG]++;
	snprintf(hdr, sizeof(hdr),
		 "{\"line\":%llu,\"code\":\"too-long\",\"reason\":\"record longer than %zu bytes\","
		 "\"record_base64\":\"",
		 (unsigned long long)rd->line + 1, max);
	if (ing_sink_add(rej, hdr, strlen(hdr), err))
		return -1;
	while (!done) {
		const char *p = rd->buf + rd->off;
		size_t i = 0;

		for (; i < rd->have; i++) {
			if (p[i] == '\n')
				rd->line++;
			if (csv ? ing_csv_step(&state, p[i]) : p[i] == '\n') {
				done = 1;
				break;
			}
		}
		st->bytes_in += i + (size_t)done;
		if (b64_feed(&b, rej, p, i, err))
			return -1;
		if (done) {
			rd->off += i + 1;
			rd->have -= i + 1;
		} else {
			ssize_t r = reader_refill(rd, err);

			if (r < 0)
				return -1;
			if (!r) {
				rd->line++; /* the last line had no newline */
				break;
			}
		}
	}
	if (b64_end(&b, rej, err))
		return -1;
	return ing_sink_add(rej, "\"}\n", 3, err);
}

/* Fills the buffer and returns the next chunk of whole lines (at most about want bytes,
 * at least one line): 1 with p, n and first set, 0 at the end, 2 when the next line is over
 * the limit (the caller streams it with ing_reject_long()), or -1 on a read error. */
static int next_chunk(struct reader *rd, size_t want, size_t max, const char **p, size_t *n,
		      uint64_t *first, struct st_error *err)
{
	for (;;) {
		char *start = rd->buf + rd->off;
		size_t look = rd->have < want ? rd->have : want;
		char *last = NULL;

		/* The last newline within the first `want` bytes ends the chunk. */
		last = look ? memrchr(start, '\n', look) : NULL;
		if (!last && rd->have > want) {
			last = memchr(start + look, '\n', rd->have - look);
		}
		if (last && (size_t)(last - start) <= rd->have) {
			const char *firstnl = memchr(start, '\n', (size_t)(last - start) + 1);

			if ((size_t)(firstnl - start) > max + 1)
				return 2;
			*p = start;
			*n = (size_t)(last - start) + 1;
			*first = rd->line + 1;
			for (const char *q = start; (q = memchr(q, '\n', (size_t)(last + 1 - q)));
			     q++)
				rd->line++;
			rd->off += *n;
			rd->have -= *n;
			return 1;
		}
		if (rd->have > max + 1)
			return 2;
		if (rd->eof) {
			if (!rd->have)
				return 0;
			*p = start;
			*n = rd->have;
			*first = ++rd->line;
			rd->off += rd->have;
			rd->have = 0;
			return 1;
		}
		if (rd->off) {
			memmove(rd->buf, start, rd->have);
			rd->off = 0;
		}
		{
			ssize_t r;

			do
				r = read(rd->fd, rd->buf + rd->have, rd->cap - rd->have);
			while (r < 0 && errno == EINTR);
			if (r < 0)
				return st_error_set(err, ST_E_SYSTEM, "cannot read input: %s",
						    strerror(errno));
			if (r == 0)
				rd->eof = 1;
			rd->have += (size_t)r;
		}
	}
}

/* A chunk of lines in flight between the reader, a worker and the writer. */
struct batch {
	char *data;
	size_t n;
	uint64_t first_line;
	struct sink out, rej;
	struct pii_ingest_stats st;
	int state; /* 0 free, 1 queued, 2 taken, 3 done */
	int failed;
	struct st_error err;
};

struct pool {
	struct pii_ingest *ing;
	struct batch *b;
	size_t nb;
	uint64_t head, tail; /* batches [head, tail) are in flight, in input order */
	uint64_t next;       /* the next batch a worker takes */
	int stop;
	pthread_mutex_t mu;
	pthread_cond_t work, done;
};

static void *pool_worker(void *arg)
{
	struct pool *pl = arg;
	struct wctx w;
	struct st_error err = ST_ERROR_INIT;
	int ok = !ing_wctx_init(&w, pl->ing, &err);

	for (;;) {
		struct batch *b;

		pthread_mutex_lock(&pl->mu);
		while (!pl->stop && pl->next == pl->tail)
			pthread_cond_wait(&pl->work, &pl->mu);
		if (pl->stop && pl->next == pl->tail) {
			pthread_mutex_unlock(&pl->mu);
			break;
		}
		b = &pl->b[pl->next++ % pl->nb];
		b->state = 2;
		pthread_mutex_unlock(&pl->mu);
		if (!ok) {
			b->err = err;
			b->failed = 1;
		} else {
			memset(&w.st, 0, sizeof(w.st));
			st_error_init(&w.err);
			if (process_chunk(&w, &b->out, &b->rej, b->data, b->n, b->first_line)) {
				b->err = w.err;
				b->failed = 1;
			}
			b->st = w.st;
		}
		pthread_mutex_lock(&pl->mu);
		b->state = 3;
		pthread_cond_broadcast(&pl->done);
		pthread_mutex_unlock(&pl->mu);
	}
	if (ok)
		ing_wctx_release(&w);
	return NULL;
}

/* Writes out the oldest batch once it is done. Waits for it when wait is set. Returns 1 when
 * one was written, 0 when none was ready, -1 on error. */
static int pool_drain_one(struct pool *pl, int wait, struct sink *out, struct sink *rej,
			  struct pii_ingest_stats *st, struct st_error *err)
{
	struct batch *b;
	int ret;

	pthread_mutex_lock(&pl->mu);
	if (pl->head == pl->tail) {
		pthread_mutex_unlock(&pl->mu);
		return 0;
	}
	b = &pl->b[pl->head % pl->nb];
	while (wait && b->state != 3)
		pthread_cond_wait(&pl->done, &pl->mu);
	if (b->state != 3) {
		pthread_mutex_unlock(&pl->mu);
		return 0;
	}
	pthread_mutex_unlock(&pl->mu);
	ret = 1;
	if (b->failed) {
		*err = b->err;
		ret = -1;
	} else if (ing_sink_add(out, b->out.b.p, b->out.b.len, err) ||
		   ing_sink_add(rej, b->rej.b.p, b->rej.b.len, err)) {
		ret = -1;
	}
	ing_stats_add(st, &b->st);
	st_buf_reset(&b->out.b);
	st_buf_reset(&b->rej.b);
	pthread_mutex_lock(&pl->mu);
	b->state = 0;
	pl->head++;
	pthread_mutex_unlock(&pl->mu);
	return ret;
}

int ing_run_threaded(struct pii_ingest *ing, struct reader *rd, struct sink *out, struct sink *rej,
		     struct pii_ingest_stats *st, int nthreads, struct st_error *err)
{
	struct pool pl;
	pthread_t th[64];
	int started = 0, ret = -1;
	uint64_t progress_mark = 0;

	memset(&pl, 0, sizeof(pl));
	pl.ing = ing;
	pl.nb = (size_t)nthreads * 3;
	pl.b = st_calloc(pl.nb, sizeof(*pl.b));
	pthread_mutex_init(&pl.mu, NULL);
	pthread_cond_init(&pl.work, NULL);
	pthread_cond_init(&pl.done, NULL);
	if (!pl.b) {
		st_error_oom(err);
		goto out;
	}
	for (size_t i = 0; i < pl.nb; i++) {
		pl.b[i].data = st_malloc(CHUNK + ing->o.max_record + 2);
		pl.b[i].out.fd = pl.b[i].rej.fd = -1;
		st_buf_init(&pl.b[i].out.b, (CHUNK + ing->o.max_record) * 4 + 4096);
		st_buf_init(&pl.b[i].rej.b, (CHUNK + ing->o.max_record) * 8 + 4096);
		if (!pl.b[i].data) {
			st_error_oom(err);
			goto out;
		}
	}
	for (; started < nthreads; started++)
		if (pthread_create(&th[started], NULL, pool_worker, &pl))
			break;
	if (!started) {
		st_error_set(err, ST_E_SYSTEM, "cannot start worker threads");
		goto out;
	}
	for (;;) {
		const char *p;
		size_t n;
		uint64_t first;
		int r;

		/* Keep every slot busy; write finished batches in order as they come. */
		while (pl.tail - pl.head == pl.nb) {
			if (pool_drain_one(&pl, 1, out, rej, st, err) < 0)
				goto stop;
		}
		while ((r = pool_drain_one(&pl, 0, out, rej, st, err)) > 0)
			;
		if (r < 0)
			goto stop;
		r = next_chunk(rd, CHUNK, ing->o.max_record, &p, &n, &first, err);
		if (r < 0)
			goto stop;
		if (r == 0)
			break;
		if (r == 2) {
			/* Everything before the long line is written first, to keep the order. */
			while ((r = pool_drain_one(&pl, 1, out, rej, st, err)) > 0)
				;
			if (r < 0 || ing_reject_long(rd, rej, st, ing->o.max_record, 0, err))
				goto stop;
			continue;
		}
		{
			struct batch *b = &pl.b[pl.tail % pl.nb];

			memcpy(b->data, p, n);
			b->n = n;
			b->first_line = first;
			b->failed = 0;
			memset(&b->st, 0, sizeof(b->st));
			pthread_mutex_lock(&pl.mu);
			b->state = 1;
			pl.tail++;
			pthread_cond_signal(&pl.work);
			pthread_mutex_unlock(&pl.mu);
		}
		if (ing->o.progress && ing->o.progress_every &&
		    st->in / ing->o.progress_every > progress_mark) {
			progress_mark = st->in / ing->o.progress_every;
			ing->o.progress(ing->o.progress_ctx, st->in, st->bytes_in);
		}
	}
	while (pl.head < pl.tail) {
		if (pool_drain_one(&pl, 1, out, rej, st, err) < 0)
			goto stop;
	}
	ret = 0;
stop:
	pthread_mutex_lock(&pl.mu);
	pl.stop = 1;
	pthread_cond_broadcast(&pl.work);
	pthread_mutex_unlock(&pl.mu);
	for (int i = 0; i < started; i++)
		pthread_join(th[i], NULL);
out:
	for (size_t i = 0; pl.b && i < pl.nb; i++) {
		st_free(pl.b[i].data);
		st_buf_release(&pl.b[i].out.b);
		st_buf_release(&pl.b[i].rej.b);
	}
	st_free(pl.b);
	pthread_mutex_destroy(&pl.mu);
	pthread_cond_destroy(&pl.work);
	pthread_cond_destroy(&pl.done);
	return ret;
}

int ing_run_serial(struct pii_ingest *ing, struct reader *rd, struct sink *out, struct sink *rej,
		   struct pii_ingest_stats *st, struct st_error *err)
{
	struct wctx w;
	uint64_t progress_mark = 0;
	int ret = -1;

	if (ing_wctx_init(&w, ing, err))
		goto out;
	for (;;) {
		const char *p;
		size_t n;
		uint64_t first;
		int r = next_chunk(rd, 1 << 16, ing->o.max_record, &p, &n, &first, err);

		if (r < 0)
			goto out;
		if (r == 0)
			break;
		if (r == 2) {
			if (ing_reject_long(rd, rej, &w.st, ing->o.max_record, 0, err))
				goto out;
			continue;
		}
		if (process_chunk(&w, out, rej, p, n, first)) {
			*err = w.err;
			goto out;
		}
		if (ing->o.progress && ing->o.progress_every &&
		    w.st.in / ing->o.progress_every > progress_mark) {
			progress_mark = w.st.in / ing->o.progress_every;
			ing->o.progress(ing->o.progress_ctx, w.st.in, w.st.bytes_in);
		}
	}
	ret = 0;
out:
	ing_stats_add(st, &w.st);
	if (w.ing)
		ing_wctx_release(&w);
	return ret;
}
