/* Start-up registration of the fault injectors in test builds: a constructor reads the
 * environment before main() runs, and an exit handler prints the write and sync counts
 * that tests/cli/t-fault-injection.sh reads. */
#include "faults.h"
#include "alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* STEWARD_FAIL_ALLOC=N makes the Nth allocation (1-based) and all later ones fail. */
static long fail_at;
static long alloc_count;

static int fail_alloc(void)
{
	return ++alloc_count >= fail_at;
}

static void print_counts(void)
{
	long writes, syncs;

	if (st_test_faultvfs_counts(&writes, &syncs))
		fprintf(stderr, "steward-fault: writes=%ld syncs=%ld\n", writes, syncs);
}

__attribute__((constructor)) static void faults_register(void)
{
	const char *v = getenv("STEWARD_FAIL_ALLOC");
	long writes, syncs;

	fail_at = v ? strtol(v, NULL, 10) : 0;
	if (fail_at > 0)
		st_alloc_fail_hook = fail_alloc;
	st_test_faultvfs_init();
	if (st_test_faultvfs_counts(&writes, &syncs))
		atexit(print_counts);
}
