/* The table of libmicrohttpd functions that lazy_mhd.h routes calls through, and its loader. */
#define ST_LAZY_MHD_IMPL
#include "lazy_mhd.h"
#include "lazy.h"

struct st_mhd st_mhd;

static const struct st_lazy_sym syms[] = {
#define ST_MHD_SYM(f) {#f, (void **)&st_mhd.f},
	ST_MHD_FUNCS(ST_MHD_SYM)
#undef ST_MHD_SYM
};

static struct st_lazy lib = ST_LAZY_INIT("libmicrohttpd.so.12", "steward serve", "libmicrohttpd12", syms);

int st_mhd_load(struct st_error *err)
{
	return st_lazy_load(&lib, err);
}
