/* librdkafka, loaded on first use (common/lazy.h). Include this instead of <librdkafka/rdkafka.h>: the
 * calls below then go through the table st_rdkafka, which st_rdkafka_load() fills. */
#ifndef ST_LAZY_RDKAFKA_H
#define ST_LAZY_RDKAFKA_H

#include "error.h"
#include "lazy.h"

#include <librdkafka/rdkafka.h>

#define ST_RDKAFKA_FUNCS(X, t) \
	X(t, rd_kafka_abort_transaction) \
	X(t, rd_kafka_assignment) \
	X(t, rd_kafka_assignment_lost) \
	X(t, rd_kafka_begin_transaction) \
	X(t, rd_kafka_commit) \
	X(t, rd_kafka_commit_transaction) \
	X(t, rd_kafka_committed) \
	X(t, rd_kafka_conf_destroy) \
	X(t, rd_kafka_conf_new) \
	X(t, rd_kafka_conf_set) \
	X(t, rd_kafka_conf_set_error_cb) \
	X(t, rd_kafka_conf_set_log_cb) \
	X(t, rd_kafka_conf_set_opaque) \
	X(t, rd_kafka_conf_set_rebalance_cb) \
	X(t, rd_kafka_consumer_close) \
	X(t, rd_kafka_consumer_group_metadata) \
	X(t, rd_kafka_consumer_group_metadata_destroy) \
	X(t, rd_kafka_consumer_poll) \
	X(t, rd_kafka_destroy) \
	X(t, rd_kafka_err2str) \
	X(t, rd_kafka_error_destroy) \
	X(t, rd_kafka_error_is_retriable) \
	X(t, rd_kafka_error_string) \
	X(t, rd_kafka_error_txn_requires_abort) \
	X(t, rd_kafka_fatal_error) \
	X(t, rd_kafka_flush) \
	X(t, rd_kafka_get_watermark_offsets) \
	X(t, rd_kafka_header_add) \
	X(t, rd_kafka_headers_destroy) \
	X(t, rd_kafka_headers_new) \
	X(t, rd_kafka_incremental_assign) \
	X(t, rd_kafka_incremental_unassign) \
	X(t, rd_kafka_init_transactions) \
	X(t, rd_kafka_message_destroy) \
	X(t, rd_kafka_message_errstr) \
	X(t, rd_kafka_new) \
	X(t, rd_kafka_opaque) \
	X(t, rd_kafka_poll) \
	X(t, rd_kafka_poll_set_consumer) \
	X(t, rd_kafka_position) \
	X(t, rd_kafka_producev) \
	X(t, rd_kafka_purge) \
	X(t, rd_kafka_seek_partitions) \
	X(t, rd_kafka_send_offsets_to_transaction) \
	X(t, rd_kafka_set_log_queue) \
	X(t, rd_kafka_subscribe) \
	X(t, rd_kafka_topic_partition_list_add) \
	X(t, rd_kafka_topic_partition_list_destroy) \
	X(t, rd_kafka_topic_partition_list_find) \
	X(t, rd_kafka_topic_partition_list_new) \
	X(t, rd_kafka_version_str)

struct st_rdkafka {
	ST_RDKAFKA_FUNCS(ST_LAZY_SLOT, st_rdkafka)
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
