/* `steward search`: FTS5 over the latest version of every dataset and term, ranked by
 * BM25 with per-column weights and a boost for certified datasets. */
#include "catalog_int.h"
#include "alloc.h"
#include "buf.h"

#include <string.h>

#define MAX_QUERY 1024
#define CERTIFIED_BOOST 2.0

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
	hits->v = NULL;
	hits->n = 0;
}

int catalog_search(struct catalog *c, const char *query, const struct catalog_search_opts *o,
		   struct catalog_hits *hits, struct st_error *err)
{
	static const char sql[] =
		"SELECT d.name, d.kind, d.description, d.owner, d.version, d.certified,"
		" -bm25(search_fts, 10.0, 2.0, 1.0, 3.0, 1.0, 2.0)"
		"   * (CASE WHEN d.certified THEN ?8 ELSE 1.0 END) AS score"
		" FROM search_fts JOIN datasets d ON d.id = search_fts.rowid"
		" WHERE search_fts MATCH ?1"
		"  AND (?2 IS NULL OR d.kind = ?2)"
		"  AND (?3 IS NULL OR EXISTS (SELECT 1 FROM tags t WHERE t.dataset_id = d.id"
		"       AND t.tag = ?3))"
		"  AND (?4 IS NULL OR d.owner = ?4)"
		"  AND (?5 IS NULL OR d.domain = ?5)"
		"  AND (?6 = 0 OR d.npii > 0)"
		" ORDER BY score DESC, d.name LIMIT ?7";
	struct st_buf fq;
	sqlite3_stmt *st = NULL;
	size_t cap = 0;
	int ret = -1, rc, bad = 0;

	hits->v = NULL;
	hits->n = 0;
	st_buf_init(&fq, 4 * MAX_QUERY);
	if (strlen(query) > MAX_QUERY) {
		st_error_set(err, ST_E_USAGE, "query is longer than %d bytes", MAX_QUERY);
		goto out;
	}
	if (!has_token_chars(query)) {
		st_error_set(err, ST_E_USAGE, "query has no words to search for");
		goto out;
	}
	if (fts_query(query, &fq) < 0) {
		st_error_oom(err);
		goto out;
	}
	if (catalog_prepare(c->db, &st, sql, err))
		goto out;
	sqlite3_bind_text(st, 1, st_buf_str(&fq), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, o->kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, o->tag, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, o->owner, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, o->domain, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 6, o->pii_only);
	sqlite3_bind_int64(st, 7, o->limit ? (int64_t)o->limit : 20);
	sqlite3_bind_double(st, 8, CERTIFIED_BOOST);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct catalog_hit *h;

		if (st_grow(&hits->v, &cap, hits->n + 1, sizeof(*hits->v))) {
			st_error_oom(err);
			goto out;
		}
		h = &hits->v[hits->n++];
		memset(h, 0, sizeof(*h));
		h->name = catalog_col_strdup(st, 0, &bad);
		h->kind = catalog_col_strdup(st, 1, &bad);
		h->description = catalog_col_strdup(st, 2, &bad);
		h->owner = catalog_col_strdup(st, 3, &bad);
		h->version = sqlite3_column_int64(st, 4);
		h->certified = sqlite3_column_int(st, 5);
		h->score = sqlite3_column_double(st, 6);
		if (bad) {
			st_error_oom(err);
			goto out;
		}
	}
	if (rc != SQLITE_DONE) {
		catalog_sql_error(err, c->db, "search failed");
		goto out;
	}
	ret = 0;
out:
	if (ret)
		catalog_hits_release(hits);
	sqlite3_finalize(st);
	st_buf_release(&fq);
	return ret;
}
