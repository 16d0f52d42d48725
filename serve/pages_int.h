/* What the pages' files share: a page being built (its writer, request and caller), the
 * layout every page has, and the handlers the route table (page_routes.c) names. Internal
 * to serve/. */
#ifndef SERVE_PAGES_INT_H
#define SERVE_PAGES_INT_H

#include "serve_int.h"
#include "html.h"

/* A page being built for one request. */
struct page {
	struct html h;
	struct MHD_Connection *c;
	struct request *r;
	const struct audit_actor *a;
};

/* Starts page p for the caller a: the document head (the stylesheet and script, both from
 * /static/), the navigation, who is asking, and the title (escaped) as the first heading. */
void page_begin(struct page *p, struct MHD_Connection *c, struct request *r,
		const struct audit_actor *a, const char *title);
/* Ends p and queues it with status 200; p is released. */
enum MHD_Result page_end(struct page *p);
/* The hidden field with the caller's CSRF token that every POST form carries. */
void page_csrf_field(struct page *p);
/* A PII class as a badge ("none" as a dash). */
void page_class_badge(struct page *p, const char *cls);
/* A name as a link to its card (/datasets/NAME); external (kind NULL) ones are marked. */
void page_dataset_link(struct page *p, const char *name, const char *kind);

/* The handlers (page.c, page_card.c, page_lineage.c, page_requests.c, page_pii.c,
 * page_audit.c, page_static.c). */
#define PAGE_HANDLER(fn)                                                                   \
	enum MHD_Result fn(struct server *s, struct MHD_Connection *c, struct request *r,     \
			   const struct audit_actor *a, const char *name)
PAGE_HANDLER(page_search);
PAGE_HANDLER(page_login_form);
PAGE_HANDLER(page_login);
PAGE_HANDLER(page_logout);
PAGE_HANDLER(page_static);
PAGE_HANDLER(page_card);
PAGE_HANDLER(page_lineage);
PAGE_HANDLER(page_requests);
PAGE_HANDLER(page_request);
PAGE_HANDLER(page_request_new);
PAGE_HANDLER(page_pii_map);
PAGE_HANDLER(page_untagged);
PAGE_HANDLER(page_audit);
PAGE_HANDLER(page_audit_log);
PAGE_HANDLER(page_report);

#endif
