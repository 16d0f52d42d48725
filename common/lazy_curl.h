/* libcurl, loaded on first use (common/lazy.h). Include this instead of <curl/curl.h>: the
 * calls below then go through the table st_curl, which st_curl_load() fills. */
#ifndef ST_LAZY_CURL_H
#define ST_LAZY_CURL_H

#include "error.h"
#include "lazy.h"

#include <curl/curl.h>

#define ST_CURL_FUNCS(X, t) \
	X(t, curl_easy_cleanup) \
	X(t, curl_easy_getinfo) \
	X(t, curl_easy_init) \
	X(t, curl_easy_perform) \
	X(t, curl_easy_setopt) \
	X(t, curl_easy_strerror) \
	X(t, curl_free) \
	X(t, curl_getdate) \
	X(t, curl_global_init) \
	X(t, curl_slist_append) \
	X(t, curl_slist_free_all) \
	X(t, curl_url) \
	X(t, curl_url_cleanup) \
	X(t, curl_url_get) \
	X(t, curl_url_set)

struct st_curl {
	ST_CURL_FUNCS(ST_LAZY_SLOT, st_curl)
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
