/* `steward search`: FTS5 over the latest version of every dataset and term, ranked by
 * BM25 with per-column weights and a boost for certified datasets. Ranking is the cost
 * (about 1 µs per matching row), so the boost is applied by merging two ranked lists
 * rather than by ranking a join, and very broad queries rank only their strong matches. */
#include "catalog_int.h"
#include "alloc.h"
#include "buf.h"
#include "sql.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define MAX_QUERY 1024
#define CERTIFIED_BOOST 2.0
#define BM25 "bm25(search_fts, 10.0, 2.0, 1.0, 3.0, 1.0, 2.0)"

/* Turns free text into an FTS5 query: each whitespace-separated word becomes a quoted
 * phrase with a prefix match, so punctuation never reaches FTS5's syntax. */
static int fts_query(const char *q, struct st_buf *out)
{
	int words = 0;

	while (*q) {
		while (*q == ' ' || *q == '\t' || *q == '\n')
			q++;
		if (!*q)
			break;
		if (st_buf_adds(out, words++ ? " \"" : "\""))
			return -1;
		for (; *q && *q != ' ' && *q != '\t' && *q != '\n'; q++)
			if ((*q == '"' && st_buf_add(out, "\"", 1)) || st_buf_add(out, q, 1))
				return -1;
		if (st_buf_adds(out, "\"*"))
			return -1;
	}
	return words;
}

static int has_token_chars(const char *q)
{
	for (; *q; q++)
		if ((unsigned char)*q >= 0x80 || (*q >= '0' && *q <= '9') ||
		    ((*q | 0x20) >= 'a' && (*q | 0x20) <= 'z'))
			return 1;
	return 0;
}

void catalog_hits_release(struct catalog_hits *hits)
{
	for (size_t i = 0; i < hits->n; i++) {
		st_free(hits->v[i].name);
		st_free(hits->v[i].kind);
		st_free(hits->v[i].description);
		st_free(hits->v[i].owner);
	}
	st_free(hits->v);
	memset(hits, 0, sizeof(*hits));
}

/* The dataset filter shared by both ranked lists; ?2..?6 are kind, tag, owner, domain,
 * pii-only, and ?7 selects certified (1) or other (0) datasets. */
#define FILTER_BASE                                                                            \
	" (?2 IS NULL OR d.kind = ?2)"                                                         \
	" AND (?3 IS NULL OR EXISTS (SELECT 1 FROM tags t WHERE t.dataset_id = d.id"          \
	"      AND t.tag = ?3))"                                                               \
	" AND (?4 IS NULL OR d.owner = ?4)"                                                    \
	" AND (?5 IS NULL OR d.domain = ?5)"                                                   \
	" AND (?6 = 0 OR d.npii > 0)"
#define FILTER " d.certified = ?7 AND" FILTER_BASE

struct cand {
	int64_t id;
	double score;
	int certified;
};

static int by_score(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	if (x->score != y->score)
		return x->score < y->score ? 1 : -1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* Binds the FTS query (?1) and the filters (?2..?6) shared by every statement here. */
static void bind_query(sqlite3_stmt *st, const char *fq, const struct catalog_search_opts *o)
{
	sqlite3_bind_text(st, 1, fq, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, o->kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, o->tag, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, o->owner, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, o->domain, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 6, o->pii_only);
}

/* Runs one ranked query and appends (id, score) candidates. */
static int rank_into(struct catalog *c, const char *sql, const char *fq,
		     const struct catalog_search_opts *o, int certified, int64_t limit,
		     struct cand **v, size_t *n, size_t *cap, struct st_error *err)
{
	sqlite3_stmt *st;
	int rc;

	if (st_sql_cached(c->db, &st, sql, err))
		return -1;
	bind_query(st, fq, o);
	sqlite3_bind_int(st, 7, certified);
	sqlite3_bind_int64(st, 8, limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (st_grow(v, cap, *n + 1, sizeof(**v))) {
			st_sql_done(st);
			return st_error_oom(err);
		}
		(*v)[*n].id = sqlite3_column_int64(st, 0);
		(*v)[*n].score = -sqlite3_column_double(st, 1) * (certified ? CERTIFIED_BOOST : 1.0);
		(*v)[*n].certified = certified;
		(*n)++;
	}
	st_sql_done(st);
	if (rc != SQLITE_DONE)
		return st_sql_error(err, c->db, "search failed");
	return 0;
}

static int64_t count_matches(struct catalog *c, const char *sql, const char *fq,
			     const struct catalog_search_opts *o, struct st_error *err)
{
	sqlite3_stmt *st;
	int64_t n = -1;

	if (st_sql_cached(c->db, &st, sql, err))
		return -1;
	bind_query(st, fq, o);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	else
		st_sql_error(err, c->db, "search failed");
	st_sql_done(st);
	return n;
}

/* Whether any certified dataset passes the filters: 1, 0, or -1 with err. */
static int any_certified(struct catalog *c, const struct catalog_search_opts *o,
			 struct st_error *err)
{
	sqlite3_stmt *st;
	int any = -1;

	if (st_sql_cached(c->db, &st,
			  "SELECT EXISTS (SELECT 1 FROM datasets d WHERE d.certified = 1 AND"
			  FILTER_BASE ")",
			  err))
		return -1;
	bind_query(st, NULL, o);
	if (sqlite3_step(st) == SQLITE_ROW)
		any = sqlite3_column_int(st, 0);
	else
		st_sql_error(err, c->db, "search failed");
	st_sql_done(st);
	return any;
}

static int fetch_hit(sqlite3_stmt *st, const struct cand *k, struct catalog_hit *h)
{
	int bad = 0;

	sqlite3_bind_int64(st, 1, k->id);
	memset(h, 0, sizeof(*h));
	if (sqlite3_step(st) == SQLITE_ROW) {
		h->name = st_sql_col_strdup(st, 0, &bad);
		h->kind = st_sql_col_strdup(st, 1, &bad);
		h->description = st_sql_col_strdup(st, 2, &bad);
		h->owner = st_sql_col_strdup(st, 3, &bad);
		h->version = sqlite3_column_int64(st, 4);
		h->observed = sqlite3_column_int(st, 5);
	}
	sqlite3_reset(st);
	h->certified = k->certified;
	h->score = k->score;
	return bad || !h->name ? -1 : 0;
}

static int search(struct catalog *c, const char *query, const struct catalog_search_opts *o,
		  struct catalog_hits *hits, struct st_error *err);

/* A query that is exactly an alias (a dbt unique_id) searches for the dataset's name. */
int catalog_search(struct catalog *c, const char *query, const struct catalog_search_opts *o,
		   struct catalog_hits *hits, struct st_error *err)
{
	char *real = NULL;
	int r;

	memset(hits, 0, sizeof(*hits));
	if (strlen(query) <= MAX_QUERY && catalog_resolve_alias(c, query, &real, err) < 0)
		return -1;
	r = search(c, real ? real : query, o, hits, err);
	st_free(real);
	return r;
}

static int search(struct catalog *c, const char *query, const struct catalog_search_opts *o,
		  struct catalog_hits *hits, struct st_error *err)
{
	int filtered = o->kind || o->tag || o->owner || o->domain || o->pii_only;
	/* Without filters the index alone ranks; with them each match is joined first. */
	const char *ranked_sql =
		filtered ? "SELECT f.rowid, " BM25 " AS r FROM search_fts f"
			   " JOIN datasets d ON d.id = f.rowid WHERE search_fts MATCH ?1 AND" FILTER
			   " ORDER BY r LIMIT ?8"
			 : "SELECT rowid, " BM25 " AS r FROM search_fts WHERE search_fts MATCH ?1"
			   " AND (?7 = 0 OR rowid IN (SELECT id FROM datasets d WHERE" FILTER "))"
			   " ORDER BY r LIMIT ?8";
	const char *count_sql =
		filtered ? "SELECT count(*) FROM search_fts f JOIN datasets d ON d.id = f.rowid"
			   " WHERE search_fts MATCH ?1 AND" FILTER_BASE
			 : "SELECT count(*) FROM search_fts WHERE search_fts MATCH ?1";
	int64_t limit = o->limit ? (int64_t)o->limit : 20, total;
	struct st_buf fq, narrow;
	struct cand *cands = NULL;
	size_t ncands = 0, ccap = 0, hcap = 0, ncert;
	sqlite3_stmt *fetch = NULL;
	int ret = -1;

	memset(hits, 0, sizeof(*hits));
	st_buf_init(&fq, 4 * MAX_QUERY);
	st_buf_init(&narrow, 4 * MAX_QUERY + 64);
	if (strlen(query) > MAX_QUERY) {
		st_error_set(err, ST_E_USAGE, "query is longer than %d bytes", MAX_QUERY);
		goto out;
	}
	if (!has_token_chars(query)) {
		st_error_set(err, ST_E_USAGE, "query has no words to search for");
		goto out;
	}
	if (fts_query(query, &fq) < 0 ||
	    st_buf_addf(&narrow, "{name tags terms} : (%s)", st_buf_str(&fq))) {
		st_error_oom(err);
		goto out;
	}
	total = count_matches(c, count_sql, st_buf_str(&fq), o, err);
	if (total < 0)
		goto out;
	hits->total = (size_t)total;
	if (!total) {
		ret = 0;
		goto out;
	}
	hits->restricted = total > CATALOG_SEARCH_RANK_ALL;
	{
		const char *rq = hits->restricted ? st_buf_str(&narrow) : st_buf_str(&fq);

		/* Certified matches are few: rank them all, on the full query. Every other hit
		 * that can make the list is among the top limit + (certified count) of the
		 * ranking of the rest. The first list reads every match of the query; it is
		 * skipped when no certified dataset passes the filters (an index look-up). */
		int any = any_certified(c, o, err);

		if (any < 0 || (any && rank_into(c, ranked_sql, st_buf_str(&fq), o, 1, limit, &cands,
						 &ncands, &ccap, err)))
			goto out;
		ncert = ncands;
		if (rank_into(c, ranked_sql, rq, o, 0, limit + (int64_t)ncert, &cands, &ncands,
			      &ccap, err))
			goto out;
	}
	/* The second list may repeat certified rows when unfiltered: keep the boosted one. */
	if (ncands > 1)
		qsort(cands, ncands, sizeof(*cands), by_score);
	if (st_sql_cached(c->db, &fetch,
			    "SELECT name, kind, description, owner, version, observed FROM datasets"
			    " WHERE id = ?1",
			    err))
		goto out;
	for (size_t i = 0; i < ncands && hits->n < (size_t)limit; i++) {
		int dup = 0;

		for (size_t j = 0; j < i && !dup; j++)
			dup = cands[j].id == cands[i].id;
		if (dup)
			continue;
		if (st_grow(&hits->v, &hcap, hits->n + 1, sizeof(*hits->v)) ||
		    fetch_hit(fetch, &cands[i], &hits->v[hits->n])) {
			st_error_oom(err);
			goto out;
		}
		hits->n++;
	}
	/* Observed datasets (OpenLineage, no descriptor) after the declared ones, each group
	 * in rank order. */
	for (size_t i = 1; i < hits->n; i++)
		for (size_t j = i; j > 0 && hits->v[j - 1].observed > hits->v[j].observed; j--) {
			struct catalog_hit t = hits->v[j];

			hits->v[j] = hits->v[j - 1];
			hits->v[j - 1] = t;
		}
	ret = 0;
out:
	if (ret)
		catalog_hits_release(hits);
	st_sql_done(fetch);
	st_free(cands);
	st_buf_release(&fq);
	st_buf_release(&narrow);
	return ret;
}

json_t *catalog_hits_json(const struct catalog_hits *hits)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr && i < hits->n; i++) {
		const struct catalog_hit *h = &hits->v[i];
		json_t *o = json_pack("{s:s, s:s, s:I, s:f, s:b, s:s?, s:s?}", "name", h->name,
				      "kind", h->kind, "version", (json_int_t)h->version, "score",
				      h->score, "certified", h->certified, "owner", h->owner,
				      "description", h->description);

		if (!o || (h->observed && json_object_set_new(o, "observed", json_true())) ||
		    json_array_append_new(arr, o)) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}
