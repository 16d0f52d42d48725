/* Unit tests for catalog_ol_export(): what the writer receives (one line of JSON per event,
 * no newline, in a stable order), the same bytes twice, NAME selection and its errors, a
 * writer's error stopping the export with that error, and an empty catalog. */
#include "alloc.h"
#include "buf.h"
#include "catalog.h"
#include "harness.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct catalog *cat;

struct lines {
	struct st_buf all; /* every line, each followed by '\n' */
	size_t n;
	size_t fail_at; /* the writer fails on this line (1-based); 0: never */
	int had_newline;
};

static int collect(const char *line, size_t len, void *u, struct st_error *err)
{
	struct lines *l = u;

	if (++l->n == l->fail_at)
		return st_error_set(err, ST_E_SYSTEM, "disk full (test)");
	l->had_newline |= memchr(line, '\n', len) != NULL;
	if (st_buf_add(&l->all, line, len) || st_buf_add(&l->all, "\n", 1))
		return st_error_oom(err);
	return 0;
}

/* Exports names (n of them) into l; returns catalog_ol_export()'s result. */
static int export(const char *const *names, size_t n, struct lines *l, struct catalog_ol_export_stats *s,
		  struct st_error *err)
{
	const struct catalog_ol_opts o = {names, n, "9.9.9"};

	st_buf_release(&l->all);
	st_buf_init(&l->all, 1u << 24);
	l->n = 0;
	l->had_newline = 0;
	return catalog_ol_export(cat, &o, collect, l, s, err);
}

/* The job name of line i (0-based) of l, into out. */
static const char *job_of(const struct lines *l, size_t i, char *out, size_t n)
{
	const char *p = st_buf_str(&l->all);
	json_t *ev;

	for (; i && p; i--)
		p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL;
	snprintf(out, n, "(none)");
	if (!p || !(ev = json_loadb(p, strcspn(p, "\n"), 0, NULL)))
		return out;
	snprintf(out, n, "%s", json_string_value(json_object_get(json_object_get(ev, "job"), "name")));
	json_decref(ev);
	return out;
}

static void test_export(const char *src)
{
	struct lines l = {.fail_at = 0}, again = {.fail_at = 0};
	struct catalog_ol_export_stats s;
	struct st_error err = ST_ERROR_INIT;
	char path[512], job[128];
	const char *paths[1] = {path};
	struct catalog_load_stats ls = {0};
	struct st_diags d;

	/* an empty catalog: no events, no error */
	CHECK(export(NULL, 0, &l, &s, &err) == 0);
	CHECK(l.n == 0 && s.events == 0 && s.datasets == 0);

	st_diags_init(&d, 0);
	snprintf(path, sizeof(path), "%s/tests/fixtures/olout", src);
	CHECK(catalog_load(cat, paths, 1, CATALOG_LOAD_SERIAL, &ls, &d, &err) == 0);
	catalog_load_stats_release(&ls);
	st_diags_release(&d);

	CHECK(export(NULL, 0, &l, &s, &err) == 0);
	CHECK(l.n == 3 && s.events == 3 && s.datasets == 3);
	CHECK(!l.had_newline);
	CHECK_STR(job_of(&l, 0, job, sizeof(job)), "dbt:build");
	CHECK_STR(job_of(&l, 1, job, sizeof(job)), "dbt:build");
	CHECK_STR(job_of(&l, 2, job, sizeof(job)), "steward:misc.lonely");
	CHECK_HAS(st_buf_str(&l.all), "\"producer\":\"https://github.com/steward-dev/steward/tree/9.9.9\"");
	CHECK_HAS(st_buf_str(&l.all), "\"_schemaURL\":\"" CATALOG_OL_PII_FACET_URL "\"");
	CHECK(catalog_ol_facet_url("steward_pii") && !catalog_ol_facet_url("nope"));

	/* the same bytes again */
	CHECK(export(NULL, 0, &again, &s, &err) == 0);
	CHECK(again.all.len == l.all.len && !memcmp(again.all.p, l.all.p, l.all.len));

	/* NAME...: a dataset's writer, a job's events, a source's readers */
	{
		const char *one[] = {"mart.people_counts"}, *job_name[] = {"dbt:build"},
			   *source[] = {"src.people"};

		CHECK(export(one, 1, &l, &s, &err) == 0 && l.n == 1 && s.datasets == 1);
		CHECK(export(job_name, 1, &l, &s, &err) == 0 && l.n == 2);
		CHECK(export(source, 1, &l, &s, &err) == 0 && l.n == 1);
		CHECK_HAS(st_buf_str(&l.all), "\"name\":\"mart.people\",\"facets\"");
	}
	/* an unknown name: ST_E_NOTFOUND with a hint, and nothing written */
	{
		const char *bad[] = {"src.people", "mart.peple"};

		CHECK(export(bad, 2, &l, &s, &err) == -1);
		CHECK(err.code == ST_E_NOTFOUND && l.n == 0);
		CHECK_STR(err.msg, "no dataset or job 'mart.peple' in the catalog (did you mean 'mart.people'?)");
	}
	/* the writer's error stops the export, and is the one reported */
	l.fail_at = 2;
	CHECK(export(NULL, 0, &l, &s, &err) == -1);
	CHECK(err.code == ST_E_SYSTEM && l.n == 2 && s.events == 1);
	CHECK_STR(err.msg, "disk full (test)");
	st_buf_release(&l.all);
	st_buf_release(&again.all);
}

int main(void)
{
	const char *src = getenv("STEWARD_SRC");
	struct st_error err = ST_ERROR_INIT;

	if (!src) {
		printf("1..0 # SKIP STEWARD_SRC is not set\n");
		return 0;
	}
	CHECK(catalog_open_path(&cat, ":memory:", &err) == 0);
	test_export(src);
	catalog_free(cat);
	return t_done();
}
