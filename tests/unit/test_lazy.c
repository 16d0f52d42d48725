/* Unit tests for common/lazy.c, the loader of optional libraries: a missing library and a
 * missing symbol are errors that name the package, an outcome is kept, and every real table
 * (libpq, libcurl, librdkafka, libmicrohttpd, Graphviz) loads against the installed packages,
 * so that a changed soname or symbol is found here rather than by a user. */
#include "error.h"
#include "harness.h"
#include "lazy.h"
#include "lazy_curl.h"
#include "lazy_gvc.h"
#include "lazy_mhd.h"
#include "lazy_pq.h"
#include "lazy_rdkafka.h"

#include <string.h>
#include <zlib.h>

static const char *(*version)(void);
static void *nothing;

static const struct st_lazy_sym good_syms[] = {{"zlibVersion", (void **)&version}};
static const struct st_lazy_sym bad_syms[] = {{"zlibVersion", (void **)&version},
					      {"st_no_such_symbol", &nothing}};
static const struct st_lazy_sym none_syms[] = {{"anything", &nothing}};

int main(void)
{
	struct st_error err = ST_ERROR_INIT;
	struct st_lazy missing =
		ST_LAZY_INIT("libsteward-missing.so.9", "the tests", "steward-missing", none_syms);
	struct st_lazy bad = ST_LAZY_INIT("libz.so.1", "the tests", "zlib1g", bad_syms);
	struct st_lazy good = ST_LAZY_INIT("libz.so.1", "the tests", "zlib1g", good_syms);

	CHECK(st_lazy_load(&missing, &err) == -1);
	CHECK(err.code == ST_E_SYSTEM);
	CHECK_HAS(err.msg, "cannot load 'libsteward-missing.so.9', which the tests need "
			   "(Debian package steward-missing): ");
	st_error_init(&err);
	CHECK(st_lazy_load(&missing, &err) == -1); /* the outcome is kept */
	CHECK_HAS(err.msg, "cannot load 'libsteward-missing.so.9'");

	st_error_init(&err);
	CHECK(st_lazy_load(&bad, &err) == -1);
	CHECK_STR(err.msg, "cannot load 'libz.so.1', which the tests need (Debian package "
			   "zlib1g): it has no symbol 'st_no_such_symbol'");

	st_error_init(&err);
	CHECK(st_lazy_load(&good, &err) == 0);
	CHECK(version && !strcmp(version(), zlibVersion()));
	CHECK(st_lazy_load(&good, &err) == 0);

	/* the tables steward uses, against what is installed */
	CHECK(st_pq_load(&err) == 0);
	CHECK(st_curl_load(&err) == 0);
	CHECK(st_rdkafka_load(&err) == 0);
	CHECK(st_mhd_load(&err) == 0);
	CHECK(st_gvc_load(&err) == 0);
	CHECK_STR(err.msg, "");
	CHECK(strlen(rd_kafka_version_str()) > 0);
	CHECK(st_gvc.dot_layout && st_gvc.core);
	return t_done();
}
