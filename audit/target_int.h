/* Private to audit/target*.c: the HTTP target (target_http.c), called by the dispatcher
 * in target.c. Not part of the audit library's interface. */
#ifndef AUDIT_TARGET_INT_H
#define AUDIT_TARGET_INT_H

#include "target.h"

/* Checks an http:// or https:// URI: it must parse and name a host. Returns 0, or -1 with
 * err (ST_E_INVALID). */
int audit_http_check_uri(const char *uri, struct st_error *err);
/* POSTs the job to its endpoint with retries; fills ev's http_status, attempts and, for
 * access requests, rows_json. Returns 0 on a 2xx answer, or -1 with err. */
int audit_http_run(const struct audit_target_job *job, struct audit_evidence *ev,
		   struct st_error *err);
/* Writes uri without user information, query or fragment into out (n bytes), for error
 * messages: a URI may carry credentials or tokens. */
void audit_http_redact(const char *uri, char *out, size_t n);

#endif
