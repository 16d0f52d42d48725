/* The JSON API under /api/v1: health, its OpenAPI document, who is asking, search, lineage
 * and dataset cards, each the same library call and JSON builder as the CLI's `--json`. */
#include "serve_int.h"
#include "catalog.h"
#include "pii.h"
#include "pii_map.h"
#include "openapi_embed.h"

#include <stdint.h>
#include <string.h>

static enum MHD_Result get_health(struct server *s, struct MHD_Connection *c, struct request *r,
				  const struct audit_actor *a, const char *name)
{
	(void)a;
	(void)name;
	return serve_reply_json(c, r, MHD_HTTP_OK,
				json_pack("{s:s, s:s}", "status", "ok", "version", s->o->version));
}

/* GET /api/v1/openapi.json: the document of these routes (schemas/openapi.json), embedded
 * at build time. Like health, it needs no one: it says nothing of the workspace. */
static enum MHD_Result get_openapi(struct server *s, struct MHD_Connection *c,
				   struct request *r, const struct audit_actor *a,
				   const char *name)
{
	(void)s;
	(void)a;
	(void)name;
	return serve_reply_bytes(c, r, MHD_HTTP_OK, "application/json",
				 (void *)st_embed_openapi, st_embed_openapi_len,
				 MHD_RESPMEM_PERSISTENT);
}

static enum MHD_Result get_whoami(struct server *s, struct MHD_Connection *c, struct request *r,
				  const struct audit_actor *a, const char *name)
{
	(void)s;
	(void)name;
	return serve_reply_json(c, r, MHD_HTTP_OK,
				json_pack("{s:s, s:s, s:s}", "user", a->name, "role",
					  audit_role_name(a->role), "via",
					  r->on_socket ? "socket" : "token"));
}

/* GET /api/v1/search?q=...: `search --json` in a page, with the CLI's filters (kind, tag,
 * owner, domain, pii=1) and ranking: {total, offset, limit, results}. The answer is kept
 * (cache.c) for the same query, filters and page until the catalog changes; the answer does
 * not depend on who asks (the route's role check and audit record come first, every time). */
static enum MHD_Result get_search(struct server *s, struct MHD_Connection *c, struct request *r,
				  const struct audit_actor *a, const char *name)
{
	struct catalog_search_opts o = {0};
	struct catalog_hits hits = {0};
	struct st_error err = ST_ERROR_INIT;
	struct serve_kept kc;
	struct catalog *cat;
	const char *q = serve_arg(c, "q");
	enum MHD_Result ret;
	long limit, offset;
	json_t *all, *page;
	char lim[24], off[24];
	int pii;

	(void)a;
	(void)name;
	if (!q)
		return serve_reply_error(c, r, MHD_HTTP_BAD_REQUEST,
					 "no query given (parameter 'q')");
	if (serve_arg_page(c, r, 100000, &limit, &offset, &ret) ||
	    serve_arg_flag(c, r, "pii", &pii, &ret))
		return ret;
	o.kind = serve_arg(c, "kind");
	o.tag = serve_arg(c, "tag");
	o.owner = serve_arg(c, "owner");
	o.domain = serve_arg(c, "domain");
	o.pii_only = pii;
	o.limit = (size_t)(limit + offset);
	snprintf(lim, sizeof(lim), "%ld", limit);
	snprintf(off, sizeof(off), "%ld", offset);
	if (!(cat = serve_worker_catalog(s, &err)))
		return serve_reply_failure(c, r, &err);
	{
		const char *parts[] = {"search", q, o.kind, o.tag, o.owner, o.domain,
				       pii ? "1" : "0", lim, off};

		if (serve_cache_answer(s, c, r, cat, parts, sizeof(parts) / sizeof(*parts), &kc,
				       &ret))
			return ret;
	}
	if (catalog_search(cat, q, &o, &hits, &err)) {
		catalog_hits_release(&hits);
		serve_cache_skip(s, &kc);
		return serve_reply_failure(c, r, &err);
	}
	all = catalog_hits_json(&hits);
	page = json_array();
	for (size_t i = (size_t)offset; all && page && i < json_array_size(all); i++)
		json_array_append(page, json_array_get(all, i));
	json_decref(all);
	ret = serve_cache_reply(s, c, r, &kc,
				page ? json_pack("{s:I, s:i, s:i, s:o}", "total",
						 (json_int_t)hits.total, "offset", (int)offset,
						 "limit", (int)limit, "results", page)
				     : NULL);
	catalog_hits_release(&hits);
	return ret;
}

/* GET /api/v1/lineage/NAME[.FIELD]?dir=up|down|both&depth=N: `lineage --json`. */
static enum MHD_Result get_lineage(struct server *s, struct MHD_Connection *c, struct request *r,
				   const struct audit_actor *a, const char *name)
{
	struct catalog_lineage g = {0};
	struct st_error err = ST_ERROR_INIT;
	struct catalog *cat;
	const char *d = serve_arg(c, "dir");
	enum MHD_Result ret;
	int dir = CATALOG_UP;
	long depth;

	(void)a;
	if (d && !strcmp(d, "down"))
		dir = CATALOG_DOWN;
	else if (d && !strcmp(d, "both"))
		dir = CATALOG_BOTH;
	else if (d && strcmp(d, "up"))
		return serve_reply_error(c, r, MHD_HTTP_BAD_REQUEST,
					 "parameter 'dir' must be up, down or both");
	if (serve_arg_count(c, r, "depth", 1, 100, CATALOG_LINEAGE_DEFAULT_DEPTH, &depth, &ret))
		return ret;
	if (!(cat = serve_worker_catalog(s, &err)) ||
	    catalog_lineage_get(cat, name, dir, (int)depth, &g, &err)) {
		catalog_lineage_release(&g);
		return serve_reply_failure(c, r, &err);
	}
	ret = serve_reply_json(c, r, MHD_HTTP_OK, catalog_lineage_json(&g, dir));
	catalog_lineage_release(&g);
	return ret;
}

/* GET /api/v1/datasets/NAME[?version=N]: the card, as `show --json` prints it; kept as the
 * search's answers are (cache.c), by name and version. */
static enum MHD_Result get_dataset(struct server *s, struct MHD_Connection *c, struct request *r,
				   const struct audit_actor *a, const char *name)
{
	struct catalog_card card = {0};
	struct catalog_ol_info ol = {0};
	struct st_error err = ST_ERROR_INIT, gerr = ST_ERROR_INIT;
	struct pii_graph *g = NULL;
	struct serve_kept kc;
	struct catalog *cat;
	enum MHD_Result ret;
	long version;
	char ver[24];

	(void)a;
	if (serve_arg_count(c, r, "version", 1, INT32_MAX, 0, &version, &ret))
		return ret;
	snprintf(ver, sizeof(ver), "%ld", version);
	if (!(cat = serve_worker_catalog(s, &err)))
		return serve_reply_failure(c, r, &err);
	{
		const char *parts[] = {"card", name, ver};

		if (serve_cache_answer(s, c, r, cat, parts, sizeof(parts) / sizeof(*parts), &kc,
				       &ret))
			return ret;
	}
	if (catalog_card_get(cat, name, version, &card, &err) ||
	    catalog_ol_info_get(cat, card.name, &ol, &err)) {
		serve_cache_skip(s, &kc);
		ret = serve_reply_failure(c, r, &err);
		goto out;
	}
	/* Derived classes are extra, as in the CLI: the card is answered without them (and
	 * such a card is not kept). */
	if (pii_graph_dataset(cat, card.name, card.version, &g, &gerr))
		serve_cache_skip(s, &kc);
	ret = serve_cache_reply(s, c, r, &kc, pii_card_json(&card, g, &ol));
out:
	pii_graph_free(g);
	catalog_ol_info_release(&ol);
	catalog_card_release(&card);
	return ret;
}

const struct serve_route serve_api_routes[] = {
	{"/api/v1/health", 0, NULL, get_health, SERVE_GET},
	{"/api/v1/openapi.json", 0, NULL, get_openapi, SERVE_GET},
	{"/api/v1/whoami", 0, "serve.whoami", get_whoami, SERVE_GET},
	{"/api/v1/search", 0, "catalog.search", get_search, SERVE_GET | SERVE_SNAPSHOT},
	{"/api/v1/lineage/", 1, "catalog.lineage", get_lineage, SERVE_GET | SERVE_SNAPSHOT},
	{"/api/v1/datasets/", 1, "catalog.show", get_dataset, SERVE_GET | SERVE_SNAPSHOT},
};

const size_t serve_api_route_count = sizeof(serve_api_routes) / sizeof(*serve_api_routes);
