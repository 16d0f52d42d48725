/* The table of libpq functions that lazy_pq.h routes calls through, and its loader. */
#define ST_LAZY_PQ_IMPL
#include "lazy_pq.h"
#include "lazy.h"

struct st_pq st_pq;

static const struct st_lazy_sym syms[] = {
#define ST_PQ_SYM(f) {#f, (void **)&st_pq.f},
	ST_PQ_FUNCS(ST_PQ_SYM)
#undef ST_PQ_SYM
};

static struct st_lazy lib = ST_LAZY_INIT("libpq.so.5", "PostgreSQL targets", "libpq5", syms);

int st_pq_load(struct st_error *err)
{
	return st_lazy_load(&lib, err);
}
