/* The table of librdkafka functions that lazy_rdkafka.h routes calls through, and its loader. */
#define ST_LAZY_RDKAFKA_IMPL
#include "lazy_rdkafka.h"
#include "lazy.h"

struct st_rdkafka st_rdkafka;

static const struct st_lazy_sym syms[] = {
#define ST_RDKAFKA_SYM(f) {#f, (void **)&st_rdkafka.f},
	ST_RDKAFKA_FUNCS(ST_RDKAFKA_SYM)
#undef ST_RDKAFKA_SYM
};

static struct st_lazy lib = ST_LAZY_INIT("librdkafka.so.1", "Kafka pipelines", "librdkafka1", syms);

int st_rdkafka_load(struct st_error *err)
{
	return st_lazy_load(&lib, err);
}
