/* A Kafka cluster for the tests: librdkafka's mock cluster (3 brokers) with the topics named
 * on the command line (6 partitions each), its bootstrap address on a readiness line, and
 * error injection on command. Test code, never linked into steward.
 *
 * usage: mock_cluster TOPIC...
 * stdout: "ready HOST:PORT,..." once listening, then "ok COMMAND" after each command.
 * stdin, one command a line:
 *   error APIKEY CODE...   the next requests of that API get these error codes, in turn
 *   down ID | up ID        broker ID (1-3) refuses connections, or takes them again
 *   topic NAME N           create topic NAME with N partitions
 * It stops when stdin closes or on SIGTERM. */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static int command(rd_kafka_mock_cluster_t *mc, char *line)
{
	char *words[64], *save = NULL, *w;
	int n = 0;

	for (w = strtok_r(line, " \t\n", &save); w && n < 64; w = strtok_r(NULL, " \t\n", &save))
		words[n++] = w;
	if (n >= 3 && !strcmp(words[0], "error")) {
		rd_kafka_resp_err_t codes[62];

		for (int i = 2; i < n; i++)
			codes[i - 2] = (rd_kafka_resp_err_t)atoi(words[i]);
		rd_kafka_mock_push_request_errors_array(mc, (int16_t)atoi(words[1]),
							(size_t)(n - 2), codes);
		return 0;
	}
	if (n == 2 && !strcmp(words[0], "down"))
		return rd_kafka_mock_broker_set_down(mc, atoi(words[1])) ? -1 : 0;
	if (n == 2 && !strcmp(words[0], "up"))
		return rd_kafka_mock_broker_set_up(mc, atoi(words[1])) ? -1 : 0;
	if (n == 3 && !strcmp(words[0], "topic"))
		return rd_kafka_mock_topic_create(mc, words[1], atoi(words[2]), 3) ? -1 : 0;
	return -1;
}

int main(int argc, char **argv)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_mock_cluster_t *mc;
	struct sigaction sa;
	char errstr[512], line[1024];
	rd_kafka_t *rk;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL); /* no SA_RESTART: the read returns */
	rd_kafka_conf_set(conf, "log_level", "2", NULL, 0);
	if (!(rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr)))) {
		fprintf(stderr, "mock_cluster: %s\n", errstr);
		return 1;
	}
	if (!(mc = rd_kafka_mock_cluster_new(rk, 3))) {
		fprintf(stderr, "mock_cluster: cannot start the mock cluster\n");
		return 1;
	}
	for (int i = 1; i < argc; i++)
		if (rd_kafka_mock_topic_create(mc, argv[i], 6, 3)) {
			fprintf(stderr, "mock_cluster: cannot create topic '%s'\n", argv[i]);
			return 1;
		}
	printf("ready %s\n", rd_kafka_mock_cluster_bootstraps(mc));
	fflush(stdout);
	while (!stop && fgets(line, sizeof(line), stdin)) {
		char shown[1024];

		snprintf(shown, sizeof(shown), "%s", line);
		shown[strcspn(shown, "\n")] = '\0';
		printf("%s %s\n", command(mc, line) ? "failed" : "ok", shown);
		fflush(stdout);
	}
	rd_kafka_mock_cluster_destroy(mc);
	rd_kafka_destroy(rk);
	return 0;
}
