/* The table of libmicrohttpd functions that lazy_mhd.h routes calls through, and its loader. */
#define ST_LAZY_MHD_IMPL
#include "lazy_mhd.h"

ST_LAZY_DEFINE(st_mhd, ST_MHD_FUNCS, "libmicrohttpd.so.12", "steward serve", "libmicrohttpd12")
