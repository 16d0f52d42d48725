/* The pages' route table: each page is a route with the audit action (and so the role) of
 * the CLI verb it mirrors, through the same authentication and audit path as the API. */
#include "pages_int.h"

#define PAGE_GET (SERVE_GET | SERVE_PAGE)
#define PAGE_POST (SERVE_POST | SERVE_PAGE)
#define PAGE_READ (PAGE_GET | SERVE_SNAPSHOT)

const struct serve_route serve_page_routes[] = {
	/* Not recorded and open to anyone: they show nothing of the workspace. */
	{"/static/", 1, NULL, page_static, SERVE_GET},
	{"/login", 0, NULL, page_login_form, PAGE_GET},
	{"/login", 0, NULL, page_login, PAGE_POST}, /* records the login itself */
	{"/logout", 0, "serve.whoami", page_logout, PAGE_POST},
	{"/", 0, "catalog.search", page_search, PAGE_READ},
	{"/search", 0, "catalog.search", page_search, PAGE_READ},
	{"/datasets/", 1, "catalog.show", page_card, PAGE_READ},
	{"/lineage/", 1, "catalog.lineage", page_lineage, PAGE_READ},
	{"/pii/map", 0, "pii.map", page_pii_map, PAGE_GET},
	{"/pii/untagged", 0, "pii.check", page_untagged, PAGE_GET},
	{"/requests", 0, "request.list", page_requests, PAGE_GET},
	{"/requests", 0, "request.new", page_request_new, PAGE_POST},
	{"/requests/", 1, "request.show", page_request, PAGE_GET},
	{"/audit", 0, "audit.verify", page_audit, PAGE_GET},
	{"/audit/log", 0, "audit.log", page_audit_log, PAGE_GET},
	{"/audit/reports/", 1, "report", page_report, PAGE_GET},
};

const size_t serve_page_route_count = sizeof(serve_page_routes) / sizeof(*serve_page_routes);
