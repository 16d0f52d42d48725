/* The pre-ingest hook as a Kafka consumer group member: records read from a source topic,
 * passed through the ingest core (pii_ingest_record), written to an output topic or a
 * dead-letter topic, with the consumer's offsets, in one Kafka transaction. */
#ifndef KAFKA_KAFKA_H
#define KAFKA_KAFKA_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "ingest.h"

struct kafka_pipeline_conf {
	const char *brokers;   /* bootstrap servers, host:port,... */
	const char *source;    /* the topic read */
	const char *output;    /* the topic records that pass go to */
	const char *rejects;   /* the dead-letter topic: rejected records, raw, with headers */
	const char *group;     /* the consumer group */
	const char *client_id; /* NULL: "steward" */
	/* Client properties from the pipeline's security settings (security.protocol, sasl.*,
	 * ssl.*) as name/value pairs, set on both clients. Values may be secrets: they are
	 * never copied into an error or an event. */
	const char *const *prop_names, *const *prop_values;
	size_t nprops;
	int session_timeout_ms; /* 0: 10000 */
	int batch_max;		/* records per transaction at most; 0: 1000 */
	int batch_ms;		/* how long a transaction stays open at most; 0: 100 */
	int status_ms;		/* between status calls; 0: 5000 */
	/* Also commit the offsets outside the transaction (a plain OffsetCommit) once it is
	 * committed. Kafka needs no such thing; librdkafka's mock cluster, which the tests run
	 * against, keeps no transactional offsets, so without it a member taking partitions
	 * over would start them from the beginning. */
	int mirror_offsets;
};

struct kafka_stats {
	/* Records of committed transactions (in = out + rejected + suppressed). */
	uint64_t in, out, rejected, suppressed, bytes_in;
	uint64_t by_reason[PII_R_COUNT];
	uint64_t txns, aborted, aborted_records, broker_errors, rebalances, reloads;
	uint64_t producers_replaced; /* after an abort that did not end (pipeline.c) */
	uint64_t open;	/* records in the open transaction */
	int started;	/* the clients were made: the counts mean something */
	int partitions; /* assigned now */
	int64_t lag;	/* records behind the end of the assigned partitions; -1 unknown */
	double secs;	/* since the start */
	double rate;	/* records per second since the previous status */
};

/* What the caller sees of a run. Every hook is called on the thread of kafka_pipeline_run. */
struct kafka_hooks {
	void *ctx;
	/* Every status_ms, and once at the end. */
	void (*status)(void *ctx, const struct kafka_stats *st);
	/* Something to tell the operator: an assignment, a revocation, an aborted transaction,
	 * a broker error. warning is 1 for errors, 0 for news. msg quotes no record. */
	void (*event)(void *ctx, int warning, const char *msg);
	/* Before each transaction: 1 when the plan must be rebuilt (the key was rotated, the
	 * suppression list changed), else 0. May be NULL. */
	int (*changed)(void *ctx);
	/* Then, with no worker left on *ing: frees *ing and puts a new plan there. Returns 0,
	 * or -1 with err (the run stops). */
	int (*reload)(void *ctx, struct pii_ingest **ing, struct st_error *err);
	/* Set from a signal handler: the open transaction is committed, the member leaves the
	 * group, and the run returns 0. */
	volatile sig_atomic_t *stop;
};

/* Runs the pipeline c with the plan *ing until *h->stop is set: joins the group (cooperative-
 * sticky assignment, read_committed), and for each batch of records begins a transaction,
 * writes each record that passes to c->output and each rejected one, as it came, to
 * c->rejects with its code, reason and source topic, partition and offset in headers, adds
 * the consumer's next offsets to the transaction and commits it. A revocation aborts the open
 * transaction and the member's other partitions go back to their committed offsets; so does
 * a failed commit. Records of suppressed subjects are written nowhere. Fills st (the
 * committed counts). Returns 0 after a clean stop (the last transaction committed, the
 * group left), or -1 with err when the run cannot go on (a fatal producer error, the
 * transactional id fenced, ten transactions in a row aborted). */
int kafka_pipeline_run(const struct kafka_pipeline_conf *c, struct pii_ingest **ing,
		       const struct kafka_hooks *h, struct kafka_stats *st, struct st_error *err);

/* The librdkafka version in use, for `steward version`, which loads it (on first use, as
 * everything that uses it); "(cannot be loaded)" when that fails. */
const char *kafka_version(void);

#endif
