/* Fuzz target for `lineage import` (catalog/openlineage.c): the input is a file of
 * OpenLineage events (NDJSON, a JSON array, or one event), imported twice into one
 * in-memory catalog. Aborts unless the counts reconcile, every reject has a reason (and an
 * event that jansson can write out, when it parsed), and the second import applies nothing
 * and rejects what the first rejected (an event's identity does not change). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog.h"
#include "fuzz.h"

static struct catalog *cat;
static struct catalog_ol_import *im;
static int fd = -1;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct st_error err = ST_ERROR_INIT;

	(void)argc;
	(void)argv;
	if (catalog_open_path(&cat, ":memory:", &err))
		fuzz_die("cannot open an in-memory catalog", &err);
	if (catalog_ol_import_new(cat, &im, &err))
		fuzz_die("cannot prepare an import", &err);
	if ((fd = fuzz_memfd("events")) < 0)
		fuzz_die("cannot make a memory file", NULL);
	return 0;
}

/* Checks one reject; counts it. */
static int on_reject(const struct catalog_ol_reject *r, void *u, struct st_error *err)
{
	(void)err;
	if (!r->reason || !r->reason[0])
		fuzz_die("a reject without a reason", NULL);
	if (r->event) {
		char *text = json_dumps(r->event, JSON_COMPACT | JSON_ENCODE_ANY);

		if (!text)
			fuzz_die("a rejected event jansson cannot write", NULL);
		free(text);
	}
	++*(size_t *)u;
	return 0;
}

/* Imports the memory file; returns the counts, or -1 when the import failed (an input too
 * large, say: then the catalog is as it was). */
static int import(struct catalog_ol_stats *st, size_t *rejects)
{
	struct st_error err = ST_ERROR_INIT;

	memset(st, 0, sizeof(*st));
	*rejects = 0;
	if (lseek(fd, 0, SEEK_SET) < 0)
		fuzz_die("cannot rewind the memory file", NULL);
	if (catalog_ol_import_fd(im, "fuzz", fd, on_reject, rejects, st, &err))
		return -1;
	if (st->read != st->applied + st->rejected + st->ignored || *rejects != st->rejected)
		fuzz_die("the counts do not reconcile", NULL);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct catalog_ol_stats a, b;
	size_t ra, rb;

	if (fuzz_memfd_set(fd, data, size))
		fuzz_die("cannot fill the memory file", NULL);
	if (import(&a, &ra))
		return 0;
	if (import(&b, &rb))
		fuzz_die("the second import failed where the first did not", NULL);
	if (b.applied || b.rejected != a.rejected || b.read != a.read)
		fuzz_die("importing the same events again changed something", NULL);
	return 0;
}
