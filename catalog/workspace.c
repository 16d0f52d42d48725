/* Workspaces: `steward init` creates one; every other command finds it from --home,
 * $STEWARD_HOME, or by walking up from the current directory as git does. */
#include "catalog_int.h"
#include "alloc.h"
#include "buf.h"
#include "ydoc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STATE_DIR ".steward"
#define CONFIG_FILE "steward.yaml"

/* The state files every command opens for writing. */
static const char *const state_dbs[] = {"audit.db", "catalog.db"};

static const char config_template[] =
	"# steward workspace configuration. See docs/configuration.md.\n"
	"version: 1\n"
	"\n"
	"pii:\n"
	"  # Country for phone numbers written without a country code (ISO 3166 alpha-2).\n"
	"  default_country: US\n"
	"\n"
	"# Why 'steward ingest' pseudonymizes each dataset: dataset name or pattern -> purpose,\n"
	"# recorded with every run. Below the admin role a run needs one, from here or from\n"
	"# --purpose TEXT (require_purpose: always asks it of admins too). See docs/ingest.md.\n"
	"# ingest:\n"
	"#   pipelines:\n"
	"#     \"events.*\": \"product analytics (record of processing, entry 12)\"\n"
	"\n"
	"# Who may do what. Anyone not listed is denied. Roles, weakest first: viewer (search,\n"
	"# show, lineage), engineer (+ load, ingest), steward (+ pii map/scan/check, keys),\n"
	"# dpo (+ requests, pseudonym look-ups, audit, reports), admin (everything).\n"
	"roles:\n"
	"  users:\n"
	"    \"%s\": admin\n"
	"  groups: {}\n"
	"\n"
	"# Where data-subject requests are carried out: dataset name -> target URI, e.g.\n"
	"#   prod.users: \"sqlite:/srv/prod.db?table=users\"\n"
	"targets: {}\n";

static char *join(const char *a, const char *b)
{
	struct st_buf buf;

	st_buf_init(&buf, PATH_MAX);
	if (st_buf_addf(&buf, "%s/%s", a, b)) {
		st_buf_release(&buf);
		return NULL;
	}
	return st_buf_detach(&buf);
}

char *catalog_workspace_state_path(const struct catalog_workspace *ws, const char *name)
{
	return join(ws->state_dir, name);
}

void catalog_workspace_release(struct catalog_workspace *ws)
{
	st_free(ws->home);
	st_free(ws->state_dir);
	st_free(ws->config);
	ws->home = ws->state_dir = ws->config = NULL;
}

static int fill(struct catalog_workspace *ws, const char *home, struct st_error *err)
{
	char *abs = realpath(home, NULL);

	memset(ws, 0, sizeof(*ws));
	if (!abs)
		return st_error_set(err, errno == ENOMEM ? ST_E_SYSTEM : ST_E_NOTFOUND,
				    "cannot use workspace '%s': %s", home, strerror(errno));
	ws->home = st_strdup(abs);
	free(abs);
	if (!ws->home || !(ws->state_dir = join(ws->home, STATE_DIR)) ||
	    !(ws->config = join(ws->home, CONFIG_FILE))) {
		catalog_workspace_release(ws);
		return st_error_oom(err);
	}
	return 0;
}

static int is_dir(const char *path)
{
	struct stat sb;

	return !stat(path, &sb) && S_ISDIR(sb.st_mode);
}

int catalog_user_config_path(char *out, size_t n)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	int r;

	if (xdg && *xdg == '/')
		r = snprintf(out, n, "%s/steward/config.yaml", xdg);
	else if (home && *home)
		r = snprintf(out, n, "%s/.config/steward/config.yaml", home);
	else
		return -1;
	return r < 0 || (size_t)r >= n ? -1 : 0;
}

/* Whether entry (a path the user wrote) names the directory home. */
static int names_dir(const char *entry, size_t len, const char *home)
{
	char buf[PATH_MAX], *real;
	int same;

	if (len == 1 && entry[0] == '*')
		return 1;
	if (!len || len >= sizeof(buf))
		return 0;
	memcpy(buf, entry, len);
	buf[len] = '\0';
	if (!(real = realpath(buf, NULL)))
		return 0;
	same = !strcmp(real, home);
	free(real);
	return same;
}

#define MAX_USER_CONFIG (1u << 16)

/* The safe_directories list of the user's configuration file. */
static int safe_in_user_config(const char *home, struct st_error *err)
{
	char path[PATH_MAX];
	struct catalog_yparser p;
	struct catalog_ydoc *doc = NULL;
	struct st_diags diags;
	unsigned char *data = NULL;
	struct stat sb;
	ssize_t n = 0;
	int fd, ret = -1;

	memset(&p, 0, sizeof(p));
	st_diags_init(&diags, 4);
	if (catalog_user_config_path(path, sizeof(path)))
		return 0;
	/* The user's own file; a link (dotfiles) is fine, another user's file is not. */
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		st_diags_release(&diags);
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		return st_error_set(err, errno == EACCES ? ST_E_DENIED : ST_E_SYSTEM,
				    "cannot read '%s': %s", path, strerror(errno));
	}
	if (fstat(fd, &sb) || !S_ISREG(sb.st_mode)) {
		st_error_set(err, ST_E_INVALID, "'%s' is not a regular file", path);
		goto out;
	}
	if ((sb.st_uid != geteuid() && sb.st_uid != 0) || (sb.st_mode & 0022)) {
		st_error_set(err, ST_E_DENIED,
			     "'%s' may be changed by another user; it can only be trusted when only "
			     "you (or root) can change it",
			     path);
		goto out;
	}
	if (sb.st_size > (off_t)MAX_USER_CONFIG) {
		st_error_set(err, ST_E_INVALID, "'%s' is too large", path);
		goto out;
	}
	if (!(data = st_malloc((size_t)sb.st_size + 1))) {
		st_error_oom(err);
		goto out;
	}
	while (n < sb.st_size) {
		ssize_t k = read(fd, data + n, (size_t)(sb.st_size - n));

		if (k <= 0) {
			st_error_set(err, ST_E_SYSTEM, "cannot read '%s'", path);
			goto out;
		}
		n += k;
	}
	if (catalog_yparser_init(&p, path, data, (size_t)n, err) ||
	    catalog_yparser_next(&p, &doc, &diags, err) < 0)
		goto out;
	if (diags.n) {
		st_error_set_at(err, ST_E_INVALID, path, diags.v[0].line, diags.v[0].col, "%s",
				diags.v[0].msg);
		goto out;
	}
	ret = 0;
	if (doc && doc->root) {
		const struct catalog_ynode *root = doc->root, *list;

		if (root->type != CATALOG_Y_MAP) {
			ret = st_error_set_at(err, ST_E_INVALID, path, root->line, root->col,
					      "the configuration must be a mapping");
			goto out;
		}
		for (size_t i = 0; i < root->n; i++)
			if (strcmp(root->kids[2 * i]->value, "safe_directories")) {
				ret = st_error_set_at(err, ST_E_INVALID, path,
						      root->kids[2 * i]->line,
						      root->kids[2 * i]->col,
						      "unknown setting '%s'",
						      root->kids[2 * i]->value);
				goto out;
			}
		list = catalog_ymap_get(root, "safe_directories");
		if (list && list->type != CATALOG_Y_SEQ &&
		    !(list->type == CATALOG_Y_SCALAR && catalog_yscalar_kind(list) == CATALOG_YS_NULL)) {
			ret = st_error_set_at(err, ST_E_INVALID, path, list->line, list->col,
					      "'safe_directories' must be a list of directories");
			goto out;
		}
		for (size_t i = 0; list && list->type == CATALOG_Y_SEQ && i < list->n; i++) {
			const struct catalog_ynode *e = list->kids[i];

			if (e->type != CATALOG_Y_SCALAR) {
				ret = st_error_set_at(err, ST_E_INVALID, path, e->line, e->col,
						      "'safe_directories' must be a list of directories");
				goto out;
			}
			if (names_dir(e->value, e->len, home)) {
				ret = 1;
				goto out;
			}
		}
	}
out:
	catalog_ydoc_free(doc);
	catalog_yparser_release(&p);
	st_diags_release(&diags);
	st_free(data);
	close(fd);
	return ret;
}

int catalog_safe_directory(const char *home, struct st_error *err)
{
	const char *env = getenv("STEWARD_SAFE_DIRECTORIES");

	while (env && *env) {
		const char *colon = strchr(env, ':');
		size_t len = colon ? (size_t)(colon - env) : strlen(env);

		if (names_dir(env, len, home))
			return 1;
		env += len + (colon ? 1 : 0);
	}
	return safe_in_user_config(home, err);
}

/* Refuses a workspace that is not the user's to trust (see catalog_workspace_find()). */
static int check_trust(struct catalog_workspace *ws, struct st_error *err)
{
	const uid_t me = geteuid();
	char where[PATH_MAX + 64];
	struct stat st, cf;
	int have_cf, safe;
	long owner = -1;
	const char *what = NULL;

	if (lstat(ws->state_dir, &st))
		return st_error_set(err, errno == EACCES ? ST_E_DENIED : ST_E_SYSTEM,
				    "cannot use the workspace '%s': %s", ws->home, strerror(errno));
	if (S_ISLNK(st.st_mode))
		return st_error_set(err, ST_E_DENIED,
				    "'%s' is a symbolic link; a workspace's state directory must be a "
				    "directory of its own",
				    ws->state_dir);
	have_cf = !lstat(ws->config, &cf);
	if (!have_cf && errno != ENOENT)
		return st_error_set(err, errno == EACCES ? ST_E_DENIED : ST_E_SYSTEM,
				    "cannot use the workspace '%s': %s", ws->home, strerror(errno));
	if (have_cf && S_ISLNK(cf.st_mode))
		return st_error_set(err, ST_E_DENIED,
				    "'%s' is a symbolic link; steward reads its configuration only "
				    "from a regular file in the workspace",
				    ws->config);
	if (st.st_uid != me && st.st_uid != 0) {
		owner = (long)st.st_uid;
		what = "the workspace '%s' is owned by someone else (uid %ld)";
		snprintf(where, sizeof(where), "%s", ws->home);
	} else if (have_cf && cf.st_uid != me && cf.st_uid != 0) {
		owner = (long)cf.st_uid;
		what = "the workspace's configuration '%s' is owned by someone else (uid %ld)";
		snprintf(where, sizeof(where), "%s", ws->config);
	}
	if (what) {
		char conf[PATH_MAX], first[PATH_MAX + 128];

		if ((safe = catalog_safe_directory(ws->home, err)) < 0)
			return -1;
		if (!safe) {
			if (catalog_user_config_path(conf, sizeof(conf)))
				snprintf(conf, sizeof(conf), "~/.config/steward/config.yaml");
			snprintf(first, sizeof(first), what, where, owner);
			return st_error_set(err, ST_E_DENIED,
					    "%s; if you trust it, add '%s' to safe_directories in '%s' "
					    "or to STEWARD_SAFE_DIRECTORIES",
					    first, ws->home, conf);
		}
		ws->trusted_uid = owner;
	}
	/* Every command writes its audit record there: no access is a refusal, not a miss. */
	if (faccessat(AT_FDCWD, ws->state_dir, R_OK | W_OK | X_OK, AT_EACCESS) ||
	    (have_cf && faccessat(AT_FDCWD, ws->config, R_OK, AT_EACCESS))) {
		if (errno != EACCES && errno != EPERM)
			return st_error_set(err, ST_E_SYSTEM, "cannot use the workspace '%s': %s",
					    ws->home, strerror(errno));
		return st_error_set(err, ST_E_DENIED,
				    "cannot use the workspace '%s': permission denied (it belongs to "
				    "uid %ld)",
				    ws->home, (long)st.st_uid);
	}
	/* The databases every command opens (a shared workspace may let the directory in but
	 * not them): the same refusal, rather than "unable to open database file". */
	for (size_t i = 0; i < sizeof(state_dbs) / sizeof(*state_dbs); i++) {
		char *path = join(ws->state_dir, state_dbs[i]);
		struct stat db;
		int denied;

		if (!path)
			return st_error_oom(err);
		denied = !lstat(path, &db) && faccessat(AT_FDCWD, path, R_OK | W_OK, AT_EACCESS) &&
			 (errno == EACCES || errno == EPERM);
		st_free(path);
		if (denied)
			return st_error_set(err, ST_E_DENIED,
					    "cannot use the workspace '%s': permission denied on '%s' "
					    "(it belongs to uid %ld)",
					    ws->home, state_dbs[i], (long)db.st_uid);
	}
	return 0;
}

/* Whether dir holds a state directory: 1, 0, or -1 with err when it cannot be told
 * (permission denied is not "no workspace here"). A symbolic link counts, to be refused. */
static int has_state(const char *dir, struct st_error *err)
{
	char probe[PATH_MAX + 16];
	struct stat sb;

	if ((size_t)snprintf(probe, sizeof(probe), "%s/%s", dir, STATE_DIR) >= sizeof(probe))
		return st_error_set(err, ST_E_USAGE, "'%s' is too long a path", dir);
	if (!lstat(probe, &sb))
		return S_ISDIR(sb.st_mode) || S_ISLNK(sb.st_mode);
	if (errno == EACCES)
		return st_error_set(err, ST_E_DENIED,
				    "cannot use the workspace '%s': permission denied", dir);
	return 0;
}

static int found(struct catalog_workspace *ws, const char *home, struct st_error *err)
{
	if (fill(ws, home, err))
		return -1;
	if (check_trust(ws, err)) {
		catalog_workspace_release(ws);
		return -1;
	}
	return 0;
}

int catalog_workspace_find(struct catalog_workspace *ws, const char *explicit_home,
			   struct st_error *err)
{
	const char *home = explicit_home;
	char cwd[PATH_MAX];
	int r;

	memset(ws, 0, sizeof(*ws));
	if (!home || !*home)
		home = getenv("STEWARD_HOME");
	if (home && *home) {
		if ((r = has_state(home, err)) < 0)
			return -1;
		if (!r)
			return st_error_set(err, ST_E_NOTFOUND,
					    "'%s' is not a steward workspace (run 'steward init %s')",
					    home, home);
		return found(ws, home, err);
	}
	if (!getcwd(cwd, sizeof(cwd)))
		return st_error_set(err, errno == EACCES ? ST_E_DENIED : ST_E_SYSTEM,
				    "cannot get the current directory: %s", strerror(errno));
	for (;;) {
		char *slash;

		if ((r = has_state(cwd[0] ? cwd : "/", err)) < 0)
			return -1;
		if (r)
			return found(ws, cwd[0] ? cwd : "/", err);
		slash = strrchr(cwd, '/');
		if (!slash || !cwd[0])
			break;
		*slash = '\0';
	}
	return st_error_set(err, ST_E_NOTFOUND,
			    "not in a steward workspace (run 'steward init', or use --home or "
			    "STEWARD_HOME)");
}

static int make_dir(const char *path, mode_t mode, struct st_error *err)
{
	if (!mkdir(path, mode) || (errno == EEXIST && is_dir(path)))
		return 0;
	return st_error_set(err, ST_E_SYSTEM, "cannot create '%s': %s", path, strerror(errno));
}

int catalog_workspace_create(const char *dir, const char *admin, int *existed,
			     struct st_error *err)
{
	struct catalog_workspace ws = {0};
	struct catalog *c = NULL;
	mode_t old = umask(077);
	char probe[PATH_MAX + 16];
	int ret = -1, fd;

	*existed = 0;
	if (make_dir(dir, 0755, err))
		goto out;
	snprintf(probe, sizeof(probe), "%s/%s", dir, STATE_DIR);
	*existed = is_dir(probe);
	if (make_dir(probe, 0700, err) || fill(&ws, dir, err))
		goto out;
	for (const char *p = admin; *p; p++)
		if (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20) {
			st_error_set(err, ST_E_INVALID, "cannot write a role for user '%s'", admin);
			goto out;
		}
	fd = open(ws.config, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd >= 0) {
		struct st_buf text;
		ssize_t n;

		st_buf_init(&text, 1u << 16);
		if (st_buf_addf(&text, config_template, admin)) {
			st_buf_release(&text);
			close(fd);
			unlink(ws.config);
			st_error_oom(err);
			goto out;
		}
		n = write(fd, st_buf_str(&text), text.len);
		if (n != (ssize_t)text.len || close(fd)) {
			st_error_set(err, ST_E_SYSTEM, "cannot write '%s': %s", ws.config,
				     strerror(errno));
			st_buf_release(&text);
			goto out;
		}
		st_buf_release(&text);
	} else if (errno != EEXIST) {
		st_error_set(err, ST_E_SYSTEM, "cannot create '%s': %s", ws.config,
			     strerror(errno));
		goto out;
	}
	if (catalog_open(&c, &ws, err))
		goto out;
	ret = 0;
out:
	catalog_free(c);
	catalog_workspace_release(&ws);
	umask(old);
	return ret;
}

int catalog_open(struct catalog **out, const struct catalog_workspace *ws, struct st_error *err)
{
	char *path = catalog_workspace_state_path(ws, "catalog.db");
	int ret;

	if (!path)
		return st_error_oom(err);
	ret = catalog_open_path(out, path, err);
	st_free(path);
	return ret;
}
