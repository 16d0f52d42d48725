/* Other names of a dataset (a dbt unique_id such as model.shop.orders), resolved to the
 * steward name wherever a dataset or dataset.field is named: show, lineage, search. */
#include "catalog_int.h"
#include "alloc.h"
#include "buf.h"
#include "sql.h"

#include <string.h>

int catalog_resolve_alias(struct catalog *c, const char *ref, char **out, struct st_error *err)
{
	sqlite3_stmt *st = NULL;
	size_t n = strlen(ref);
	int ret = -1, rc;

	*out = NULL;
	if (st_sql_cached(c->db, &st,
			   "SELECT d.name FROM aliases a JOIN datasets d ON d.id = a.dataset_id"
			   " WHERE a.alias = ?1 AND NOT EXISTS (SELECT 1 FROM datasets x"
			   " WHERE x.name = ?2) ORDER BY d.version DESC LIMIT 1",
			   err))
		return -1;
	/* The longest prefix that is an alias, ending at a dot: the rest is a field path. */
	for (size_t len = n; len > 0; len--) {
		if (len < n && ref[len] != '.')
			continue;
		sqlite3_bind_text(st, 1, ref, (int)len, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, ref, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			struct st_buf b;

			st_buf_init(&b, n + 4096);
			if (st_buf_adds(&b, (const char *)sqlite3_column_text(st, 0)) ||
			    st_buf_adds(&b, ref + len) || !(*out = st_buf_detach(&b))) {
				st_buf_release(&b);
				st_error_oom(err);
				goto out;
			}
			ret = 1;
			goto out;
		}
		sqlite3_reset(st);
		if (rc != SQLITE_DONE) {
			st_sql_error(err, c->db, "cannot resolve name");
			goto out;
		}
	}
	ret = 0;
out:
	st_sql_done(st);
	return ret;
}
