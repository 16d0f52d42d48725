/* The table of libpq functions that lazy_pq.h routes calls through, and its loader. */
#define ST_LAZY_PQ_IMPL
#include "lazy_pq.h"

ST_LAZY_DEFINE(st_pq, ST_PQ_FUNCS, "libpq.so.5", "PostgreSQL targets", "libpq5")
