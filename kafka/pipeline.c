/* steward ingest on Kafka: a consumer in a group (cooperative-sticky, read_committed) and a
 * transactional producer; each batch of records, its rewrites, its rejects and the consumer's
 * offsets are one transaction (exactly once between the source and the output topics). */
#include "kafka.h"
#include "alloc.h"
#include "buf.h"
#include "lazy_rdkafka.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define TXN_TIMEOUT_MS 30000
/* A try of a commit, retried while the error is retriable: a transaction that fails while
 * committing holds the call until its timeout (its messages wait as below), and the next
 * try returns the error that makes it abort. */
#define COMMIT_TIMEOUT_MS 10000
#define ABORT_TIMEOUT_MS 5000 /* a try of an abort */
#define ABORT_TRIES 2
#define RETRIES 10
/* Aborts in a row, without a commit between them, after which the run stops: a failure that
 * aborting does not cure (a missing topic, a denied ACL) is not retried for ever. */
#define MAX_ABORTS 10

struct run {
	const struct kafka_pipeline_conf *c;
	const struct kafka_hooks *h;
	rd_kafka_t *cons, *prod;
	struct pii_ingest_worker *w;
	char tid[256];	   /* the transactional id */
	uint64_t seq;	   /* the transaction's number */
	int open;	   /* a transaction is open */
	int rewind;	   /* positions must go back to the committed offsets */
	int fatal;	   /* a fatal client error: stop */
	int aborts_in_row; /* aborted transactions since the last commit */
	char last_abort[600];
	char fatal_msg[512];
	int64_t *next; /* per source partition: the offset after the last record, or -1 */
	size_t nnext;
	struct kafka_stats *st;
	struct kafka_stats tx; /* counts of the open transaction */
	char txtag[300];
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void event(struct run *r, int warning, const char *fmt, ...) ST_PRINTF(3, 4);
static void event(struct run *r, int warning, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	if (!r->h->event)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	r->h->event(r->h->ctx, warning, msg);
}

/* librdkafka's log lines, served on our thread through the main queue. */
static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	struct run *r = rd_kafka_opaque(rk);

	if (r && level <= 4)
		event(r, 1, "kafka %s: %s", fac, buf);
}

static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	struct run *r = opaque;
	char why[512];

	r->st->broker_errors++;
	if (err == RD_KAFKA_RESP_ERR__FATAL) {
		rd_kafka_fatal_error(rk, why, sizeof(why));
		snprintf(r->fatal_msg, sizeof(r->fatal_msg), "%s", why);
		r->fatal = 1;
		return;
	}
	event(r, 1, "kafka: %s", reason);
}

static int set(rd_kafka_conf_t *conf, const char *name, const char *value, int secret,
	       struct st_error *err)
{
	char why[512];

	if (rd_kafka_conf_set(conf, name, value, why, sizeof(why)) != RD_KAFKA_CONF_OK)
		return secret ? st_error_set(err, ST_E_INVALID, "Kafka property '%s' is refused",
					     name)
			      : st_error_set(err, ST_E_INVALID, "Kafka property '%s': %s", name,
					     why);
	return 0;
}

/* The settings both clients share: brokers, client id, security, logs on our queue. */
static rd_kafka_conf_t *base_conf(struct run *r, struct st_error *err)
{
	const struct kafka_pipeline_conf *c = r->c;
	rd_kafka_conf_t *conf = rd_kafka_conf_new();

	if (set(conf, "bootstrap.servers", c->brokers, 0, err) ||
	    set(conf, "client.id", c->client_id ? c->client_id : "steward", 0, err) ||
	    set(conf, "log.queue", "true", 0, err) || set(conf, "log_level", "4", 0, err))
		goto fail;
	for (size_t i = 0; i < c->nprops; i++)
		if (set(conf, c->prop_names[i], c->prop_values[i],
			strstr(c->prop_names[i], "password") != NULL, err))
			goto fail;
	rd_kafka_conf_set_opaque(conf, r);
	rd_kafka_conf_set_log_cb(conf, log_cb);
	rd_kafka_conf_set_error_cb(conf, error_cb);
	return conf;
fail:
	rd_kafka_conf_destroy(conf);
	return NULL;
}

/* ---- offsets and rewinds ---- */

static int note_offset(struct run *r, int32_t part, int64_t next)
{
	if (part < 0)
		return 0;
	if ((size_t)part >= r->nnext) {
		size_t n = (size_t)part + 16;
		int64_t *v = st_realloc(r->next, n * sizeof(*v));

		if (!v)
			return -1;
		for (size_t i = r->nnext; i < n; i++)
			v[i] = -1;
		r->next = v;
		r->nnext = n;
	}
	r->next[part] = next;
	return 0;
}

/* Puts every assigned partition back at its committed offset (the start when none is), after
 * an aborted transaction: what it consumed is read again, by this member or the next. */
static int rewind_positions(struct run *r, struct st_error *err)
{
	rd_kafka_topic_partition_list_t *parts = NULL;
	rd_kafka_resp_err_t e;
	rd_kafka_error_t *ke = NULL;
	int ret = -1;

	r->rewind = 0;
	if ((e = rd_kafka_assignment(r->cons, &parts)))
		goto fail;
	if (parts->cnt) {
		for (int i = 0; i < RETRIES; i++)
			if (!(e = rd_kafka_committed(r->cons, parts, 10000)))
				break;
		if (e)
			goto fail;
		for (int i = 0; i < parts->cnt; i++)
			if (parts->elems[i].offset < 0)
				parts->elems[i].offset = RD_KAFKA_OFFSET_BEGINNING;
		if ((ke = rd_kafka_seek_partitions(r->cons, parts, 10000))) {
			st_error_set(err, ST_E_SYSTEM, "cannot rewind the consumer: %s",
				     rd_kafka_error_string(ke));
			goto out;
		}
	}
	ret = 0;
	goto out;
fail:
	st_error_set(err, ST_E_SYSTEM, "cannot read the committed offsets of '%s': %s",
		     r->c->source, rd_kafka_err2str(e));
out:
	if (ke)
		rd_kafka_error_destroy(ke);
	if (parts)
		rd_kafka_topic_partition_list_destroy(parts);
	return ret;
}

/* ---- transactions ---- */

static void txn_reset(struct run *r)
{
	r->open = 0;
	memset(&r->tx, 0, sizeof(r->tx));
	for (size_t i = 0; i < r->nnext; i++)
		r->next[i] = -1;
}

static int make_producer(struct run *r, struct st_error *err);

/* Puts a new producer with the same transactional id in place of one whose abort does not
 * end: its initialisation fences the old one, and the coordinator aborts the old one's open
 * transaction. Returns 0, or -1 with r->fatal_msg. */
static int replace_producer(struct run *r)
{
	struct st_error err = ST_ERROR_INIT;

	rd_kafka_purge(r->prod, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT |
					RD_KAFKA_PURGE_F_NON_BLOCKING);
	rd_kafka_destroy(r->prod);
	r->prod = NULL;
	if (make_producer(r, &err)) {
		snprintf(r->fatal_msg, sizeof(r->fatal_msg), "%.400s", err.msg);
		return -1;
	}
	r->st->producers_replaced++;
	return 0;
}

/* Aborts the open transaction: nothing it wrote becomes visible to read_committed readers
 * and its records are read again from the committed offsets. Returns 0, or -1 (fatal). */
static int txn_abort(struct run *r, const char *why)
{
	rd_kafka_error_t *ke = NULL;
	int replaced = 0;

	if (!r->open)
		return 0;
	for (int i = 0; i < ABORT_TRIES; i++) {
		if (ke)
			rd_kafka_error_destroy(ke);
		if (!(ke = rd_kafka_abort_transaction(r->prod, ABORT_TIMEOUT_MS)) ||
		    !rd_kafka_error_is_retriable(ke))
			break;
	}
	/* Aborting waits for the transaction's messages still out. After an abortable produce
	 * error, librdkafka 2.0.2 can hold some of them for as long as the transaction is not
	 * aborted, so that every try times out ("5 message(s) remaining": a member stalled
	 * minutes so against the mock cluster, and a purge does not free them). They belong
	 * to the aborted transaction: a new producer drops them and aborts it. */
	if (ke && rd_kafka_error_is_retriable(ke)) {
		event(r, 1, "transaction %s does not abort (%s): replacing the producer",
		      r->txtag, rd_kafka_error_string(ke));
		rd_kafka_error_destroy(ke);
		ke = NULL;
		if (replace_producer(r)) {
			r->fatal = 1;
			txn_reset(r);
			return -1;
		}
		replaced = 1;
	}
	r->st->aborted++;
	r->st->aborted_records += r->tx.in;
	r->aborts_in_row++;
	snprintf(r->last_abort, sizeof(r->last_abort), "%s", why);
	event(r, 1, "aborted transaction %s: %s (%llu records to read again%s)", r->txtag, why,
	      (unsigned long long)r->tx.in, replaced ? "; by a new producer" : "");
	txn_reset(r);
	r->rewind = 1;
	if (ke) {
		snprintf(r->fatal_msg, sizeof(r->fatal_msg), "cannot abort transaction '%s': %s",
			 r->txtag, rd_kafka_error_string(ke));
		r->fatal = 1;
		rd_kafka_error_destroy(ke);
		return -1;
	}
	return 0;
}

static void add_stats(struct kafka_stats *to, const struct kafka_stats *from)
{
	to->in += from->in;
	to->out += from->out;
	to->rejected += from->rejected;
	to->suppressed += from->suppressed;
	to->bytes_in += from->bytes_in;
	for (int i = 0; i < PII_R_COUNT; i++)
		to->by_reason[i] += from->by_reason[i];
}

/* Sends the consumer's next offsets into the transaction and commits it; a retriable error
 * is retried, an abortable one aborts (the records are read again). Returns 0, or -1 on a
 * fatal error (err set). */
static int txn_commit(struct run *r, struct st_error *err)
{
	rd_kafka_topic_partition_list_t *offs = rd_kafka_topic_partition_list_new(16);
	rd_kafka_consumer_group_metadata_t *md = rd_kafka_consumer_group_metadata(r->cons);
	rd_kafka_error_t *ke = NULL;
	int ret = -1, sent = 0;

	for (size_t i = 0; i < r->nnext; i++)
		if (r->next[i] >= 0)
			rd_kafka_topic_partition_list_add(offs, r->c->source, (int32_t)i)->offset =
				r->next[i];
	for (int i = 0; i < RETRIES; i++) {
		if (ke)
			rd_kafka_error_destroy(ke);
		ke = NULL;
		if (!sent && offs->cnt &&
		    (ke = rd_kafka_send_offsets_to_transaction(r->prod, offs, md,
							       TXN_TIMEOUT_MS))) {
			if (rd_kafka_error_is_retriable(ke))
				continue;
			break;
		}
		sent = 1;
		if (!(ke = rd_kafka_commit_transaction(r->prod, COMMIT_TIMEOUT_MS)) ||
		    !rd_kafka_error_is_retriable(ke))
			break;
	}
	if (ke && rd_kafka_error_txn_requires_abort(ke)) {
		char why[600];

		snprintf(why, sizeof(why), "commit failed: %s", rd_kafka_error_string(ke));
		if (txn_abort(r, why))
			goto fatal;
	} else if (ke) {
		st_error_set(err, ST_E_SYSTEM, "cannot commit transaction '%s': %s", r->txtag,
			     rd_kafka_error_string(ke));
		goto out;
	} else {
		add_stats(r->st, &r->tx);
		r->st->txns++;
		r->aborts_in_row = 0;
		txn_reset(r);
		if (r->c->mirror_offsets && offs->cnt) {
			rd_kafka_resp_err_t e = rd_kafka_commit(r->cons, offs, 0);

			if (e)
				event(r, 1, "cannot mirror the offsets of transaction %s: %s",
				      r->txtag, rd_kafka_err2str(e));
		}
	}
	ret = 0;
	goto out;
fatal:
	st_error_set(err, ST_E_SYSTEM, "%s", r->fatal_msg);
out:
	if (ke)
		rd_kafka_error_destroy(ke);
	rd_kafka_consumer_group_metadata_destroy(md);
	rd_kafka_topic_partition_list_destroy(offs);
	return ret;
}

static int txn_begin(struct run *r, struct pii_ingest **ing, struct st_error *err)
{
	rd_kafka_error_t *ke;

	if (r->h->changed && r->h->changed(r->h->ctx)) {
		pii_ingest_worker_free(r->w);
		r->w = NULL;
		if (r->h->reload(r->h->ctx, ing, err) || pii_ingest_worker_new(&r->w, *ing, err))
			return -1;
		r->st->reloads++;
		event(r, 0, "reloaded the plan (key or suppression list changed)");
	}
	if ((ke = rd_kafka_begin_transaction(r->prod))) {
		st_error_set(err, ST_E_SYSTEM, "cannot begin a transaction: %s",
			     rd_kafka_error_string(ke));
		rd_kafka_error_destroy(ke);
		return -1;
	}
	r->open = 1;
	r->seq++;
	snprintf(r->txtag, sizeof(r->txtag), "%s#%llu", r->tid, (unsigned long long)r->seq);
	return 0;
}

/* ---- one record ---- */

/* Produces one record into the open transaction. Returns 0, or 1 when the transaction must be
 * aborted (the reason in r->last_abort). */
static int produce(struct run *r, const char *topic, const rd_kafka_message_t *m, const char *val,
		   size_t len, const struct pii_record_result *res)
{
	rd_kafka_headers_t *hs = rd_kafka_headers_new(8);
	char part[16], off[24];
	rd_kafka_resp_err_t e;

	snprintf(part, sizeof(part), "%d", (int)m->partition);
	snprintf(off, sizeof(off), "%lld", (long long)m->offset);
	if (res) {
		rd_kafka_header_add(hs, "steward-code", -1, pii_reject_code(res->reason), -1);
		rd_kafka_header_add(hs, "steward-reason", -1, res->why, -1);
	}
	rd_kafka_header_add(hs, "steward-source-topic", -1, r->c->source, -1);
	rd_kafka_header_add(hs, "steward-source-partition", -1, part, -1);
	rd_kafka_header_add(hs, "steward-source-offset", -1, off, -1);
	rd_kafka_header_add(hs, "steward-txn", -1, r->txtag, -1);
	for (;;) {
		e = rd_kafka_producev(r->prod, RD_KAFKA_V_TOPIC(topic),
				      RD_KAFKA_V_VALUE((void *)val, len),
				      RD_KAFKA_V_KEY(m->key, m->key_len), RD_KAFKA_V_HEADERS(hs),
				      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
		if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL)
			break;
		rd_kafka_poll(r->prod, 50);
	}
	if (e) {
		/* The topic is unknown, denied, or in error: the transaction cannot commit. */
		rd_kafka_headers_destroy(hs);
		snprintf(r->last_abort, sizeof(r->last_abort), "cannot produce to '%s': %s", topic,
			 rd_kafka_err2str(e));
		return 1;
	}
	return 0;
}

/* One record through the core into the open transaction. Returns 0, 1 when the transaction
 * must be aborted (r->last_abort says why), or -1 with err. */
static int process(struct run *r, const rd_kafka_message_t *m, struct st_error *err)
{
	struct pii_record_result res;
	const char *v = m->payload ? m->payload : "";

	if (pii_ingest_record(r->w, v, m->len, &res, err))
		return -1;
	r->tx.in++;
	r->tx.bytes_in += m->len;
	switch (res.outcome) {
	case PII_REC_PASSED:
		r->tx.out++;
		if (produce(r, r->c->output, m, res.out, res.out_len, NULL))
			return 1;
		break;
	case PII_REC_REJECTED:
		r->tx.rejected++;
		r->tx.by_reason[res.reason]++;
		if (produce(r, r->c->rejects, m, v, m->len, &res))
			return 1;
		break;
	default:
		r->tx.suppressed++;
	}
	return note_offset(r, m->partition, m->offset + 1) ? st_error_oom(err) : 0;
}

/* ---- the group ---- */

static void list_parts(const rd_kafka_topic_partition_list_t *parts, char *out, size_t n)
{
	size_t at = 0;

	out[0] = '\0';
	for (int i = 0; i < parts->cnt && at + 16 < n; i++)
		at += (size_t)snprintf(out + at, n - at, "%s%d", i ? "," : "",
				       (int)parts->elems[i].partition);
}

static int assigned_count(rd_kafka_t *rk)
{
	rd_kafka_topic_partition_list_t *parts = NULL;
	int n = 0;

	if (!rd_kafka_assignment(rk, &parts)) {
		n = parts->cnt;
		rd_kafka_topic_partition_list_destroy(parts);
	}
	return n;
}

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t e,
			 rd_kafka_topic_partition_list_t *parts, void *opaque)
{
	struct run *r = opaque;
	char list[256];
	rd_kafka_error_t *ke = NULL;

	list_parts(parts, list, sizeof(list));
	r->st->rebalances++;
	if (e == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
		ke = rd_kafka_incremental_assign(rk, parts);
		r->st->partitions = assigned_count(rk);
		if (parts->cnt)
			event(r, 0, "assigned partitions %s of '%s' (%d in all)", list,
			      r->c->source, r->st->partitions);
	} else {
		int lost = rd_kafka_assignment_lost(rk);

		/* What the open transaction read may go to another member: abort it, so that
		 * neither its records nor its offsets count, and rewind what stays here. */
		if (parts->cnt)
			txn_abort(r, lost ? "partitions lost" : "partitions revoked");
		ke = rd_kafka_incremental_unassign(rk, parts);
		r->st->partitions = assigned_count(rk);
		if (parts->cnt)
			event(r, 0, "%s partitions %s of '%s' (%d left)", lost ? "lost" : "revoked",
			      list, r->c->source, r->st->partitions);
	}
	if (ke) {
		snprintf(r->fatal_msg, sizeof(r->fatal_msg), "cannot change the assignment: %s",
			 rd_kafka_error_string(ke));
		r->fatal = 1;
		rd_kafka_error_destroy(ke);
	}
}

/* Lag from the positions and the cached high watermarks; a partition nothing was read from
 * since it was assigned counts from its committed offset (its low watermark when it has
 * none). -1 while a watermark is unknown. */
static int64_t lag(struct run *r)
{
	rd_kafka_topic_partition_list_t *parts = NULL, *unread = NULL;
	int64_t sum = 0;

	if (rd_kafka_assignment(r->cons, &parts))
		return -1;
	if (!parts->cnt || rd_kafka_position(r->cons, parts))
		sum = -1;
	for (int i = 0; sum >= 0 && i < parts->cnt; i++)
		if (parts->elems[i].offset < 0) {
			if (!unread)
				unread = rd_kafka_topic_partition_list_new(parts->cnt);
			rd_kafka_topic_partition_list_add(unread, r->c->source,
							  parts->elems[i].partition);
		}
	if (unread && rd_kafka_committed(r->cons, unread, 2000))
		sum = -1;
	for (int i = 0; sum >= 0 && i < parts->cnt; i++) {
		rd_kafka_topic_partition_t *u = NULL;
		int64_t lo, hi, at = parts->elems[i].offset;

		if (rd_kafka_get_watermark_offsets(r->cons, r->c->source, parts->elems[i].partition,
						   &lo, &hi) ||
		    hi < 0) {
			sum = -1;
			break;
		}
		if (at < 0 && unread)
			u = rd_kafka_topic_partition_list_find(unread, r->c->source,
							       parts->elems[i].partition);
		if (at < 0)
			at = u && u->offset >= 0 ? u->offset : lo;
		if (at < 0)
			sum = -1;
		else if (hi > at)
			sum += hi - at;
	}
	if (unread)
		rd_kafka_topic_partition_list_destroy(unread);
	rd_kafka_topic_partition_list_destroy(parts);
	return sum;
}

static void status(struct run *r, double t0, double *last, uint64_t *last_in)
{
	double t = now_s();

	r->st->secs = t - t0;
	r->st->rate = t > *last ? (double)(r->st->in - *last_in) / (t - *last) : 0;
	r->st->lag = lag(r);
	r->st->partitions = assigned_count(r->cons);
	r->st->open = r->tx.in;
	*last = t;
	*last_in = r->st->in;
	if (r->h->status)
		r->h->status(r->h->ctx, r->st);
}

/* The transactional producer, under r->tid, with its transactions initialised (which fences
 * an earlier producer of the same id and aborts its open transaction). */
static int make_producer(struct run *r, struct st_error *err)
{
	rd_kafka_conf_t *pc;
	rd_kafka_error_t *ke;
	char why[512];

	if (!(pc = base_conf(r, err)))
		return -1;
	if (set(pc, "transactional.id", r->tid, 0, err) || set(pc, "linger.ms", "5", 0, err)) {
		rd_kafka_conf_destroy(pc);
		return -1;
	}
	/* rd_kafka_new() owns pc when it succeeds */
	if (!(r->prod = rd_kafka_new(RD_KAFKA_PRODUCER, pc, why, sizeof(why)))) {
		rd_kafka_conf_destroy(pc);
		return st_error_set(err, ST_E_INVALID, "cannot create the Kafka producer: %s", why);
	}
	rd_kafka_set_log_queue(r->prod, NULL);
	event(r, 0, "transactional id %s", r->tid);
	if ((ke = rd_kafka_init_transactions(r->prod, TXN_TIMEOUT_MS))) {
		st_error_set(err, ST_E_SYSTEM, "cannot start transactions on '%s': %s", r->c->brokers,
			     rd_kafka_error_string(ke));
		rd_kafka_error_destroy(ke);
		return -1;
	}
	return 0;
}

static int make_clients(struct run *r, struct st_error *err)
{
	const struct kafka_pipeline_conf *c = r->c;
	rd_kafka_conf_t *cc = NULL;
	rd_kafka_topic_partition_list_t *sub;
	char why[512], num[32], host[128] = "host";
	int session = c->session_timeout_ms > 0 ? c->session_timeout_ms : 10000;
	rd_kafka_resp_err_t e;

	gethostname(host, sizeof(host) - 1);
	/* A new id per process: fencing of a member that lost its partitions comes from the
	 * group generation sent with the offsets (KIP-447), not from a fixed id. */
	snprintf(r->tid, sizeof(r->tid), "steward-%s-%s-%ld-%08x", c->group, host, (long)getpid(),
		 randombytes_random());
	if (make_producer(r, err))
		goto fail;
	if (!(cc = base_conf(r, err)) || set(cc, "group.id", c->group, 0, err) ||
	    set(cc, "enable.auto.commit", "false", 0, err) ||
	    set(cc, "isolation.level", "read_committed", 0, err) ||
	    set(cc, "partition.assignment.strategy", "cooperative-sticky", 0, err) ||
	    set(cc, "auto.offset.reset", "earliest", 0, err))
		goto fail;
	snprintf(num, sizeof(num), "%d", session);
	if (set(cc, "session.timeout.ms", num, 0, err))
		goto fail;
	snprintf(num, sizeof(num), "%d", session / 5 > 0 ? session / 5 : 1);
	if (set(cc, "heartbeat.interval.ms", num, 0, err))
		goto fail;
	rd_kafka_conf_set_rebalance_cb(cc, rebalance_cb);
	if (!(r->cons = rd_kafka_new(RD_KAFKA_CONSUMER, cc, why, sizeof(why)))) {
		st_error_set(err, ST_E_INVALID, "cannot create the Kafka consumer: %s", why);
		goto fail;
	}
	cc = NULL;
	rd_kafka_set_log_queue(r->cons, NULL);
	rd_kafka_poll_set_consumer(r->cons);
	sub = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(sub, c->source, RD_KAFKA_PARTITION_UA);
	e = rd_kafka_subscribe(r->cons, sub);
	rd_kafka_topic_partition_list_destroy(sub);
	if (e) {
		st_error_set(err, ST_E_SYSTEM, "cannot subscribe to '%s': %s", c->source,
			     rd_kafka_err2str(e));
		goto fail;
	}
	return 0;
fail:
	if (cc)
		rd_kafka_conf_destroy(cc);
	return -1;
}

int kafka_pipeline_run(const struct kafka_pipeline_conf *c, struct pii_ingest **ing,
		       const struct kafka_hooks *h, struct kafka_stats *st, struct st_error *err)
{
	struct run r;
	double t0 = now_s(), last = t0, deadline = 0, next_status;
	double batch_s = (c->batch_ms > 0 ? c->batch_ms : 100) / 1000.0;
	double status_s = (c->status_ms > 0 ? c->status_ms : 5000) / 1000.0;
	size_t batch_max = c->batch_max > 0 ? (size_t)c->batch_max : 1000;
	uint64_t last_in = 0;
	int ret = -1;

	memset(&r, 0, sizeof(r));
	memset(st, 0, sizeof(*st));
	st->lag = -1;
	if (st_rdkafka_load(err))
		return -1;
	r.c = c;
	r.h = h;
	r.st = st;
	next_status = t0 + status_s;
	if (pii_ingest_worker_new(&r.w, *ing, err) || make_clients(&r, err))
		goto out;
	st->started = 1;
	while (!r.fatal) {
		rd_kafka_message_t *m;
		double t = now_s();
		int wait, k;

		if (h->stop && *h->stop && !r.open)
			break;
		rd_kafka_poll(r.prod, 0);
		if (t >= next_status) {
			status(&r, t0, &last, &last_in);
			next_status = t + status_s;
		}
		if (r.open && (t >= deadline || r.tx.in >= batch_max || (h->stop && *h->stop))) {
			if (txn_commit(&r, err))
				goto out;
			continue;
		}
		wait = r.open ? (int)((deadline - t) * 1000) + 1 : 100;
		m = rd_kafka_consumer_poll(r.cons, wait > 100 ? 100 : wait);
		if (r.fatal) { /* from the rebalance callback: the producer may be gone */
			if (m)
				rd_kafka_message_destroy(m);
			break;
		}
		if (r.aborts_in_row >= MAX_ABORTS) {
			if (m)
				rd_kafka_message_destroy(m);
			st_error_set(err, ST_E_SYSTEM,
				     "%d transactions in a row were aborted; the last: %s",
				     MAX_ABORTS, r.last_abort);
			goto out;
		}
		if (r.rewind) {
			/* a message fetched before the abort is read again after the rewind */
			if (m)
				rd_kafka_message_destroy(m);
			if (rewind_positions(&r, err))
				goto out;
			continue;
		}
		if (!m)
			continue;
		if (m->err) {
			if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
				st->broker_errors++;
				event(&r, 1, "kafka: %s", rd_kafka_message_errstr(m));
			}
			rd_kafka_message_destroy(m);
			continue;
		}
		if (!r.open) {
			if (txn_begin(&r, ing, err)) {
				rd_kafka_message_destroy(m);
				goto out;
			}
			deadline = now_s() + batch_s;
		}
		k = process(&r, m, err);
		rd_kafka_message_destroy(m);
		if (k < 0)
			goto out;
		if (k > 0) {
			char why[sizeof(r.last_abort)];

			snprintf(why, sizeof(why), "%s", r.last_abort);
			if (txn_abort(&r, why))
				break;
		}
	}
	if (r.fatal) {
		st_error_set(err, ST_E_SYSTEM, "%s", r.fatal_msg);
		goto out;
	}
	ret = 0;
out:
	if (r.open && r.prod)
		txn_abort(&r, ret ? "the run stops on an error" : "the run stops");
	if (r.cons) {
		rd_kafka_consumer_close(r.cons); /* leaves the group */
		status(&r, t0, &last, &last_in);
		rd_kafka_destroy(r.cons);
	}
	if (r.prod) {
		rd_kafka_flush(r.prod, 10000);
		rd_kafka_destroy(r.prod);
	}
	pii_ingest_worker_free(r.w);
	st_free(r.next);
	return ret;
}

const char *kafka_version(void)
{
	struct st_error err = ST_ERROR_INIT;

	return st_rdkafka_load(&err) ? "(cannot be loaded)" : rd_kafka_version_str();
}
