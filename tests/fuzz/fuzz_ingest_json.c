/* Fuzz target for the JSON-lines path of ingest: the input is the standard input of
 * `steward ingest 'events.*'` against the example event schemas and events.person (see
 * schemas/events.yaml), under two plans; the counts must always add up. */
#include "fuzz.h"
#include "fuzz_embedded.h"
#include "fuzz_ingest.h"
#include "ingest.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_ingest_setup(st_embed_fuzz_events, st_embed_fuzz_events_len, "events.*", "event_type",
			  PII_FMT_JSONL);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_ingest_one(data, size);
	return 0;
}
