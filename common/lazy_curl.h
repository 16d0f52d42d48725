/* libcurl, loaded on first use (common/lazy.h). Include this instead of <curl/curl.h>: the
 * calls below then go through the table st_curl, which st_curl_load() fills. */
#ifndef ST_LAZY_CURL_H
#define ST_LAZY_CURL_H

#include "error.h"

#include <curl/curl.h>

#define ST_CURL_FUNCS(X) \
	X(curl_easy_cleanup) \
	X(curl_easy_getinfo) \
	X(curl_easy_init) \
	X(curl_easy_perform) \
	X(curl_easy_setopt) \
	X(curl_easy_strerror) \
	X(curl_free) \
	X(curl_getdate) \
	X(curl_global_init) \
	X(curl_slist_append) \
	X(curl_slist_free_all) \
	X(curl_url) \
	X(curl_url_cleanup) \
	X(curl_url_get) \
	X(curl_url_set)

struct st_curl {
#define ST_CURL_SLOT(f) __typeof__(f) *f;
	ST_CURL_FUNCS(ST_CURL_SLOT)
#undef ST_CURL_SLOT
};
extern struct st_curl st_curl;

/* Loads libcurl.so.4 once per process and fills st_curl: 0, or -1 with err naming the Debian
 * package. Every call of a function below comes after it. */
int st_curl_load(struct st_error *err);

#ifndef ST_LAZY_CURL_IMPL
/* curl.h checks the types of these two by macros of the same names, which give way here */
#undef curl_easy_setopt
#undef curl_easy_getinfo
#define curl_easy_cleanup (st_curl.curl_easy_cleanup)
#define curl_easy_getinfo (st_curl.curl_easy_getinfo)
#define curl_easy_init (st_curl.curl_easy_init)
#define curl_easy_perform (st_curl.curl_easy_perform)
#define curl_easy_setopt (st_curl.curl_easy_setopt)
#define curl_easy_strerror (st_curl.curl_easy_strerror)
#define curl_free (st_curl.curl_free)
#define curl_getdate (st_curl.curl_getdate)
#define curl_global_init (st_curl.curl_global_init)
#define curl_slist_append (st_curl.curl_slist_append)
#define curl_slist_free_all (st_curl.curl_slist_free_all)
#define curl_url (st_curl.curl_url)
#define curl_url_cleanup (st_curl.curl_url_cleanup)
#define curl_url_get (st_curl.curl_url_get)
#define curl_url_set (st_curl.curl_url_set)
#endif

#endif
