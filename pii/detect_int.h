/* Private to pii/: what ingest and `pii scan` share of the detectors' per-record settings.
 * Not part of the pii library's interface. */
#ifndef PII_DETECT_INT_H
#define PII_DETECT_INT_H

#include "json.h"

#include <stddef.h>

/* The region (ISO 3166 alpha-2, upper case) the string at path (dot-separated keys, not
 * through arrays) of the record parsed on t from line names, as a code ("AT", "at") or a
 * locale ("de_AT"), into out. Returns 1, or 0 with out "" when the record has no such
 * string or it names no region. A look-up of one key per level: no allocation. */
int pii_record_region(const struct st_jtape *t, const char *line, const char *path, char out[3]);

/* 0 when text (len bytes, decoded) cannot hold anything pii_detect_with() finds: every
 * finding starts from an '@' (an address), needs a ':' (an IPv6 address) or a digit, ASCII
 * or full-width (U+FF10..U+FF19, bytes EF BC 9x; a number, an IBAN's check digits). 1 when
 * it may: the detectors then look. */
int pii_detect_may_find(const char *text, size_t len);

#endif
