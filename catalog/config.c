/* steward.yaml: the workspace configuration. Unknown top-level keys are errors, so a typo
 * never silently turns a setting off. */
#include "catalog_int.h"
#include "alloc.h"
#include "ydoc.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_CONFIG (1u << 20)

static const char *const sections[] = {"version", "pii", "ingest", "roles", "targets", "audit",
					"requests", "server", "pipelines"};

void catalog_config_release(struct catalog_config *cfg)
{
	catalog_ydoc_free(cfg->doc);
	cfg->doc = NULL;
}

int catalog_config_load(struct catalog_config *cfg, const struct catalog_workspace *ws,
			struct st_error *err)
{
	struct catalog_yparser p;
	struct st_diags diags;
	unsigned char *data = NULL;
	struct stat sb;
	ssize_t n = 0;
	int fd, ret = -1, r;

	memset(cfg, 0, sizeof(*cfg));
	cfg->file = ws->config;
	memset(&p, 0, sizeof(p));
	st_diags_init(&diags, 4);
	fd = open(ws->config, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0; /* no file: every setting has its default */
		if (errno == ELOOP)
			return st_error_set(err, ST_E_DENIED,
					    "'%s' is a symbolic link; steward reads its configuration "
					    "only from a regular file in the workspace",
					    ws->config);
		return st_error_set(err, errno == EACCES ? ST_E_DENIED : ST_E_SYSTEM,
				    "cannot read '%s': %s", ws->config, strerror(errno));
	}
	if (fstat(fd, &sb)) {
		st_error_set(err, ST_E_SYSTEM, "cannot read '%s': %s", ws->config, strerror(errno));
		goto out;
	}
	/* Roles and targets live here: a file others could change is a way round them. */
	if (sb.st_mode & 0026) {
		st_error_set(err, ST_E_DENIED, "'%s' is open to others (mode %04o); run 'chmod 600 %s'",
			     ws->config, (unsigned)(sb.st_mode & 07777), ws->config);
		goto out;
	}
	if (sb.st_uid != geteuid() && sb.st_uid != 0 &&
	    (!ws->trusted_uid || (long)sb.st_uid != ws->trusted_uid)) {
		st_error_set(err, ST_E_DENIED, "'%s' belongs to another user", ws->config);
		goto out;
	}
	if (sb.st_size > (off_t)MAX_CONFIG) {
		st_error_set(err, ST_E_INVALID, "'%s' is too large", ws->config);
		goto out;
	}
	data = st_malloc((size_t)sb.st_size + 1);
	if (!data) {
		st_error_oom(err);
		goto out;
	}
	while (n < sb.st_size) {
		ssize_t k = read(fd, data + n, (size_t)(sb.st_size - n));

		if (k <= 0) {
			st_error_set(err, ST_E_SYSTEM, "cannot read '%s'", ws->config);
			goto out;
		}
		n += k;
	}
	if (catalog_yparser_init(&p, ws->config, data, (size_t)n, err))
		goto out;
	r = catalog_yparser_next(&p, &cfg->doc, &diags, err);
	if (r < 0)
		goto out;
	if (diags.n) {
		st_error_set_at(err, ST_E_INVALID, ws->config, diags.v[0].line, diags.v[0].col, "%s",
				diags.v[0].msg);
		goto out;
	}
	if (cfg->doc && cfg->doc->root) {
		const struct catalog_ynode *root = cfg->doc->root;

		if (root->type != CATALOG_Y_MAP) {
			st_error_set_at(err, ST_E_INVALID, ws->config, root->line, root->col,
					"the configuration must be a mapping");
			goto out;
		}
		for (size_t i = 0; i < root->n; i++) {
			const struct catalog_ynode *k = root->kids[2 * i];
			size_t j;

			for (j = 0; j < sizeof(sections) / sizeof(*sections); j++)
				if (!strcmp(k->value, sections[j]))
					break;
			if (j == sizeof(sections) / sizeof(*sections)) {
				const char *hint = catalog_suggest(k->value, sections,
								   sizeof(sections) / sizeof(*sections));

				st_error_set_at(err, ST_E_INVALID, ws->config, k->line, k->col,
						hint ? "unknown setting '%s' (did you mean '%s'?)"
						     : "unknown setting '%s'",
						k->value, hint);
				goto out;
			}
		}
	}
	ret = 0;
out:
	if (ret)
		catalog_config_release(cfg);
	catalog_yparser_release(&p);
	st_diags_release(&diags);
	st_free(data);
	close(fd);
	return ret;
}

/* The node at a dotted path such as "pii.default_country", or NULL. */
static const struct catalog_ynode *find(const struct catalog_config *cfg, const char *path)
{
	const struct catalog_ynode *n = cfg->doc ? cfg->doc->root : NULL;
	char key[128];

	while (n && *path) {
		const char *dot = strchr(path, '.');
		size_t len = dot ? (size_t)(dot - path) : strlen(path);

		if (len >= sizeof(key))
			return NULL;
		memcpy(key, path, len);
		key[len] = '\0';
		n = catalog_ymap_get(n, key);
		path += len + (dot ? 1 : 0);
	}
	return n;
}

static int is_null(const struct catalog_ynode *n)
{
	return n->type == CATALOG_Y_SCALAR && catalog_yscalar_kind(n) == CATALOG_YS_NULL;
}

const char *catalog_config_str(const struct catalog_config *cfg, const char *path)
{
	const struct catalog_ynode *n = find(cfg, path);

	if (!n || n->type != CATALOG_Y_SCALAR || is_null(n))
		return NULL;
	return n->value;
}

/* Calls fn for each key of map (a mapping node). */
static int each_of(const struct catalog_ynode *map,
		   int (*fn)(const struct catalog_config_entry *e, void *u, struct st_error *err),
		   void *u, struct st_error *err)
{
	for (size_t i = 0; i < map->n; i++) {
		const struct catalog_ynode *k = map->kids[2 * i], *v = map->kids[2 * i + 1];
		struct catalog_config_entry e = {
			.key = k->value,
			.value = v->type == CATALOG_Y_SCALAR ? v->value : NULL,
			.is_null = is_null(v),
			.key_line = k->line,
			.key_col = k->col,
			.line = v->line,
			.col = v->col,
			.map = v->type == CATALOG_Y_MAP ? v : NULL,
		};
		int r;

		if ((r = fn(&e, u, err)))
			return r;
	}
	return 0;
}

int catalog_config_each(const struct catalog_config *cfg, const char *path, const char *not_map,
			int (*fn)(const struct catalog_config_entry *e, void *u,
				  struct st_error *err),
			void *u, struct st_error *err)
{
	const struct catalog_ynode *map = find(cfg, path);

	if (!map || is_null(map))
		return 0;
	if (map->type != CATALOG_Y_MAP)
		return st_error_set_at(err, ST_E_INVALID, cfg->file, map->line, map->col, "%s",
				       not_map);
	return each_of(map, fn, u, err);
}

int catalog_config_each_in(const struct catalog_config *cfg, const struct catalog_config_entry *e,
			   const char *not_map,
			   int (*fn)(const struct catalog_config_entry *e, void *u,
				     struct st_error *err),
			   void *u, struct st_error *err)
{
	if (!e->map)
		return st_error_set_at(err, ST_E_INVALID, cfg->file, e->line, e->col, "%s",
				       not_map);
	return each_of(e->map, fn, u, err);
}
