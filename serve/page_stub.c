#include "pages_int.h"
#define STUB(fn) PAGE_HANDLER(fn) { (void)s; (void)a; (void)name; return serve_reply_error(c, r, 404, "not yet"); }
STUB(page_requests)
STUB(page_request)
STUB(page_request_new)
STUB(page_pii_map)
STUB(page_untagged)
STUB(page_audit)
STUB(page_audit_log)
STUB(page_report)
