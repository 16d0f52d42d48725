/* librdkafka, loaded on first use (common/lazy.h). Include this instead of <librdkafka/rdkafka.h>: the
 * calls below then go through the table st_rdkafka, which st_rdkafka_load() fills. */
#ifndef ST_LAZY_RDKAFKA_H
#define ST_LAZY_RDKAFKA_H

#include "error.h"

#include <librdkafka/rdkafka.h>

#define ST_RDKAFKA_FUNCS(X) \
	X(rd_kafka_abort_transaction) \
	X(rd_kafka_assignment) \
	X(rd_kafka_assignment_lost) \
	X(rd_kafka_begin_transaction) \
	X(rd_kafka_commit) \
	X(rd_kafka_commit_transaction) \
	X(rd_kafka_committed) \
	X(rd_kafka_conf_destroy) \
	X(rd_kafka_conf_new) \
	X(rd_kafka_conf_set) \
	X(rd_kafka_conf_set_error_cb) \
	X(rd_kafka_conf_set_log_cb) \
	X(rd_kafka_conf_set_opaque) \
	X(rd_kafka_conf_set_rebalance_cb) \
	X(rd_kafka_consumer_close) \
	X(rd_kafka_consumer_group_metadata) \
	X(rd_kafka_consumer_group_metadata_destroy) \
	X(rd_kafka_consumer_poll) \
	X(rd_kafka_destroy) \
	X(rd_kafka_err2str) \
	X(rd_kafka_error_destroy) \
	X(rd_kafka_error_is_retriable) \
	X(rd_kafka_error_string) \
	X(rd_kafka_error_txn_requires_abort) \
	X(rd_kafka_fatal_error) \
	X(rd_kafka_flush) \
	X(rd_kafka_get_watermark_offsets) \
	X(rd_kafka_header_add) \
	X(rd_kafka_headers_destroy) \
	X(rd_kafka_headers_new) \
	X(rd_kafka_incremental_assign) \
	X(rd_kafka_incremental_unassign) \
	X(rd_kafka_init_transactions) \
	X(rd_kafka_message_destroy) \
	X(rd_kafka_message_errstr) \
	X(rd_kafka_new) \
	X(rd_kafka_opaque) \
	X(rd_kafka_poll) \
	X(rd_kafka_poll_set_consumer) \
	X(rd_kafka_position) \
	X(rd_kafka_producev) \
	X(rd_kafka_purge) \
	X(rd_kafka_seek_partitions) \
	X(rd_kafka_send_offsets_to_transaction) \
	X(rd_kafka_set_log_queue) \
	X(rd_kafka_subscribe) \
	X(rd_kafka_topic_partition_list_add) \
	X(rd_kafka_topic_partition_list_destroy) \
	X(rd_kafka_topic_partition_list_find) \
	X(rd_kafka_topic_partition_list_new) \
	X(rd_kafka_version_str)

struct st_rdkafka {
#define ST_RDKAFKA_SLOT(f) __typeof__(f) *f;
	ST_RDKAFKA_FUNCS(ST_RDKAFKA_SLOT)
#undef ST_RDKAFKA_SLOT
};
extern struct st_rdkafka st_rdkafka;

/* Loads librdkafka.so.1 once per process and fills st_rdkafka: 0, or -1 with err naming the Debian
 * package. Every call of a function below comes after it. */
int st_rdkafka_load(struct st_error *err);

#ifndef ST_LAZY_RDKAFKA_IMPL
#define rd_kafka_abort_transaction (st_rdkafka.rd_kafka_abort_transaction)
#define rd_kafka_assignment (st_rdkafka.rd_kafka_assignment)
#define rd_kafka_assignment_lost (st_rdkafka.rd_kafka_assignment_lost)
#define rd_kafka_begin_transaction (st_rdkafka.rd_kafka_begin_transaction)
#define rd_kafka_commit (st_rdkafka.rd_kafka_commit)
#define rd_kafka_commit_transaction (st_rdkafka.rd_kafka_commit_transaction)
#define rd_kafka_committed (st_rdkafka.rd_kafka_committed)
#define rd_kafka_conf_destroy (st_rdkafka.rd_kafka_conf_destroy)
#define rd_kafka_conf_new (st_rdkafka.rd_kafka_conf_new)
#define rd_kafka_conf_set (st_rdkafka.rd_kafka_conf_set)
#define rd_kafka_conf_set_error_cb (st_rdkafka.rd_kafka_conf_set_error_cb)
#define rd_kafka_conf_set_log_cb (st_rdkafka.rd_kafka_conf_set_log_cb)
#define rd_kafka_conf_set_opaque (st_rdkafka.rd_kafka_conf_set_opaque)
#define rd_kafka_conf_set_rebalance_cb (st_rdkafka.rd_kafka_conf_set_rebalance_cb)
#define rd_kafka_consumer_close (st_rdkafka.rd_kafka_consumer_close)
#define rd_kafka_consumer_group_metadata (st_rdkafka.rd_kafka_consumer_group_metadata)
#define rd_kafka_consumer_group_metadata_destroy (st_rdkafka.rd_kafka_consumer_group_metadata_destroy)
#define rd_kafka_consumer_poll (st_rdkafka.rd_kafka_consumer_poll)
#define rd_kafka_destroy (st_rdkafka.rd_kafka_destroy)
#define rd_kafka_err2str (st_rdkafka.rd_kafka_err2str)
#define rd_kafka_error_destroy (st_rdkafka.rd_kafka_error_destroy)
#define rd_kafka_error_is_retriable (st_rdkafka.rd_kafka_error_is_retriable)
#define rd_kafka_error_string (st_rdkafka.rd_kafka_error_string)
#define rd_kafka_error_txn_requires_abort (st_rdkafka.rd_kafka_error_txn_requires_abort)
#define rd_kafka_fatal_error (st_rdkafka.rd_kafka_fatal_error)
#define rd_kafka_flush (st_rdkafka.rd_kafka_flush)
#define rd_kafka_get_watermark_offsets (st_rdkafka.rd_kafka_get_watermark_offsets)
#define rd_kafka_header_add (st_rdkafka.rd_kafka_header_add)
#define rd_kafka_headers_destroy (st_rdkafka.rd_kafka_headers_destroy)
#define rd_kafka_headers_new (st_rdkafka.rd_kafka_headers_new)
#define rd_kafka_incremental_assign (st_rdkafka.rd_kafka_incremental_assign)
#define rd_kafka_incremental_unassign (st_rdkafka.rd_kafka_incremental_unassign)
#define rd_kafka_init_transactions (st_rdkafka.rd_kafka_init_transactions)
#define rd_kafka_message_destroy (st_rdkafka.rd_kafka_message_destroy)
#define rd_kafka_message_errstr (st_rdkafka.rd_kafka_message_errstr)
#define rd_kafka_new (st_rdkafka.rd_kafka_new)
#define rd_kafka_opaque (st_rdkafka.rd_kafka_opaque)
#define rd_kafka_poll (st_rdkafka.rd_kafka_poll)
#define rd_kafka_poll_set_consumer (st_rdkafka.rd_kafka_poll_set_consumer)
#define rd_kafka_position (st_rdkafka.rd_kafka_position)
#define rd_kafka_producev (st_rdkafka.rd_kafka_producev)
#define rd_kafka_purge (st_rdkafka.rd_kafka_purge)
#define rd_kafka_seek_partitions (st_rdkafka.rd_kafka_seek_partitions)
#define rd_kafka_send_offsets_to_transaction (st_rdkafka.rd_kafka_send_offsets_to_transaction)
#define rd_kafka_set_log_queue (st_rdkafka.rd_kafka_set_log_queue)
#define rd_kafka_subscribe (st_rdkafka.rd_kafka_subscribe)
#define rd_kafka_topic_partition_list_add (st_rdkafka.rd_kafka_topic_partition_list_add)
#define rd_kafka_topic_partition_list_destroy (st_rdkafka.rd_kafka_topic_partition_list_destroy)
#define rd_kafka_topic_partition_list_find (st_rdkafka.rd_kafka_topic_partition_list_find)
#define rd_kafka_topic_partition_list_new (st_rdkafka.rd_kafka_topic_partition_list_new)
#define rd_kafka_version_str (st_rdkafka.rd_kafka_version_str)
#endif

#endif
