/* Helpers shared by the dbt loader's files (dbt.c, dbt_extend.c): diagnostics, SQLite
 * binding and stepping, and the words a PII setting may take. */
#include "dbt_int.h"
#include "sql.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *const catalog_dbt_classes[CATALOG_DBT_NCLASSES] = {
	"none", "direct", "indirect", "sensitive", "pseudonymous", "unknown"};
const char *const catalog_dbt_transforms[CATALOG_DBT_NTRANSFORMS] = {"keep", "hash", "drop", "mask",
								     "truncate"};
const char *const catalog_dbt_normalizers[CATALOG_DBT_NNORMALIZERS] = {"email", "phone", "ip"};

int catalog_dbt_diag(struct catalog_dbt_ctx *x, int sev, const char *file, unsigned line,
		     unsigned col, const char *fmt, ...)
{
	char msg[1536];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (st_diags_add(x->diags, sev, file, line, col, "%s", msg))
		return st_error_oom(x->err);
	return 0;
}

int catalog_dbt_bind(sqlite3_stmt *st, int i, const char *s)
{
	return s ? sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(st, i);
}

int catalog_dbt_step(struct catalog_dbt_ctx *x, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? 0 : st_sql_error(x->err, x->db, what);
}

int catalog_dbt_one_of(const char *v, const char *const *set, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v, set[i]))
			return 1;
	return 0;
}
