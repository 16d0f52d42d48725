/* Private to pii/: what ingest and `pii scan` share of the detectors' per-record settings.
 * Not part of the pii library's interface. */
#ifndef PII_DETECT_INT_H
#define PII_DETECT_INT_H

#include "json.h"

/* The region (ISO 3166 alpha-2, upper case) the string at path (dot-separated keys, not
 * through arrays) of the record parsed on t from line names, as a code ("AT", "at") or a
 * locale ("de_AT"), into out. Returns 1, or 0 with out "" when the record has no such
 * string or it names no region. A look-up of one key per level: no allocation. */
int pii_record_region(const struct st_jtape *t, const char *line, const char *path, char out[3]);

#endif
