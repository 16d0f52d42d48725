/* Fuzz target for steward.yaml: the input is the workspace's configuration (mode 0600),
 * read with catalog_config_load, then its roles resolved for this process's actor and a
 * fixed one, its settings looked up, and its targets bound in an erasure plan. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit.h"
#include "catalog.h"
#include "fuzz.h"
#include "fuzz_embedded.h"
#include "pii.h"

/* Settings steward reads, plus paths that stop at a mapping, a sequence, a missing key
 * and a key longer than catalog_config_str's buffer. */
static const char *const settings[] = {
	"version", "pii.default_country", "ingest.unknown_fields", "ingest.max_record_bytes",
	"audit.checkpoint_every", "roles", "roles.users", "targets", "targets.prod.users",
	"pii.default_country.x", "",
	("audit.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
};

static struct catalog_workspace ws;
static struct audit_actor self, fixed = {"fuzz", 0, 0};
static struct catalog *cat;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *schema = fuzz_path("schema.yaml");
	const char *paths[1] = {schema};
	struct catalog_load_stats stats = {0};
	struct st_diags diags;
	struct st_error err = ST_ERROR_INIT;

	(void)argc;
	(void)argv;
	ws.home = strdup(fuzz_path("ws"));
	ws.state_dir = strdup(fuzz_path("ws/.steward"));
	ws.config = strdup(fuzz_path("ws/steward.yaml"));
	if (!ws.home || !ws.state_dir || !ws.config || mkdir(ws.home, 0700) ||
	    mkdir(ws.state_dir, 0700))
		fuzz_die("cannot make the workspace", NULL);
	audit_actor_self(&self);
	fixed.uid = getuid();
	/* A catalog for the plan: the example events, so targets can name real datasets. */
	st_diags_init(&diags, 0);
	if (fuzz_write_file(schema, st_embed_fuzz_events, st_embed_fuzz_events_len, 0600) ||
	    catalog_open_path(&cat, ":memory:", &err) ||
	    catalog_load(cat, paths, 1, CATALOG_LOAD_SERIAL, &stats, &diags, &err))
		fuzz_die("cannot load the embedded schema", &err);
	catalog_load_stats_release(&stats);
	st_diags_release(&diags);
	return 0;
}

/* Builds an erasure plan under cfg's targets; any answer is fine. */
static void plan(const struct catalog_config *cfg)
{
	struct audit_request r;
	struct audit_plan p;
	struct st_error err = ST_ERROR_INIT;

	memset(&r, 0, sizeof(r));
	r.kind = AUDIT_REQ_ERASE;
	snprintf(r.category, sizeof(r.category), "user.contact.email");
	snprintf(r.pseudonym, sizeof(r.pseudonym), "k1:AAAAAAAAAAAAAAAAAAAAAAAA");
	if (!audit_plan_build(cat, cfg, ws.config, &r, &p, &err))
		audit_plan_release(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct catalog_config cfg;
	struct st_error err = ST_ERROR_INIT;

	if (fuzz_write_file(ws.config, data, size, 0600))
		fuzz_die("cannot write steward.yaml", NULL);
	if (catalog_config_load(&cfg, &ws, &err))
		goto out;
	audit_role_resolve(&cfg, ws.config, &self, &err);
	audit_role_resolve(&cfg, ws.config, &fixed, &err);
	for (size_t i = 0; i < sizeof(settings) / sizeof(*settings); i++) {
		const char *v = catalog_config_str(&cfg, settings[i]);

		/* As cmd_ingest and cmd_request use the country. */
		if (v && i == 1)
			pii_country_calling_code(v);
	}
	plan(&cfg);
out:
	catalog_config_release(&cfg);
	return 0;
}
