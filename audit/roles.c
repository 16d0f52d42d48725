/* Roles and least privilege: who the actor is (from the password database, never the
 * environment), which role steward.yaml gives them, and the weakest role each action needs. */
#include "audit.h"

#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const role_names[] = {"none", "viewer", "engineer", "steward", "dpo", "admin"};

/* The action vocabulary and the weakest role for each. A trailing '*' matches a prefix. */
static const struct {
	const char *action;
	int role;
	int pii; /* reads or changes personal data: its record ends in a signed checkpoint */
	int out; /* its only effect is what it prints: one record, before the output is shown */
} actions[] = {
	{"catalog.search", AUDIT_ROLE_VIEWER, 0, 1},
	{"catalog.show", AUDIT_ROLE_VIEWER, 0, 1},
	{"catalog.lineage", AUDIT_ROLE_VIEWER, 0, 1},
	{"catalog.load", AUDIT_ROLE_ENGINEER, 0, 0},
	{"catalog.check", AUDIT_ROLE_ENGINEER, 0, 0},
	{"catalog.export", AUDIT_ROLE_VIEWER, 0, 0},
	{"catalog.import", AUDIT_ROLE_ENGINEER, 0, 0},
	{"pii.ingest", AUDIT_ROLE_ENGINEER, 1, 0},
	{"pii.map", AUDIT_ROLE_STEWARD, 0, 1},
	{"pii.check", AUDIT_ROLE_STEWARD, 0, 1},
	{"pii.scan", AUDIT_ROLE_STEWARD, 1, 0},
	{"key.init", AUDIT_ROLE_STEWARD, 0, 0},
	{"key.rotate", AUDIT_ROLE_STEWARD, 0, 0},
	{"key.retire", AUDIT_ROLE_STEWARD, 0, 0},
	{"key.list", AUDIT_ROLE_STEWARD, 0, 1},
	{"pii.hash", AUDIT_ROLE_DPO, 1, 0},
	{"request.new", AUDIT_ROLE_DPO, 1, 0},
	{"request.extend", AUDIT_ROLE_DPO, 0, 0},
	{"request.plan", AUDIT_ROLE_DPO, 0, 0},
	{"request.run", AUDIT_ROLE_DPO, 1, 0},
	{"request.list", AUDIT_ROLE_DPO, 0, 1},
	{"request.show", AUDIT_ROLE_DPO, 0, 1},
	{"audit.verify", AUDIT_ROLE_DPO, 0, 0},
	{"audit.log", AUDIT_ROLE_DPO, 0, 0},
	{"audit.checkpoint", AUDIT_ROLE_DPO, 0, 0},
	{"audit.recover", AUDIT_ROLE_ADMIN, 0, 0},
	{"audit.prove", AUDIT_ROLE_DPO, 0, 0},
	{"audit.consistency", AUDIT_ROLE_DPO, 0, 0},
	{"report", AUDIT_ROLE_DPO, 0, 0},
	{"workspace.init", AUDIT_ROLE_ADMIN, 0, 0},
	{"serve", AUDIT_ROLE_ADMIN, 0, 0},
	{"token.new", AUDIT_ROLE_ADMIN, 0, 0},
	{"token.list", AUDIT_ROLE_ADMIN, 0, 0},
	{"token.revoke", AUDIT_ROLE_ADMIN, 0, 0},
	{"serve.whoami", AUDIT_ROLE_VIEWER, 0, 1},
	{"serve.login", AUDIT_ROLE_VIEWER, 0, 0}, /* a browser's login (recorded by the server) */
	/* a command a CLI sends the server; the command's own record checks its own role */
	{"serve.cli", AUDIT_ROLE_VIEWER, 0, 0},
};

const char *audit_role_name(int role)
{
	if (role < 0 || role > AUDIT_ROLE_ADMIN)
		return "?";
	return role_names[role];
}

int audit_role_parse(const char *name)
{
	for (int i = AUDIT_ROLE_VIEWER; i <= AUDIT_ROLE_ADMIN; i++)
		if (!strcmp(name, role_names[i]))
			return i;
	return -1;
}

int audit_action_role(const char *action)
{
	for (size_t i = 0; i < sizeof(actions) / sizeof(*actions); i++)
		if (!strcmp(action, actions[i].action))
			return actions[i].role;
	return -1;
}

int audit_action_touches_pii(const char *action)
{
	for (size_t i = 0; i < sizeof(actions) / sizeof(*actions); i++)
		if (!strcmp(action, actions[i].action))
			return actions[i].pii;
	return 0;
}

int audit_action_output_only(const char *action)
{
	for (size_t i = 0; i < sizeof(actions) / sizeof(*actions); i++)
		if (!strcmp(action, actions[i].action))
			return actions[i].out;
	return 0;
}

void audit_actor_self(struct audit_actor *actor)
{
	struct passwd *pw;

	memset(actor, 0, sizeof(*actor));
	actor->uid = getuid();
	pw = getpwuid(actor->uid);
	if (pw && pw->pw_name && strlen(pw->pw_name) < sizeof(actor->name))
		snprintf(actor->name, sizeof(actor->name), "%s", pw->pw_name);
	else
		snprintf(actor->name, sizeof(actor->name), "uid:%lu", (unsigned long)actor->uid);
}

/* Whether the actor belongs to group name (primary or supplementary). */
static int in_group(const struct audit_actor *actor, const char *name)
{
	struct passwd *pw = getpwuid(actor->uid);
	struct group *gr = getgrnam(name);
	gid_t groups[256];
	int n = (int)(sizeof(groups) / sizeof(*groups));

	if (!gr || !pw)
		return 0;
	if (pw->pw_gid == gr->gr_gid)
		return 1;
	if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) < 0)
		n = (int)(sizeof(groups) / sizeof(*groups)); /* too many: the first ones */
	for (int i = 0; i < n; i++)
		if (groups[i] == gr->gr_gid)
			return 1;
	return 0;
}

struct role_scan {
	const struct audit_actor *actor;
	const char *file;
	int groups; /* 1 while reading roles.groups */
	int role;   /* the highest role that applies so far */
};

/* One entry of `roles.users` or `roles.groups`: raises the role when it applies. */
static int role_entry(const struct catalog_config_entry *e, void *u, struct st_error *err)
{
	struct role_scan *s = u;
	int r;

	if (!e->value)
		return st_error_set_at(err, ST_E_INVALID, s->file, e->line, e->col,
				       "the role of '%s' must be one role name", e->key);
	if ((r = audit_role_parse(e->value)) < 0)
		return st_error_set_at(err, ST_E_INVALID, s->file, e->line, e->col,
				       "unknown role '%s' (the roles are viewer, engineer, "
				       "steward, dpo and admin)",
				       e->value);
	if (s->groups ? in_group(s->actor, e->key) : !strcmp(e->key, s->actor->name))
		if (r > s->role)
			s->role = r;
	return 0;
}

/* A key directly under `roles`: only users and groups. */
static int roles_key(const struct catalog_config_entry *e, void *u, struct st_error *err)
{
	const struct role_scan *s = u;

	if (strcmp(e->key, "users") && strcmp(e->key, "groups"))
		return st_error_set_at(err, ST_E_INVALID, s->file, e->key_line, e->key_col,
				       "unknown setting 'roles.%s' (use 'users' or 'groups')",
				       e->key);
	return 0;
}

int audit_role_resolve(const struct catalog_config *cfg, const char *config_path,
		       struct audit_actor *actor, struct st_error *err)
{
	struct role_scan s = {actor, config_path, 0, AUDIT_ROLE_NONE};

	actor->role = AUDIT_ROLE_NONE;
	if (catalog_config_each(cfg, "roles", "'roles' must be a mapping with 'users' and 'groups'",
				roles_key, &s, err) ||
	    catalog_config_each(cfg, "roles.users", "'roles.users' must map names to roles",
				role_entry, &s, err))
		return -1;
	s.groups = 1;
	if (catalog_config_each(cfg, "roles.groups", "'roles.groups' must map names to roles",
				role_entry, &s, err))
		return -1;
	actor->role = s.role;
	return 0;
}
