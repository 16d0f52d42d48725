/* The table of librdkafka functions that lazy_rdkafka.h routes calls through, and its loader. */
#define ST_LAZY_RDKAFKA_IMPL
#include "lazy_rdkafka.h"

ST_LAZY_DEFINE(st_rdkafka, ST_RDKAFKA_FUNCS, "librdkafka.so.1", "Kafka pipelines", "librdkafka1")
