/* Shared by the ingest fuzz targets (fuzz_ingest_json, fuzz_csv): a catalog loaded once
 * from an embedded descriptor, a keyring in the scratch directory, and two plans that
 * differ in unknown-field policy and record limit; every input runs through both. */
#ifndef STEWARD_FUZZ_INGEST_H
#define STEWARD_FUZZ_INGEST_H

#include <stddef.h>
#include <stdint.h>

/* Loads descriptor (len bytes of YAML) and prepares the plans for dataset (a name, or a
 * pattern with label) in format (enum pii_format). Aborts on any failure. */
void fuzz_ingest_setup(const unsigned char *descriptor, size_t len, const char *dataset,
		       const char *label, int format);
/* Runs data through every plan, records to nowhere; aborts when the counts do not add up
 * (in = out + rejected + suppressed, and the reasons sum to rejected). */
void fuzz_ingest_one(const uint8_t *data, size_t size);

#endif
