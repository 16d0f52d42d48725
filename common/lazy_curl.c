/* The table of libcurl functions that lazy_curl.h routes calls through, and its loader: in
 * common/ because both audit/ (HTTP targets) and cli/ (the client of steward serve) call it. */
#define ST_LAZY_CURL_IMPL
#include "lazy_curl.h"

ST_LAZY_DEFINE(st_curl, ST_CURL_FUNCS, "libcurl.so.4", "HTTP targets and the CLI as a client", "libcurl4")
