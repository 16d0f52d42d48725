/* The table of libcurl functions that lazy_curl.h routes calls through, and its loader: in
 * common/ because both audit/ (HTTP targets) and cli/ (the client of steward serve) call it. */
#define ST_LAZY_CURL_IMPL
#include "lazy_curl.h"
#include "lazy.h"

struct st_curl st_curl;

static const struct st_lazy_sym syms[] = {
#define ST_CURL_SYM(f) {#f, (void **)&st_curl.f},
	ST_CURL_FUNCS(ST_CURL_SYM)
#undef ST_CURL_SYM
};

static struct st_lazy lib = ST_LAZY_INIT("libcurl.so.4", "HTTP targets and the CLI as a client", "libcurl4", syms);

int st_curl_load(struct st_error *err)
{
	return st_lazy_load(&lib, err);
}
