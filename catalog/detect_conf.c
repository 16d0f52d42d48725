/* A descriptor's detect: key, the settings of the free-text detectors for one dataset (its
 * threshold, its phone regions, its country field): checked beyond the schema and stored as
 * the dataset's detect.* properties, which catalog_card_get() reads back. */
#include "catalog_int.h"
#include "ydoc.h"
#include "sql.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ISO 3166-1 alpha-2, the assigned codes (iso-codes 4.15), and XK (Kosovo), which
 * libphonenumber also knows. */
static const char iso3166[] =
	"ADAEAFAGAIALAMAOAQARASATAUAWAXAZBABBBDBEBFBGBHBIBJBLBMBNBOBQBRBSBTBVBWBYBZCACCCDCFCG"
	"CHCICKCLCMCNCOCRCUCVCWCXCYCZDEDJDKDMDODZECEEEGEHERESETFIFJFKFMFOFRGAGBGDGEGFGGGHGIGLGM"
	"GNGPGQGRGSGTGUGWGYHKHMHNHRHTHUIDIEILIMINIOIQIRISITJEJMJOJPKEKGKHKIKMKNKPKRKWKYKZLALBLC"
	"LILKLRLSLTLULVLYMAMCMDMEMFMGMHMKMLMMMNMOMPMQMRMSMTMUMVMWMXMYMZNANCNENFNGNINLNONPNRNUNZ"
	"OMPAPEPFPGPHPKPLPMPNPRPSPTPWPYQARERORSRURWSASBSCSDSESGSHSISJSKSLSMSNSOSRSSSTSVSXSYSZTC"
	"TDTFTGTHTJTKTLTMTNTOTRTTTVTWTZUAUGUMUSUYUZVAVCVEVGVIVNVUWFWSXKYEYTZAZMZW";

/* Codes people write for a region whose ISO code is another one. */
static const char *const iso3166_aliases[][2] = {{"UK", "GB"}, {"EL", "GR"}};

#define DETECT_REGIONS_MAX 32

static int alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

int catalog_region_code(const char *s, size_t n, char out[3])
{
	size_t i = 0;

	if (n > 3 && alpha(s[0]) && alpha(s[1]) && (s[2] == '_' || s[2] == '-'))
		i = 3;
	else if (n > 4 && alpha(s[0]) && alpha(s[1]) && alpha(s[2]) && (s[3] == '_' || s[3] == '-'))
		i = 4;
	if (n - i < 2 || !alpha(s[i]) || !alpha(s[i + 1]) ||
	    (n - i > 2 && (i == 0 || (s[i + 2] != '.' && s[i + 2] != '@'))))
		return -1;
	out[0] = (char)(s[i] & ~0x20);
	out[1] = (char)(s[i + 1] & ~0x20);
	out[2] = '\0';
	return 0;
}

static int iso3166_known(const char *r)
{
	for (const char *p = iso3166; *p; p += 2)
		if (p[0] == r[0] && p[1] == r[1])
			return 1;
	return 0;
}

/* Adds an error at node at. Returns 1, or -1 when out of memory. */
static int problem(struct st_diags *d, const char *file, const struct catalog_ynode *at,
		   const char *fmt, ...) ST_PRINTF(4, 5);

static int problem(struct st_diags *d, const char *file, const struct catalog_ynode *at,
		   const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return st_diags_add(d, ST_SEV_ERROR, file, at->line, at->col, "%s", msg) ? -1 : 1;
}

/* Checks the regions and writes them, normalized and each once, into out ("AT,CH").
 * Returns 0, 1 when a problem went to d, -1 out of memory. */
static int check_regions(const struct catalog_ynode *list, const char *file, struct st_diags *d,
			 char *out, size_t n)
{
	size_t at = 0;

	out[0] = '\0';
	if (list->n > DETECT_REGIONS_MAX)
		return problem(d, file, list, "'regions' lists more than %d regions",
			       DETECT_REGIONS_MAX);
	for (size_t i = 0; i < list->n; i++) {
		const struct catalog_ynode *e = list->kids[i];
		char r[3];

		if (catalog_region_code(e->value, strlen(e->value), r))
			return problem(d, file, e,
				       "invalid region '%s' (expected an ISO 3166 alpha-2 code such "
				       "as AT, or a locale such as de_AT)",
				       e->value);
		if (!iso3166_known(r)) {
			for (size_t k = 0; k < sizeof(iso3166_aliases) / sizeof(*iso3166_aliases); k++)
				if (!strcmp(r, iso3166_aliases[k][0]))
					return problem(d, file, e,
						       "unknown region '%s' (did you mean '%s'?)",
						       e->value, iso3166_aliases[k][1]);
			return problem(d, file, e,
				       "unknown region '%s' (not an ISO 3166 alpha-2 code)",
				       e->value);
		}
		if (at && strstr(out, r))
			continue; /* AT and de_AT: one region */
		if (at + 3 >= n)
			return -1; /* not with 32 regions at most */
		if (at)
			out[at++] = ',';
		memcpy(out + at, r, 3);
		at += 2;
	}
	return 0;
}

/* The field entry at path among the root's fields, in *out. Returns 0 when found, 1 when
 * not; *array names the array field it lies in (NULL: none). */
static int field_at(const struct catalog_ynode *root, const char *path,
		    const struct catalog_ynode **out, const char **array)
{
	const struct catalog_ynode *list = catalog_ymap_get(root, "fields");
	const char *p = path;

	if (!list)
		list = catalog_ymap_get(root, "columns");
	*array = NULL;
	while (list && list->type == CATALOG_Y_SEQ) {
		size_t k = strcspn(p, ".");
		const struct catalog_ynode *hit = NULL, *type, *items;

		for (size_t i = 0; i < list->n && !hit; i++) {
			const struct catalog_ynode *name = catalog_ymap_get(list->kids[i], "name");

			if (name && name->type == CATALOG_Y_SCALAR && strlen(name->value) == k &&
			    !strncmp(name->value, p, k))
				hit = list->kids[i];
		}
		if (!hit)
			return 1;
		if (!p[k]) {
			*out = hit;
			return 0;
		}
		p += k + 1;
		type = catalog_ymap_get(hit, "type");
		items = catalog_ymap_get(hit, "items");
		if (type && type->type == CATALOG_Y_SCALAR && !strcmp(type->value, "array")) {
			if (!*array)
				*array = catalog_ymap_get(hit, "name")->value;
			list = catalog_ymap_get(items, "fields");
		} else {
			list = catalog_ymap_get(hit, "fields");
		}
	}
	return 1;
}

/* Checks the country field: a string field of the dataset, one value per record. Returns
 * 0, 1 when a problem went to d, -1 out of memory. */
static int check_country_field(const struct catalog_ynode *root, const struct catalog_ynode *cf,
			       const char *file, const char *name, struct st_diags *d)
{
	const struct catalog_ynode *f, *type;
	const char *array;

	if (field_at(root, cf->value, &f, &array))
		return problem(d, file, cf, "detect country_field '%s' is not a field of '%s'",
			       cf->value, name);
	if (array)
		return problem(d, file, cf,
			       "detect country_field '%s' lies in the array '%s'; it needs one "
			       "value per record",
			       cf->value, array);
	type = catalog_ymap_get(f, "type");
	if (type && type->type == CATALOG_Y_SCALAR && strcmp(type->value, "string"))
		return problem(d, file, cf, "detect country_field '%s' is of type %s, not string",
			       cf->value, type->value);
	return 0;
}

static int put_prop(sqlite3 *db, int64_t id, const char *key, const char *value,
		    struct st_error *err)
{
	sqlite3_stmt *st = NULL;
	int ret = -1;

	if (st_sql_prepare(db, &st,
			   "INSERT INTO dataset_props(dataset_id, ord, key, value) VALUES (?1,"
			   " (SELECT count(*) FROM dataset_props WHERE dataset_id = ?1), ?2, ?3)",
			   err))
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, value, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		st_sql_error(err, db, "cannot store the detect settings");
	else
		ret = 0;
	sqlite3_finalize(st);
	return ret;
}

int catalog_detect_store(sqlite3 *db, int64_t dataset_id, const char *name,
			 const struct catalog_ynode *root, const char *file, struct st_diags *d,
			 struct st_error *err)
{
	const struct catalog_ynode *det = catalog_ymap_get(root, "detect");
	const struct catalog_ynode *th = catalog_ymap_get(det, "threshold");
	const struct catalog_ynode *regions = catalog_ymap_get(det, "regions");
	const struct catalog_ynode *cf = catalog_ymap_get(det, "country_field");
	char list[DETECT_REGIONS_MAX * 3 + 1];
	int r = 0, bad = 0;

	if (!det || det->type != CATALOG_Y_MAP)
		return 0;
	if (regions && regions->type == CATALOG_Y_SEQ && (r = check_regions(regions, file, d, list,
									    sizeof(list))) < 0)
		return st_error_oom(err);
	bad |= r;
	if (cf && cf->type == CATALOG_Y_SCALAR &&
	    (r = check_country_field(root, cf, file, name, d)) < 0)
		return st_error_oom(err);
	bad |= r;
	if (bad) /* the load fails on the problem reported; nothing to store */
		return 0;
	if (th && th->type == CATALOG_Y_SCALAR) {
		char v[16];

		/* the schema took it for an integer from 1 to 100: "070" is 70 */
		snprintf(v, sizeof(v), "%ld", strtol(th->value, NULL, 10));
		if (put_prop(db, dataset_id, "detect.threshold", v, err))
			return -1;
	}
	if (regions && list[0] && put_prop(db, dataset_id, "detect.regions", list, err))
		return -1;
	if (cf && cf->type == CATALOG_Y_SCALAR &&
	    put_prop(db, dataset_id, "detect.country_field", cf->value, err))
		return -1;
	return 0;
}
