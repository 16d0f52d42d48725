/* `steward pii scan`: runs the detectors over sample records and reports, per field, how
 * many values look like each kind of PII, flagging fields tagged none that hold some. */
#ifndef PII_SCAN_H
#define PII_SCAN_H

#include <stdint.h>

#include "catalog.h"
#include "error.h"
#include "pii.h"

struct pii_scan_field {
	char *path;
	uint64_t values;                 /* values seen (nulls and containers excluded) */
	uint64_t hits[PII_KIND_COUNT];   /* values containing that kind of PII */
	uint64_t whole[PII_KIND_COUNT];  /* values that are nothing but that kind */
	char *pii;                       /* the declared class; NULL when not in the schema */
	int scan;                        /* declared scan: true */
	int flagged;                     /* tagged none (or unknown) yet holds PII */
	int proposal;                    /* the kind behind the proposal, when flagged */
	int proposal_whole;              /* 1: tag the field; 0: scan it as free text */
};

struct pii_scan_report {
	struct pii_scan_field *v;
	size_t n, cap;
	uint64_t records, unreadable;
	size_t flagged;
};

/* The share of a field's values (0..1) a finding needs before it is flagged. */
#define PII_SCAN_FLAG_SHARE 0.01

/* Reads up to sample JSON lines (0: all) from fd and fills report for dataset's schema,
 * with the dataset's detect: settings as ingest applies them; region is the workspace's
 * (pii.default_country; NULL: none). Lines that are not JSON objects are counted as
 * unreadable and skipped. Returns 0, or -1 with err (ST_E_NOTFOUND for an unknown
 * dataset). Release with pii_scan_release(). */
int pii_scan(struct catalog *c, const char *dataset, const char *region, int fd,
	     uint64_t sample, struct pii_scan_report *report, struct st_error *err);
/* Frees the report. */
void pii_scan_release(struct pii_scan_report *report);

#endif
