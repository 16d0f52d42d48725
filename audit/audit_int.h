/* Internals shared by the audit library's files; not part of its public API. */
#ifndef AUDIT_INT_H
#define AUDIT_INT_H

#include "error.h"

struct json_t;

/* Writes doc as indented JSON and a newline to path (mode 0600) through a temporary file
 * and rename; with wipe, the text is wiped from memory afterwards (it holds personal
 * data). NULL doc means out of memory. Returns 0, or -1 with err. */
int audit_write_json(const char *path, struct json_t *doc, int wipe, struct st_error *err);

#endif
