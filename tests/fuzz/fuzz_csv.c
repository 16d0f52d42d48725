/* Fuzz target for the CSV reader of ingest: the input is the standard input of `steward
 * ingest crm.signups_export --format csv` against the flat schema in schemas/signups.yaml,
 * under two plans; the counts must always add up. */
#include "fuzz.h"
#include "fuzz_embedded.h"
#include "fuzz_ingest.h"
#include "ingest.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_ingest_setup(st_embed_fuzz_signups, st_embed_fuzz_signups_len, "crm.signups_export",
			  NULL, PII_FMT_CSV);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_ingest_one(data, size);
	return 0;
}
