/* Workspaces: `steward init` creates one; every other command finds it from --home,
 * $STEWARD_HOME, or by walking up from the current directory as git does. */
#include "catalog_int.h"
#include "alloc.h"
#include "buf.h"

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

static const char config_template[] =
	"# steward workspace configuration. See docs/configuration.md.\n"
	"version: 1\n"
	"\n"
	"pii:\n"
	"  # Country for phone numbers written without a country code (ISO 3166 alpha-2).\n"
	"  default_country: US\n"
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

int catalog_workspace_find(struct catalog_workspace *ws, const char *explicit_home,
			   struct st_error *err)
{
	const char *home = explicit_home;
	char cwd[PATH_MAX], probe[PATH_MAX + 16];

	memset(ws, 0, sizeof(*ws));
	if (!home || !*home)
		home = getenv("STEWARD_HOME");
	if (home && *home) {
		snprintf(probe, sizeof(probe), "%s/%s", home, STATE_DIR);
		if (!is_dir(probe))
			return st_error_set(err, ST_E_NOTFOUND,
					    "'%s' is not a steward workspace (run 'steward init %s')",
					    home, home);
		return fill(ws, home, err);
	}
	if (!getcwd(cwd, sizeof(cwd)))
		return st_error_set(err, ST_E_SYSTEM, "cannot get the current directory: %s",
				    strerror(errno));
	for (;;) {
		char *slash;

		snprintf(probe, sizeof(probe), "%s/%s", cwd, STATE_DIR);
		if (is_dir(probe))
			return fill(ws, cwd[0] ? cwd : "/", err);
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
