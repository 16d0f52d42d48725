/* Request plans: from the catalog, every dataset that may hold a data subject, how the
 * subject is matched there (raw value or pseudonym, by the field's PII class), the erasure
 * action its descriptor declares, and the target steward.yaml binds it to. */
#include "audit.h"
#include "alloc.h"
#include "pii_map.h"
#include "target.h"

#include "file.h"

#include <jansson.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

static void item_release(struct audit_plan_item *it)
{
	st_free(it->dataset);
	st_free(it->kind);
	st_free(it->description);
	st_free(it->domain);
	st_free(it->owner);
	st_free(it->match_field);
	st_free(it->match_category);
	st_free(it->alt_field);
	st_free_strv(it->nullify, it->nnullify);
	st_free(it->erasure_reason);
	st_free(it->subject_field);
	st_free(it->subject_category);
	st_free_strv(it->fields, it->nfields);
	st_free_strv(it->categories, it->nfields);
	st_free(it->uri);
	st_free(it->verify);
	st_free(it->target_uri);
	st_free(it->verify_uri);
	st_free(it->token_file);
	st_free(it->token_env);
	st_free(it->dsn_file);
	st_free(it->dsn_env);
	st_free(it->location);
	memset(it, 0, sizeof(*it));
}

void audit_plan_release(struct audit_plan *plan)
{
	for (size_t i = 0; i < plan->n; i++)
		item_release(&plan->v[i]);
	st_free(plan->v);
	st_free_strv(plan->stray, plan->nstray);
	memset(plan, 0, sizeof(*plan));
}

static const struct catalog_field *find_field(const struct catalog_card *card, const char *path)
{
	for (size_t i = 0; path && i < card->nfields; i++)
		if (!strcmp(card->fields[i].path, path))
			return &card->fields[i];
	return NULL;
}

static int mode_of(const struct catalog_field *f)
{
	return f->pii && !strcmp(f->pii, "pseudonymous") ? AUDIT_MATCH_PSEUDONYM : AUDIT_MATCH_RAW;
}

static char *dup_or_null(const char *s, int *oom)
{
	char *p;

	if (!s)
		return NULL;
	if (!(p = st_strdup(s)))
		*oom = 1;
	return p;
}

/* Reads the descriptor's erasure block (compact JSON in the card) into it. */
static int read_erasure(const struct catalog_card *card, struct audit_plan_item *it,
			const char **match, int *oom)
{
	json_t *e, *cols;
	const char *action;

	*match = NULL;
	it->erase_action = AUDIT_ERASE_DELETE;
	if (!card->erasure)
		return 0;
	if (!(e = json_loads(card->erasure, 0, NULL)))
		return -1;
	it->erasure_declared = 1;
	action = json_string_value(json_object_get(e, "action"));
	if (action && !strcmp(action, "nullify"))
		it->erase_action = AUDIT_ERASE_NULLIFY;
	cols = json_object_get(e, "columns");
	if (json_array_size(cols)) {
		it->nullify = st_calloc(json_array_size(cols), sizeof(char *));
		if (!it->nullify)
			*oom = 1;
		for (size_t i = 0; it->nullify && i < json_array_size(cols); i++) {
			const char *s = json_string_value(json_array_get(cols, i));

			if (s)
				it->nullify[it->nnullify++] = dup_or_null(s, oom);
		}
	}
	it->erasure_reason = dup_or_null(json_string_value(json_object_get(e, "reason")), oom);
	/* match lives as long as the card: find it there rather than in e. */
	if (json_string_value(json_object_get(e, "match")))
		for (size_t i = 0; i < card->nfields; i++)
			if (!strcmp(card->fields[i].path,
				    json_string_value(json_object_get(e, "match"))))
				*match = card->fields[i].path;
	json_decref(e);
	return 0;
}

/* A join key for a dataset with no field of its own to match on: a relationships
 * constraint (a dbt test) whose field holds values of another dataset's field that has a
 * category. Sets *m to the field, and *cat and *mode to what the referenced field holds.
 * Returns 0 (with *m NULL when there is none), or -1 with err. */
static int join_key(struct catalog *c, const struct catalog_card *card,
		    const struct catalog_field **m, char **cat, int *mode, struct st_error *err)
{
	*m = NULL;
	for (size_t i = 0; !*m && i < card->nconstraints; i++) {
		const struct catalog_constraint *x = &card->constraints[i];
		struct catalog_card ref = {0};
		const struct catalog_field *rf, *own;

		if (strcmp(x->kind, "relationships") || !x->field || !x->ref_ds || !x->ref_field ||
		    !(own = find_field(card, x->field)) || !strcmp(x->ref_ds, card->name))
			continue;
		if (catalog_card_get(c, x->ref_ds, 0, &ref, err)) {
			catalog_card_release(&ref);
			if (err->code != ST_E_NOTFOUND)
				return -1;
			st_error_init(err);
			continue;
		}
		rf = find_field(&ref, x->ref_field);
		if (rf && rf->category) {
			if (!(*cat = st_strdup(rf->category))) {
				catalog_card_release(&ref);
				return st_error_oom(err);
			}
			*mode = mode_of(rf);
			*m = own;
		}
		catalog_card_release(&ref);
	}
	return 0;
}

/* Fills it for card when the dataset may hold the subject; sets *keep. */
static int plan_dataset(struct catalog *c, const struct catalog_card *card,
			const struct audit_request *r, struct audit_plan_item *it, int *keep,
			struct st_error *err)
{
	const struct catalog_field *m, *alt = NULL, *subject = find_field(card, card->subject);
	const char *ematch;
	char *join_cat = NULL;
	int oom = 0, ret = -1, join_mode = 0;

	*keep = 0;
	memset(it, 0, sizeof(*it));
	if (read_erasure(card, it, &ematch, &oom)) {
		st_error_set(err, ST_E_SYSTEM, "the erasure of '%s' is damaged in catalog.db",
			     card->name);
		goto out;
	}
	/* The descriptor's match field (erasure match, else subject); else, and as the way to
	 * find the subject when that field is of another category, a top-level field of the
	 * request's category (the subject field first). */
	m = ematch ? find_field(card, ematch) : subject;
	if (subject && subject->category && !strcmp(subject->category, r->category))
		alt = subject;
	for (size_t i = 0; !alt && i < card->nfields; i++)
		if (card->fields[i].category && !strcmp(card->fields[i].category, r->category) &&
		    card->fields[i].depth == 0)
			alt = &card->fields[i];
	if (!m) {
		m = alt;
		alt = NULL;
	}
	if (!m && join_key(c, card, &m, &join_cat, &join_mode, err))
		goto out;
	if (!m) {
		ret = 0;
		goto out;
	}
	if (join_cat) { /* matched through a join key: it holds the referenced field's values */
		it->direct = !strcmp(join_cat, r->category);
		it->match_category = join_cat;
		join_cat = NULL;
	} else {
		if (m->category && !strcmp(m->category, r->category))
			alt = NULL;
		it->direct = m->category && !strcmp(m->category, r->category);
	}
	*keep = 1;
	it->dataset = dup_or_null(card->name, &oom);
	it->kind = dup_or_null(card->kind, &oom);
	it->description = dup_or_null(card->description, &oom);
	it->domain = dup_or_null(card->domain, &oom);
	it->owner = dup_or_null(card->owner, &oom);
	it->location = dup_or_null(card->location, &oom);
	it->match_field = dup_or_null(m->path, &oom);
	if (!it->match_category) {
		it->match_category = dup_or_null(m->category, &oom);
		it->match_mode = mode_of(m);
	} else {
		it->match_mode = join_mode;
	}
	if (alt) {
		it->alt_field = dup_or_null(alt->path, &oom);
		it->alt_mode = mode_of(alt);
	}
	if (subject) {
		it->subject_field = dup_or_null(subject->path, &oom);
		it->subject_category = dup_or_null(subject->category, &oom);
		it->subject_mode = mode_of(subject);
	}
	it->fields = st_calloc(card->nfields + 1, sizeof(char *));
	it->categories = st_calloc(card->nfields + 1, sizeof(char *));
	if (!it->fields || !it->categories)
		oom = 1;
	for (size_t i = 0; !oom && i < card->nfields; i++)
		if (card->fields[i].category) {
			it->fields[it->nfields] = dup_or_null(card->fields[i].path, &oom);
			it->categories[it->nfields++] = dup_or_null(card->fields[i].category, &oom);
		}
	if (oom) {
		st_error_oom(err);
		goto out;
	}
	ret = 0;
out:
	st_free(join_cat);
	if (ret || !*keep)
		item_release(it);
	return ret;
}

struct target_bind {
	struct audit_plan *plan;
	const struct catalog_config *cfg;
	const char *file;
	size_t cap; /* of plan->stray */
};

/* A target's settings: a URI, or a mapping {url, verify, token_file, token_env}, or a
 * PostgreSQL table {kind: postgres, dsn_file | dsn_env, table}. The strings are borrowed
 * from the configuration. */
enum { CONF_URL, CONF_VERIFY, CONF_TOKEN_FILE, CONF_TOKEN_ENV, CONF_KIND, CONF_DSN_FILE,
       CONF_DSN_ENV, CONF_TABLE, CONF_N };
static const char *const conf_keys[CONF_N] = {"url",  "verify",   "token_file", "token_env",
					      "kind", "dsn_file", "dsn_env",    "table"};

struct target_conf {
	const char *dataset, *file;
	const char *v[CONF_N];
	unsigned line[CONF_N], col[CONF_N];
	const char *unknown; /* the first key of no meaning, if any, and where */
	unsigned unknown_line, unknown_col;
};

static int conf_key(const struct catalog_config_entry *e, void *u, struct st_error *err)
{
	struct target_conf *c = u;
	size_t i;

	for (i = 0; i < CONF_N; i++)
		if (!strcmp(e->key, conf_keys[i]))
			break;
	if (i == CONF_N) {
		/* reported once the walk is over: what to propose depends on `kind` */
		if (!c->unknown) {
			c->unknown = e->key;
			c->unknown_line = e->key_line;
			c->unknown_col = e->key_col;
		}
		return 0;
	}
	if (!e->value || e->is_null || !*e->value)
		return st_error_set_at(err, ST_E_INVALID, c->file, e->line, e->col,
				       "'%s' in the target of '%s' must be a non-empty string", e->key,
				       c->dataset);
	c->v[i] = e->value;
	c->line[i] = e->line;
	c->col[i] = e->col;
	return 0;
}

static int is_http(const char *uri)
{
	return !strncasecmp(uri, "http:", 5) || !strncasecmp(uri, "https:", 6);
}

static int is_env_name(const char *s)
{
	if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
		return 0;
	for (s++; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= '0' && *s <= '9') || *s == '_'))
			return 0;
	return 1;
}

/* Checks one URI of a target (url or verify), adding where it was written. */
static int check_uri_at(const struct target_conf *c, int i, struct st_error *err)
{
	char cause[sizeof(err->msg)];

	if (!audit_target_check_uri(c->v[i], err))
		return 0;
	/* The cause names the URI redacted, or a path: keep it, add where. */
	memcpy(cause, err->msg, sizeof(cause));
	return st_error_set_at(err, ST_E_INVALID, c->file, c->line[i], c->col[i],
			       i == CONF_URL ? "target of '%s': %s" : "verify url of '%s': %s",
			       c->dataset, cause);
}

/* A secret's file (token_file or dsn_file, key i), absolute or relative to the directory
 * of steward.yaml, into *out; refused unless only its owner may read it, like the key
 * files. */
static int secret_path(const struct target_conf *c, int i, char **out, struct st_error *err)
{
	const char *f = c->v[i], *slash = strrchr(c->file, '/');
	size_t dir = f[0] == '/' || !slash ? 0 : (size_t)(slash - c->file) + 1;
	char cause[sizeof(err->msg)];
	struct stat sb;
	int fd;

	if (!(*out = st_malloc(dir + strlen(f) + 1)))
		return st_error_oom(err);
	memcpy(*out, c->file, dir);
	memcpy(*out + dir, f, strlen(f) + 1);
	if ((fd = st_file_open_private(*out, i == CONF_DSN_FILE ? "dsn file" : "token file", &sb,
				       err)) < 0) {
		memcpy(cause, err->msg, sizeof(cause));
		return st_error_set_at(err, err->code, c->file, c->line[i], c->col[i],
				       "target of '%s': %s", c->dataset, cause);
	}
	close(fd);
	return 0;
}

/* Checks the mapping of a PostgreSQL table: kind postgres (or redshift, the same), one of
 * dsn_file and dsn_env, and none of the keys of the other targets. */
static int read_pg_conf(const struct target_bind *b, const struct catalog_config_entry *e,
			struct target_conf *c, struct st_error *err)
{
	if (strcmp(c->v[CONF_KIND], "postgres") && strcmp(c->v[CONF_KIND], "redshift"))
		return st_error_set_at(err, ST_E_INVALID, b->file, c->line[CONF_KIND],
				       c->col[CONF_KIND],
				       "unknown kind '%s' in the target of '%s' (use postgres)",
				       c->v[CONF_KIND], e->key);
	for (int i = CONF_URL; i <= CONF_TOKEN_ENV; i++)
		if (c->v[i])
			return st_error_set_at(err, ST_E_INVALID, b->file, c->line[i], c->col[i],
					       "'%s' in the target of '%s' does not go with kind: %s",
					       conf_keys[i], e->key, c->v[CONF_KIND]);
	if (c->v[CONF_DSN_FILE] && c->v[CONF_DSN_ENV])
		return st_error_set_at(err, ST_E_INVALID, b->file, c->line[CONF_DSN_ENV],
				       c->col[CONF_DSN_ENV],
				       "the target of '%s' gives both dsn_file and dsn_env", e->key);
	if (!c->v[CONF_DSN_FILE] && !c->v[CONF_DSN_ENV])
		return st_error_set_at(err, ST_E_INVALID, b->file, e->line, e->col,
				       "the %s target of '%s' needs dsn_file or dsn_env (its "
				       "connection string)",
				       c->v[CONF_KIND], e->key);
	if (c->v[CONF_DSN_ENV] && !is_env_name(c->v[CONF_DSN_ENV]))
		return st_error_set_at(err, ST_E_INVALID, b->file, c->line[CONF_DSN_ENV],
				       c->col[CONF_DSN_ENV],
				       "invalid dsn_env '%s' in the target of '%s' (letters, digits "
				       "and '_', not starting with a digit)",
				       c->v[CONF_DSN_ENV], e->key);
	return 0;
}

/* Reads e (a URI or a mapping) into c and checks it. */
static int read_conf(const struct target_bind *b, const struct catalog_config_entry *e,
		     struct target_conf *c, struct st_error *err)
{
	memset(c, 0, sizeof(*c));
	c->dataset = e->key;
	c->file = b->file;
	if (e->map) {
		if (catalog_config_each_in(b->cfg, e, "", conf_key, c, err))
			return -1;
		if (c->unknown)
			return st_error_set_at(err, ST_E_INVALID, b->file, c->unknown_line,
					       c->unknown_col,
					       c->v[CONF_KIND]
						       ? "unknown key '%s' in the target of '%s' (use "
							 "kind, dsn_file, dsn_env or table)"
						       : "unknown key '%s' in the target of '%s' (use "
							 "url, verify, token_file or token_env)",
					       c->unknown, c->dataset);
		if (c->v[CONF_KIND])
			return read_pg_conf(b, e, c, err);
		for (int i = CONF_DSN_FILE; i < CONF_N; i++)
			if (c->v[i])
				return st_error_set_at(err, ST_E_INVALID, b->file, c->line[i],
						       c->col[i],
						       "'%s' in the target of '%s' needs kind: postgres",
						       conf_keys[i], e->key);
		if (!c->v[CONF_URL])
			return st_error_set_at(err, ST_E_INVALID, b->file, e->line, e->col,
					       "the target of '%s' has no 'url'", e->key);
	} else if (e->value && !e->is_null) {
		c->v[CONF_URL] = e->value;
		c->line[CONF_URL] = e->line;
		c->col[CONF_URL] = e->col;
	} else {
		return st_error_set_at(err, ST_E_INVALID, b->file, e->line, e->col,
				       "the target of '%s' must be a URI", e->key);
	}
	if (check_uri_at(c, CONF_URL, err))
		return -1;
	if (!strncasecmp(c->v[CONF_URL], "postgres:", 9))
		return st_error_set_at(err, ST_E_INVALID, b->file, c->line[CONF_URL],
				       c->col[CONF_URL],
				       "the target of '%s' is a PostgreSQL table: write it as {kind: "
				       "postgres, dsn_file: FILE} or {kind: postgres, dsn_env: NAME}",
				       e->key);
	for (int i = CONF_VERIFY; i <= CONF_TOKEN_ENV; i++)
		if (c->v[i] && !is_http(c->v[CONF_URL]))
			return st_error_set_at(err, ST_E_INVALID, b->file, c->line[i], c->col[i],
					       "'%s' in the target of '%s' needs an http:// or "
					       "https:// url",
					       conf_keys[i], e->key);
	if (c->v[CONF_VERIFY] && !is_http(c->v[CONF_VERIFY]))
		return st_error_set_at(err, ST_E_INVALID, b->file, c->line[CONF_VERIFY],
				       c->col[CONF_VERIFY],
				       "the verify url of '%s' must be http:// or https://", e->key);
	if (c->v[CONF_VERIFY] && check_uri_at(c, CONF_VERIFY, err))
		return -1;
	if (c->v[CONF_TOKEN_FILE] && c->v[CONF_TOKEN_ENV])
		return st_error_set_at(err, ST_E_INVALID, b->file, c->line[CONF_TOKEN_ENV],
				       c->col[CONF_TOKEN_ENV],
				       "the target of '%s' gives both token_file and token_env", e->key);
	if (c->v[CONF_TOKEN_ENV] && !is_env_name(c->v[CONF_TOKEN_ENV]))
		return st_error_set_at(err, ST_E_INVALID, b->file, c->line[CONF_TOKEN_ENV],
				       c->col[CONF_TOKEN_ENV],
				       "invalid token_env '%s' in the target of '%s' (letters, digits "
				       "and '_', not starting with a digit)",
				       c->v[CONF_TOKEN_ENV], e->key);
	return 0;
}

/* Binds a postgres mapping to its plan item: the target URI "postgres:TABLE" from `table`
 * or the dataset's location, and where the connection string comes from. */
static int bind_pg(const struct target_bind *b, const struct catalog_config_entry *e,
		   const struct target_conf *c, struct audit_plan_item *it, struct st_error *err)
{
	char table[300], uri[320];
	struct target_conf u = *c;
	char *dsn_file = NULL;

	if (c->v[CONF_TABLE]) {
		if ((size_t)snprintf(table, sizeof(table), "%s", c->v[CONF_TABLE]) >= sizeof(table))
			return st_error_set_at(err, ST_E_INVALID, b->file, c->line[CONF_TABLE],
					       c->col[CONF_TABLE],
					       "the table of '%s' is over %zu bytes", e->key,
					       sizeof(table) - 1);
	} else if (!it->location || audit_location_table(it->location, table, sizeof(table))) {
		return st_error_set_at(err, ST_E_INVALID, b->file, e->line, e->col,
				       it->location ? "the target of '%s' has no 'table', and its "
						      "location '%s' names none"
						    : "the target of '%s' has no 'table', and its "
						      "descriptor no location%s",
				       e->key, it->location ? it->location : "");
	}
	snprintf(uri, sizeof(uri), "postgres:%s", table);
	u.v[CONF_URL] = uri;
	u.line[CONF_URL] = c->v[CONF_TABLE] ? c->line[CONF_TABLE] : e->line;
	u.col[CONF_URL] = c->v[CONF_TABLE] ? c->col[CONF_TABLE] : e->col;
	if (check_uri_at(&u, CONF_URL, err))
		return -1;
	if (c->v[CONF_DSN_FILE] && secret_path(c, CONF_DSN_FILE, &dsn_file, err)) {
		st_free(dsn_file);
		return -1;
	}
	it->uri = st_strdup(uri);
	it->target_uri = st_strdup(uri);
	it->dsn_file = dsn_file;
	it->dsn_env = c->v[CONF_DSN_ENV] ? st_strdup(c->v[CONF_DSN_ENV]) : NULL;
	if (!it->uri || !it->target_uri || (c->v[CONF_DSN_ENV] && !it->dsn_env))
		return st_error_oom(err);
	return 0;
}

/* One `targets:` entry: bound to its plan item, or listed as stray. The URIs leave the
 * configuration here: what is shown and stored is their redacted form. */
static int bind_target(const struct catalog_config_entry *e, void *u, struct st_error *err)
{
	struct target_bind *b = u;
	struct audit_plan *plan = b->plan;
	struct audit_plan_item *it;
	struct target_conf c;
	char *token_file = NULL;
	size_t j;

	if (read_conf(b, e, &c, err))
		return -1;
	for (j = 0; j < plan->n; j++)
		if (!strcmp(plan->v[j].dataset, e->key))
			break;
	if (j == plan->n) {
		if (st_grow(&plan->stray, &b->cap, plan->nstray + 1, sizeof(char *)) ||
		    !(plan->stray[plan->nstray] = st_strdup(e->key)))
			return st_error_oom(err);
		plan->nstray++;
		return 0;
	}
	it = &plan->v[j];
	st_free(it->uri);
	st_free(it->verify);
	st_free(it->target_uri);
	st_free(it->verify_uri);
	st_free(it->token_file);
	st_free(it->token_env);
	st_free(it->dsn_file);
	st_free(it->dsn_env);
	it->uri = it->verify = it->target_uri = it->verify_uri = NULL;
	it->token_file = it->token_env = it->dsn_file = it->dsn_env = NULL;
	if (c.v[CONF_KIND])
		return bind_pg(b, e, &c, it, err);
	if (c.v[CONF_TOKEN_FILE] && secret_path(&c, CONF_TOKEN_FILE, &token_file, err)) {
		st_free(token_file);
		return -1;
	}
	it->uri = audit_target_redacted(c.v[CONF_URL]);
	it->verify = c.v[CONF_VERIFY] ? audit_target_redacted(c.v[CONF_VERIFY]) : NULL;
	it->target_uri = st_strdup(c.v[CONF_URL]);
	it->verify_uri = c.v[CONF_VERIFY] ? st_strdup(c.v[CONF_VERIFY]) : NULL;
	it->token_file = token_file;
	it->token_env = c.v[CONF_TOKEN_ENV] ? st_strdup(c.v[CONF_TOKEN_ENV]) : NULL;
	if (!it->uri || !it->target_uri || (c.v[CONF_VERIFY] && (!it->verify || !it->verify_uri)) ||
	    (c.v[CONF_TOKEN_ENV] && !it->token_env))
		return st_error_oom(err);
	return 0;
}

/* Binds targets from cfg to plan items; lists the stray ones. */
static int bind_targets(const struct catalog_config *cfg, const char *config_path,
			struct audit_plan *plan, struct st_error *err)
{
	struct target_bind b = {plan, cfg, config_path, 0};

	return catalog_config_each(cfg, "targets",
				   "'targets' must map dataset names to target URIs or mappings",
				   bind_target, &b, err)
		       ? -1
		       : 0;
}

/* Gives the card's fields that carry no category but inherit personal data through column
 * lineage (a descriptor's from:, an OpenLineage DIRECT edge) the category up their chain,
 * so that erasure finds the subject's data where it was copied to. A field that inherits
 * only pseudonymous data (across a hash or a masking edge) is left alone: its values are
 * not the subject's. g's fields from..to are the card's dataset. Returns 0, or -1 on out of
 * memory. */
static int inherit_categories(const struct pii_graph *g, size_t from, size_t to,
			      struct catalog_card *card)
{
	size_t chain[64];

	for (size_t i = from; i < to; i++) {
		struct pii_field f, src;
		size_t n;

		pii_graph_field(g, i, &f);
		if (!f.derived || f.cls <= PII_MAP_PSEUDONYMOUS || f.category)
			continue;
		n = pii_graph_chain(g, i, chain, sizeof(chain) / sizeof(*chain));
		for (size_t k = 0; k < n; k++) {
			pii_graph_field(g, chain[k], &src);
			if (!src.category)
				continue;
			for (size_t j = 0; j < card->nfields; j++)
				if (!card->fields[j].category && !strcmp(card->fields[j].path, f.path) &&
				    !(card->fields[j].category = st_strdup(src.category)))
					return -1;
			break;
		}
	}
	return 0;
}

int audit_plan_build(struct catalog *c, const struct catalog_config *cfg,
		     const char *config_path, const struct audit_request *r,
		     struct audit_plan *plan, struct st_error *err)
{
	struct pii_graph *g = NULL;
	struct catalog_card card = {0};
	const char *last = NULL;
	int ret = -1;

	memset(plan, 0, sizeof(*plan));
	if (pii_graph_catalog(c, &g, err))
		goto out;
	/* Two passes: datasets matched by the request's own category first. */
	for (int pass = 0; pass < 2; pass++) {
		last = NULL;
		for (size_t i = 0; i < pii_graph_count(g); i++) {
			struct pii_field f;
			struct audit_plan_item it;
			int keep;

			size_t end = i + 1;

			pii_graph_field(g, i, &f);
			if (last && !strcmp(last, f.dataset))
				continue;
			last = f.dataset;
			for (struct pii_field e; end < pii_graph_count(g); end++) {
				pii_graph_field(g, end, &e);
				if (strcmp(e.dataset, f.dataset))
					break;
			}
			if (catalog_card_get(c, f.dataset, 0, &card, err))
				goto out;
			if (inherit_categories(g, i, end, &card)) {
				st_error_oom(err);
				goto out;
			}
			if (plan_dataset(c, &card, r, &it, &keep, err))
				goto out;
			catalog_card_release(&card);
			if (!keep)
				continue;
			if ((it.direct || it.alt_field) != !pass) {
				item_release(&it);
				continue;
			}
			if (st_grow(&plan->v, &plan->cap, plan->n + 1, sizeof(*plan->v))) {
				item_release(&it);
				st_error_oom(err);
				goto out;
			}
			plan->v[plan->n++] = it;
		}
	}
	if (bind_targets(cfg, config_path, plan, err))
		goto out;
	ret = 0;
out:
	catalog_card_release(&card);
	pii_graph_free(g);
	if (ret)
		audit_plan_release(plan);
	return ret;
}
