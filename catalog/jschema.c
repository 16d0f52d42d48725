/* Subset JSON Schema validator over YAML nodes (descriptors), and a compiled validator over
 * JSON documents (OpenLineage events) that follows $ref across several schema files.
 * Supported keywords are listed in `known`; loading a schema that uses anything else fails,
 * so the schema cannot silently outgrow the validator. */
#include "jschema.h"
#include "strmap.h"
#include "alloc.h"
#include "buf.h"

#include <jansson.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A pattern of dot-separated words of [A-Za-z0-9_-] (the descriptor schema's names and
 * paths) is matched by hand: regexec() costs more than the rest of validation. min and max
 * count the words (max 0: no limit); min 0 means the regex is used. */
struct pattern {
	const json_t *owner;
	regex_t re;
	unsigned min, max;
};

struct jnode;

/* A schema compiled for JSON documents, and the json_t it came from. */
struct memo {
	const json_t *src;
	struct jnode *node;
};

#define WORD_RE "[A-Za-z0-9_-]+"

/* Recognises ^W(\.W)...$ with W = WORD_RE, optionally ending in (\.W)* or (\.W)+, and
 * sets the word counts; leaves them 0 for any other pattern. */
static void words_pattern(struct pattern *p, const char *re)
{
	size_t wl = strlen(WORD_RE);
	unsigned n = 1;

	if (*re++ != '^' || strncmp(re, WORD_RE, wl))
		return;
	for (re += wl; !strncmp(re, "\\." WORD_RE, wl + 2); re += wl + 2)
		n++;
	if (!strcmp(re, "$")) {
		p->min = p->max = n;
	} else if (!strncmp(re, "(\\." WORD_RE ")", wl + 4) && re[wl + 5] == '$' && !re[wl + 6] &&
		   (re[wl + 4] == '*' || re[wl + 4] == '+')) {
		p->min = n + (re[wl + 4] == '+');
		p->max = 0;
	}
}

static int word_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-';
}

/* Whether s (up to its NUL, as regexec() reads it) matches the pattern. */
static int pattern_matches(const struct pattern *p, const char *s)
{
	unsigned words = 1;
	size_t run = 0;

	if (!p->min)
		return !regexec(&p->re, s, 0, NULL, 0);
	for (;; s++) {
		if (word_byte((unsigned char)*s)) {
			run++;
		} else if (*s == '.' && run) {
			words++;
			run = 0;
		} else {
			return !*s && run && words >= p->min && (!p->max || words <= p->max);
		}
	}
}

struct vinfo;

/* Strings with what they stand for, in an open-addressing table (a schema object's property
 * names, or the strings of its enum), so that a YAML key or value is found by one hash. */
struct vkey {
	const char *s;
	size_t len;
	const struct vinfo *vi; /* properties: the property's schema, $ref followed (NULL: none) */
};

struct vset {
	struct vkey *keys;
	uint32_t *slots; /* index in keys + 1, or 0 */
	size_t n;
	uint32_t mask;
};

/* The keywords of one schema object that validate() reads, looked up once when the schema
 * is loaded (jansson's look-ups, several per YAML node, were half of the validation), and
 * linked (link_vinfo()): the schemas below it found once, its type as bits, its property
 * names and enum strings hashed. */
struct vinfo {
	const json_t *owner;
	const char *ref;
	const json_t *type, *props, *addl, *req, *items, *min_items, *unique, *enm, *title,
		*min_length, *minimum, *maximum;
	size_t pat; /* index in pats + 1, or 0 */
	/* linked */
	const struct vinfo *items_to, *addl_to; /* items, additionalProperties: linked() */
	unsigned types;         /* JT_* bits of the type names */
	struct vset propset, enumset;
};

struct catalog_jschema {
	json_t *root;
	json_t *docs; /* further documents by file name, reachable through $ref */
	struct pattern *pats;
	size_t npats, pats_cap;
	struct vinfo *vi; /* every schema object prepare() saw, sorted by owner */
	size_t nvi, vi_cap;
	struct memo *memo;
	size_t nmemo, memo_cap;
};

static const char *const known[] = {
	"$schema", "$id", "title", "description", "markdownDescription", "default", "examples",
	"type", "properties", "additionalProperties", "required", "enum", "items", "$ref",
	"definitions", "pattern", "minimum", "maximum", "minLength", "minItems", "uniqueItems",
	/* draft 2020-12, as the OpenLineage schemas use it */
	"$defs", "allOf", "anyOf", "oneOf", "not", "const", "format", "dependentRequired",
	"deprecated", "example", "documentation",
};

static void jnode_free(struct jnode *n);
static void unlink_vinfo(struct catalog_jschema *s);

void catalog_jschema_free(struct catalog_jschema *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->npats; i++)
		regfree(&s->pats[i].re);
	st_free(s->pats);
	unlink_vinfo(s);
	st_free(s->vi);
	for (size_t i = 0; i < s->nmemo; i++)
		jnode_free(s->memo[i].node);
	st_free(s->memo);
	json_decref(s->root);
	json_decref(s->docs);
	st_free(s);
}

/* Checks keywords and compiles patterns of one schema object and everything below it. */
static int prepare(struct catalog_jschema *s, const json_t *node, struct st_error *err)
{
	const char *key;
	json_t *val;

	if (!json_is_object(node))
		return 0;
	if (st_grow(&s->vi, &s->vi_cap, s->nvi + 1, sizeof(*s->vi)))
		return st_error_oom(err);
	s->vi[s->nvi++] = (struct vinfo){.owner = node};
	json_object_foreach((json_t *)node, key, val)
	{
		size_t i;

		for (i = 0; i < sizeof(known) / sizeof(*known); i++)
			if (!strcmp(key, known[i]))
				break;
		if (i == sizeof(known) / sizeof(*known))
			return st_error_set(err, ST_E_SYSTEM,
					    "schema keyword '%s' is not supported", key);
		if (!strcmp(key, "pattern") && json_is_string(val)) {
			if (st_grow(&s->pats, &s->pats_cap, s->npats + 1, sizeof(*s->pats)))
				return st_error_oom(err);
			if (regcomp(&s->pats[s->npats].re, json_string_value(val),
				    REG_EXTENDED | REG_NOSUB))
				return st_error_set(err, ST_E_SYSTEM, "bad schema pattern '%s'",
						    json_string_value(val));
			s->pats[s->npats].min = s->pats[s->npats].max = 0;
			words_pattern(&s->pats[s->npats], json_string_value(val));
			s->pats[s->npats++].owner = node;
		} else if (!strcmp(key, "properties") || !strcmp(key, "definitions") ||
			   !strcmp(key, "$defs")) {
			const char *k2;
			json_t *v2;

			json_object_foreach(val, k2, v2)
			{
				if (prepare(s, v2, err))
					return -1;
			}
		} else if (!strcmp(key, "items") || !strcmp(key, "additionalProperties") ||
			   !strcmp(key, "not")) {
			if (prepare(s, val, err))
				return -1;
		} else if (!strcmp(key, "allOf") || !strcmp(key, "anyOf") || !strcmp(key, "oneOf")) {
			size_t i2;
			json_t *v2;

			json_array_foreach(val, i2, v2)
			{
				if (prepare(s, v2, err))
					return -1;
			}
		}
	}
	return 0;
}

static int cmp_vinfo(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)((const struct vinfo *)a)->owner;
	uintptr_t y = (uintptr_t)((const struct vinfo *)b)->owner;

	return x < y ? -1 : x > y;
}

/* The keywords of one schema object, looked up. */
static void fill_vinfo(const struct catalog_jschema *s, const json_t *schema, struct vinfo *vi)
{
	*vi = (struct vinfo){.owner = schema};
	vi->ref = json_string_value(json_object_get(schema, "$ref"));
	vi->type = json_object_get(schema, "type");
	vi->props = json_object_get(schema, "properties");
	vi->addl = json_object_get(schema, "additionalProperties");
	vi->req = json_object_get(schema, "required");
	vi->items = json_object_get(schema, "items");
	vi->min_items = json_object_get(schema, "minItems");
	vi->unique = json_object_get(schema, "uniqueItems");
	vi->enm = json_object_get(schema, "enum");
	vi->title = json_object_get(schema, "title");
	vi->min_length = json_object_get(schema, "minLength");
	vi->minimum = json_object_get(schema, "minimum");
	vi->maximum = json_object_get(schema, "maximum");
	vi->pat = 0;
	for (size_t i = 0; i < s->npats; i++)
		if (s->pats[i].owner == schema) {
			vi->pat = i + 1;
			break;
		}
}

enum { JT_OBJECT = 1, JT_ARRAY = 2, JT_STRING = 4, JT_INTEGER = 8, JT_NUMBER = 16,
       JT_BOOLEAN = 32, JT_NULL = 64 };

/* The JT_* bit of a type name (0 for NULL or a name no schema type has). */
static unsigned type_bit(const char *t)
{
	static const char *const names[] = {"object", "array", "string", "integer",
					    "number", "boolean", "null"};

	for (unsigned i = 0; i < sizeof(names) / sizeof(*names); i++)
		if (t && !strcmp(t, names[i]))
			return 1u << i;
	return 0;
}

/* The JT_* bits of the type names a node matches, as type_matches() tells them. */
static unsigned node_types(const struct catalog_ynode *n)
{
	if (n->type == CATALOG_Y_MAP)
		return JT_OBJECT;
	if (n->type == CATALOG_Y_SEQ)
		return JT_ARRAY;
	if (n->type != CATALOG_Y_SCALAR)
		return 0;
	switch (catalog_yscalar_kind(n)) {
	case CATALOG_YS_NULL:
		return JT_NULL;
	case CATALOG_YS_BOOL:
		return JT_STRING | JT_BOOLEAN;
	case CATALOG_YS_INT:
		return JT_STRING | JT_INTEGER | JT_NUMBER;
	case CATALOG_YS_FLOAT:
		return JT_STRING | JT_NUMBER;
	default:
		return JT_STRING;
	}
}

static uint32_t vhash(const char *p, size_t len)
{
	return (uint32_t)st_hash_fast(p, len); /* a schema's words: keys not the input's */
}

/* The entry of set for the len bytes at p, or NULL. */
static const struct vkey *vset_find(const struct vset *set, const char *p, size_t len)
{
	if (!set->n)
		return NULL;
	for (uint32_t h = vhash(p, len) & set->mask;; h = (h + 1) & set->mask) {
		uint32_t k = set->slots[h];
		const struct vkey *e;

		if (!k)
			return NULL;
		e = &set->keys[k - 1];
		if (e->len == len && !memcmp(e->s, p, len))
			return e;
	}
}

/* Adds s (its NUL-terminated text, which type checks and messages read) to set, which has
 * room for cap keys; a string already in it is kept the first time. */
static void vset_add(struct vset *set, const char *str, const struct vinfo *vi)
{
	size_t len = strlen(str);
	uint32_t h = vhash(str, len) & set->mask;

	if (vset_find(set, str, len))
		return;
	while (set->slots[h])
		h = (h + 1) & set->mask;
	set->keys[set->n] = (struct vkey){str, len, vi};
	set->slots[h] = (uint32_t)++set->n;
}

/* Makes room in set for n keys. */
static int vset_alloc(struct vset *set, size_t n)
{
	size_t slots = 8;

	while (slots < 2 * n)
		slots *= 2;
	set->keys = st_calloc(n ? n : 1, sizeof(*set->keys));
	set->slots = st_calloc(slots, sizeof(*set->slots));
	set->mask = (uint32_t)(slots - 1);
	return set->keys && set->slots ? 0 : -1;
}

static void vset_free(struct vset *set)
{
	st_free(set->keys);
	st_free(set->slots);
	memset(set, 0, sizeof(*set));
}

/* Drops what link_vinfo() made. */
static void unlink_vinfo(struct catalog_jschema *s)
{
	for (size_t i = 0; i < s->nvi; i++) {
		vset_free(&s->vi[i].propset);
		vset_free(&s->vi[i].enumset);
	}
}

static const json_t *resolve(const struct catalog_jschema *s, const json_t *schema);

/* What a schema object accepts that the index does not hold, or that is not an object
 * (true, or a list of items): everything, as validate() with all keywords absent. */
static const struct vinfo accept_all;

/* The indexed vinfo of schema with its $ref followed, as validate() goes to it; NULL when
 * the reference leads nowhere. */
static const struct vinfo *linked(const struct catalog_jschema *s, const json_t *schema)
{
	struct vinfo key;
	const struct vinfo *vi;

	schema = resolve(s, schema);
	if (!schema)
		return NULL;
	key.owner = schema;
	vi = s->nvi ? bsearch(&key, s->vi, s->nvi, sizeof(*s->vi), cmp_vinfo) : NULL;
	return vi ? vi : &accept_all;
}

/* Links one indexed schema object (the index sorted). */
static int link_vinfo(struct catalog_jschema *s, struct vinfo *vi)
{
	const char *key;
	json_t *val;
	size_t i;

	vi->items_to = vi->items ? linked(s, vi->items) : NULL;
	vi->addl_to = json_is_object(vi->addl) ? linked(s, vi->addl) : NULL;
	if (json_is_string(vi->type)) {
		vi->types = type_bit(json_string_value(vi->type));
	} else {
		json_array_foreach(vi->type, i, val)
		{
			if (json_is_string(val))
				vi->types |= type_bit(json_string_value(val));
		}
	}
	if (json_is_object(vi->props)) {
		if (vset_alloc(&vi->propset, json_object_size(vi->props)))
			return -1;
		json_object_foreach((json_t *)vi->props, key, val)
		{
			vset_add(&vi->propset, key, linked(s, val));
		}
	}
	if (json_is_array(vi->enm)) {
		if (vset_alloc(&vi->enumset, json_array_size(vi->enm)))
			return -1;
		json_array_foreach(vi->enm, i, val)
		{
			if (json_is_string(val))
				vset_add(&vi->enumset, json_string_value(val), NULL);
		}
	}
	return 0;
}

/* Fills, sorts and links s->vi once every document is prepared (patterns included). */
static int index_vinfo(struct catalog_jschema *s, struct st_error *err)
{
	unlink_vinfo(s);
	for (size_t i = 0; i < s->nvi; i++)
		fill_vinfo(s, s->vi[i].owner, &s->vi[i]);
	if (s->nvi)
		qsort(s->vi, s->nvi, sizeof(*s->vi), cmp_vinfo);
	for (size_t i = 0; i < s->nvi; i++)
		if (link_vinfo(s, &s->vi[i]))
			return st_error_oom(err);
	return 0;
}

int catalog_jschema_load(struct catalog_jschema **out, const char *text, size_t len,
			 struct st_error *err)
{
	struct catalog_jschema *s = st_calloc(1, sizeof(*s));
	json_error_t jerr;
	int ret = -1;

	if (!s)
		return st_error_oom(err);
	s->root = json_loadb(text, len, 0, &jerr);
	if (!s->root) {
		st_error_set(err, ST_E_SYSTEM, "embedded schema: %d:%d: %s", jerr.line, jerr.column,
			     jerr.text);
		goto out;
	}
	if (prepare(s, s->root, err) || index_vinfo(s, err))
		goto out;
	*out = s;
	s = NULL;
	ret = 0;
out:
	catalog_jschema_free(s);
	return ret;
}

int catalog_jschema_add(struct catalog_jschema *s, const char *name, const char *text,
			size_t len, struct st_error *err)
{
	json_error_t jerr;
	json_t *doc;

	if (!s->docs && !(s->docs = json_object()))
		return st_error_oom(err);
	doc = json_loadb(text, len, 0, &jerr);
	if (!doc)
		return st_error_set(err, ST_E_SYSTEM, "embedded schema '%s': %d:%d: %s", name,
				    jerr.line, jerr.column, jerr.text);
	if (json_object_set_new(s->docs, name, doc))
		return st_error_oom(err);
	if (prepare(s, doc, err))
		return -1;
	return index_vinfo(s, err);
}

static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), prev[64], cur[64];

	if (la >= 63 || lb >= 63)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1;

			cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
		}
		memcpy(prev, cur, sizeof(cur));
	}
	return prev[lb];
}

const char *catalog_suggest(const char *word, const char *const *cands, size_t n)
{
	const char *best = NULL;
	size_t bestd = 3;

	for (size_t i = 0; i < n; i++) {
		size_t d = edit_distance(word, cands[i]);

		if (d < bestd) {
			bestd = d;
			best = cands[i];
		}
	}
	return best;
}

struct vctx {
	const struct catalog_jschema *s;
	const char *file;
	struct st_diags *diags;
	int errors;
	int oom;
};

static void report(struct vctx *v, const struct catalog_ynode *at, const char *fmt, ...)
	ST_PRINTF(3, 4);

static void report(struct vctx *v, const struct catalog_ynode *at, const char *fmt, ...)
{
	char msg[900];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	v->errors++;
	if (st_diags_add(v->diags, ST_SEV_ERROR, v->file, at->line, at->col, "%s", msg))
		v->oom = 1;
}

/* The looked-up keywords of schema: from the index, or (for an object the index does not
 * hold) looked up now into *tmp. */
static const struct vinfo *vinfo_of(const struct catalog_jschema *s, const json_t *schema,
				    struct vinfo *tmp)
{
	struct vinfo key = {.owner = schema};
	const struct vinfo *vi = s->nvi ? bsearch(&key, s->vi, s->nvi, sizeof(*s->vi), cmp_vinfo)
					: NULL;

	if (vi)
		return vi;
	fill_vinfo(s, schema, tmp);
	return tmp;
}

static const json_t *resolve(const struct catalog_jschema *s, const json_t *schema)
{
	for (int hops = 0; hops < 16 && json_is_object(schema); hops++) {
		struct vinfo tmp;
		const char *ref = vinfo_of(s, schema, &tmp)->ref;

		if (!ref)
			return schema;
		if (strncmp(ref, "#/definitions/", 14))
			return NULL;
		schema = json_object_get(json_object_get(s->root, "definitions"), ref + 14);
	}
	return schema;
}

static int type_matches(const char *t, const struct catalog_ynode *n)
{
	int k = n->type == CATALOG_Y_SCALAR ? catalog_yscalar_kind(n) : -1;

	/* The first letter picks the one name to compare (this runs for every node). */
	switch (t[0]) {
	case 'o':
		return !strcmp(t, "object") && n->type == CATALOG_Y_MAP;
	case 'a':
		return !strcmp(t, "array") && n->type == CATALOG_Y_SEQ;
	case 's':
		return !strcmp(t, "string") && n->type == CATALOG_Y_SCALAR && k != CATALOG_YS_NULL;
	case 'i':
		return !strcmp(t, "integer") && k == CATALOG_YS_INT;
	case 'b':
		return !strcmp(t, "boolean") && k == CATALOG_YS_BOOL;
	case 'n':
		if (!strcmp(t, "number"))
			return k == CATALOG_YS_INT || k == CATALOG_YS_FLOAT;
		return !strcmp(t, "null") && k == CATALOG_YS_NULL;
	default:
		return 0;
	}
}

static const char *type_words(const char *t)
{
	if (!strcmp(t, "object"))
		return "a mapping";
	if (!strcmp(t, "array"))
		return "a list";
	if (!strcmp(t, "integer"))
		return "an integer";
	if (!strcmp(t, "number"))
		return "a number";
	if (!strcmp(t, "boolean"))
		return "true or false";
	if (!strcmp(t, "null"))
		return "empty";
	return "a string";
}

/* How messages name the node under key: made only when a message needs it. */
static const char *what_of(char what[160], const char *key)
{
	if (key)
		snprintf(what, 160, "'%s'", key);
	else
		snprintf(what, 160, "the document");
	return what;
}

/* Returns 1 if the node has an acceptable type, else reports and returns 0. */
static int check_type(struct vctx *v, const struct vinfo *vi, const struct catalog_ynode *n,
		      const char *key)
{
	char what[160];
	const json_t *type = vi->type;
	size_t i;
	json_t *t;

	if (!type)
		return 1;
	if (json_is_string(type)) {
		if (type_matches(json_string_value(type), n))
			return 1;
		report(v, n, "%s must be %s", what_of(what, key),
		       type_words(json_string_value(type)));
		return 0;
	}
	json_array_foreach(type, i, t)
	{
		if (json_is_string(t) && type_matches(json_string_value(t), n))
			return 1;
	}
	report(v, n, "%s has the wrong type", what_of(what, key));
	return 0;
}

static void check_enum(struct vctx *v, const json_t *en, const struct catalog_ynode *n,
		       const char *key)
{
	const char *cands[256];
	struct st_buf list;
	size_t i, nc = 0;
	json_t *e;

	json_array_foreach(en, i, e)
	{
		if (json_is_string(e) && json_string_value(e)[0] == n->value[0] &&
		    !strcmp(json_string_value(e), n->value))
			return;
		if (json_is_string(e) && nc < 256)
			cands[nc++] = json_string_value(e);
	}
	const char *hint = catalog_suggest(n->value, cands, nc);

	if (hint) {
		report(v, n, "unknown %s '%s' (did you mean '%s'?)", key, n->value, hint);
		return;
	}
	if (nc > 12) {
		report(v, n, "unknown %s '%s'", key, n->value);
		return;
	}
	st_buf_init(&list, 800);
	for (i = 0; i < nc; i++)
		if (st_buf_addf(&list, "%s%s", i ? ", " : "", cands[i]))
			break;
	report(v, n, "unknown %s '%s' (expected one of: %s)", key, n->value, st_buf_str(&list));
	st_buf_release(&list);
}

static void validate(struct vctx *v, const struct vinfo *vi, const struct catalog_ynode *n,
		     const char *key);

static void validate_map(struct vctx *v, const struct vinfo *vi, const struct catalog_ynode *n)
{
	const json_t *props = vi->props;
	const json_t *addl = vi->addl;
	size_t i;
	json_t *r;

	for (i = 0; i < n->n; i++) {
		const struct catalog_ynode *k = n->kids[2 * i];
		const struct vkey *sub;

		if (k->type != CATALOG_Y_SCALAR)
			continue; /* the composer reported it */
		/* strlen(): a key is looked up to its first NUL, as jansson did */
		sub = vset_find(&vi->propset, k->value, strlen(k->value));
		if (sub) {
			if (sub->vi)
				validate(v, sub->vi, n->kids[2 * i + 1], k->value);
		} else if (json_is_false(addl)) {
			const char *cands[64];
			size_t nc = 0;
			const char *pk;
			json_t *pv;

			json_object_foreach((json_t *)props, pk, pv)
			{
				if (nc < 64)
					cands[nc++] = pk;
			}
			const char *hint = catalog_suggest(k->value, cands, nc);

			if (hint)
				report(v, k, "unknown key '%s' (did you mean '%s'?)", k->value, hint);
			else
				report(v, k, "unknown key '%s'", k->value);
		} else if (vi->addl_to) {
			validate(v, vi->addl_to, n->kids[2 * i + 1], k->value);
		}
	}
	json_array_foreach(vi->req, i, r)
	{
		const char *rk = json_string_value(r);
		const struct catalog_ynode *name;

		if (!rk || catalog_ymap_get(n, rk))
			continue;
		name = catalog_ymap_get(n, "name");
		if (name && name->type == CATALOG_Y_SCALAR && strcmp(rk, "name"))
			report(v, n, "'%s' is missing required key '%s'", name->value, rk);
		else
			report(v, n, "missing required key '%s'", rk);
	}
}

/* Validates n against vi, a schema with its $ref followed (linked()). */
static void validate(struct vctx *v, const struct vinfo *vi, const struct catalog_ynode *n,
		     const char *key)
{
	char what[160];
	const json_t *j;

	if (v->oom)
		return;
	if (vi->type && !(vi->types & node_types(n)) && !check_type(v, vi, n, key))
		return;
	if (n->type == CATALOG_Y_MAP) {
		validate_map(v, vi, n);
	} else if (n->type == CATALOG_Y_SEQ) {
		j = vi->min_items;
		if (json_is_integer(j) && (json_int_t)n->n < json_integer_value(j))
			report(v, n, "%s needs at least %lld items", what_of(what, key),
			       (long long)json_integer_value(j));
		for (size_t i = 0; vi->items_to && i < n->n; i++)
			validate(v, vi->items_to, n->kids[i], key);
		if (json_is_true(vi->unique))
			for (size_t i = 0; i < n->n; i++)
				for (size_t k = 0; k < i; k++)
					if (n->kids[i]->type == CATALOG_Y_SCALAR &&
					    n->kids[k]->type == CATALOG_Y_SCALAR &&
					    !strcmp(n->kids[i]->value, n->kids[k]->value)) {
						report(v, n->kids[i], "%s lists '%s' twice",
						       what_of(what, key), n->kids[i]->value);
						break;
					}
	} else {
		const struct pattern *p;

		/* strlen(): enum strings are compared up to the value's first NUL */
		if (json_is_array(vi->enm) &&
		    !vset_find(&vi->enumset, n->value, strlen(n->value)))
			check_enum(v, vi->enm, n, key ? key : "value");
		p = vi->pat ? &v->s->pats[vi->pat - 1] : NULL;
		if (p && !pattern_matches(p, n->value)) {
			const char *title = json_string_value(vi->title);

			if (title)
				report(v, n, "invalid %s '%s' (expected %s)", key ? key : "value",
				       n->value, title);
			else
				report(v, n, "invalid %s '%s'", key ? key : "value", n->value);
		}
		j = vi->min_length;
		if (json_is_integer(j) && (json_int_t)n->len < json_integer_value(j))
			report(v, n, "%s is too short", what_of(what, key));
		j = vi->minimum;
		if (json_is_number(j) && strtod(n->value, NULL) < json_number_value(j))
			report(v, n, "%s must be at least %g", what_of(what, key),
			       json_number_value(j));
		j = vi->maximum;
		if (json_is_number(j) && strtod(n->value, NULL) > json_number_value(j))
			report(v, n, "%s must be at most %g", what_of(what, key),
			       json_number_value(j));
	}
}

int catalog_jschema_validate(const struct catalog_jschema *s, const struct catalog_ynode *doc,
			     const char *file, struct st_diags *diags)
{
	struct vctx v = {s, file, diags, 0, 0};
	const struct vinfo *root = linked(s, s->root);

	if (root)
		validate(&v, root, doc, NULL);
	return v.oom ? -1 : v.errors;
}

/* ---- compiled validation of JSON documents ---- */

enum { FMT_NONE, FMT_URI, FMT_DATETIME, FMT_UUID };

/* One schema object with its keywords looked up once. */
struct jnode {
	const json_t *src;
	unsigned types; /* 0: any */
	const json_t *enm, *cnst, *required, *depreq;
	int fmt;
	int has_min, has_max, addl_false, unique;
	double min, max;
	json_int_t min_items, min_length;
	const regex_t *re;
	const char *title;
	struct jnode *ref, *not, *addl, *items;
	struct jnode **all, **any, **one;
	size_t nall, nany, none;
	const char **pkeys;
	size_t *plens;
	struct jnode **pvals;
	size_t nprops;
};

/* The schema a validation runs in: the set, and the document a relative $ref is in. */
struct jdoc {
	struct catalog_jschema *s;
	const json_t *doc;
};

static void jnode_free(struct jnode *n)
{
	if (!n)
		return;
	st_free(n->all);
	st_free(n->any);
	st_free(n->one);
	st_free(n->pkeys);
	st_free(n->plens);
	st_free(n->pvals);
	st_free(n);
}

/* Follows a JSON pointer ("/$defs/Run") from doc. */
static const json_t *pointer(const json_t *doc, const char *ptr)
{
	char seg[256];

	while (doc && *ptr == '/') {
		size_t n = 0;

		ptr++;
		while (*ptr && *ptr != '/' && n < sizeof(seg) - 1) {
			if (ptr[0] == '~' && (ptr[1] == '0' || ptr[1] == '1')) {
				seg[n++] = ptr[1] == '0' ? '~' : '/';
				ptr += 2;
			} else {
				seg[n++] = *ptr++;
			}
		}
		seg[n] = '\0';
		if (json_is_array(doc))
			doc = json_array_get(doc, strtoul(seg, NULL, 10));
		else
			doc = json_object_get(doc, seg);
	}
	return *ptr ? NULL : doc;
}

/* Resolves ref against the document at: "#/pointer" in it, or "URL/FILE#/pointer" in the
 * document named FILE (the last path element before '#'), or "FILE" alone. */
static const json_t *resolve_ref(const struct catalog_jschema *s, const json_t *at,
				 const char *ref, const json_t **doc)
{
	const char *hash = strchr(ref, '#');
	size_t len = hash ? (size_t)(hash - ref) : strlen(ref);
	const char *slash;
	char file[256];

	if (len) {
		for (slash = ref + len; slash > ref && slash[-1] != '/'; slash--)
			;
		len = (size_t)(ref + len - slash);
		if (len >= sizeof(file))
			return NULL;
		memcpy(file, slash, len);
		file[len] = '\0';
		at = json_object_get(s->docs, file);
		if (!at) {
			/* The root document, by the last element of its $id. */
			const char *id = json_string_value(json_object_get(s->root, "$id"));
			size_t il = id ? strlen(id) : 0;

			if (il <= len || strcmp(id + il - len, file) || id[il - len - 1] != '/')
				return NULL;
			at = s->root;
		}
	}
	*doc = at;
	return hash ? pointer(at, hash + 1) : at;
}

static struct jnode *compile(struct jdoc *d, const json_t *schema, struct st_error *err);

static int compile_list(struct jdoc *d, const json_t *arr, struct jnode ***out, size_t *n,
			struct st_error *err)
{
	size_t i;
	json_t *v;

	if (!json_is_array(arr) || !json_array_size(arr))
		return 0;
	if (!(*out = st_calloc(json_array_size(arr), sizeof(**out))))
		return st_error_oom(err);
	json_array_foreach(arr, i, v)
	{
		if (!((*out)[i] = compile(d, v, err)))
			return -1;
	}
	*n = json_array_size(arr);
	return 0;
}

/* Compiles one schema object (once: the memo also ends recursion through $ref). */
static struct jnode *compile(struct jdoc *d, const json_t *schema, struct st_error *err)
{
	struct catalog_jschema *s = d->s;
	struct jnode *n;
	const json_t *j;
	const char *ref, *k;
	json_t *v;

	for (size_t i = 0; i < s->nmemo; i++)
		if (s->memo[i].src == schema)
			return s->memo[i].node;
	if (!json_is_object(schema) && !json_is_true(schema)) {
		st_error_set(err, ST_E_SYSTEM, "schema is not an object");
		return NULL;
	}
	if (st_grow(&s->memo, &s->memo_cap, s->nmemo + 1, sizeof(*s->memo)) ||
	    !(n = st_calloc(1, sizeof(*n)))) {
		st_error_oom(err);
		return NULL;
	}
	n->src = schema;
	s->memo[s->nmemo].src = schema;
	s->memo[s->nmemo++].node = n;
	if (!json_is_object(schema))
		return n;
	j = json_object_get(schema, "type");
	if (json_is_string(j))
		n->types = type_bit(json_string_value(j));
	for (size_t i = 0; json_is_array(j) && i < json_array_size(j); i++)
		n->types |= type_bit(json_string_value(json_array_get(j, i)));
	n->enm = json_object_get(schema, "enum");
	n->cnst = json_object_get(schema, "const");
	n->required = json_object_get(schema, "required");
	n->depreq = json_object_get(schema, "dependentRequired");
	n->title = json_string_value(json_object_get(schema, "title"));
	if ((k = json_string_value(json_object_get(schema, "format")))) {
		if (!strcmp(k, "uri"))
			n->fmt = FMT_URI;
		else if (!strcmp(k, "date-time"))
			n->fmt = FMT_DATETIME;
		else if (!strcmp(k, "uuid"))
			n->fmt = FMT_UUID;
	}
	if ((j = json_object_get(schema, "minimum")) && json_is_number(j)) {
		n->has_min = 1;
		n->min = json_number_value(j);
	}
	if ((j = json_object_get(schema, "maximum")) && json_is_number(j)) {
		n->has_max = 1;
		n->max = json_number_value(j);
	}
	n->min_items = json_integer_value(json_object_get(schema, "minItems"));
	n->min_length = json_integer_value(json_object_get(schema, "minLength"));
	n->unique = json_is_true(json_object_get(schema, "uniqueItems"));
	for (size_t i = 0; i < s->npats; i++)
		if (s->pats[i].owner == schema)
			n->re = &s->pats[i].re;
	if ((ref = json_string_value(json_object_get(schema, "$ref")))) {
		struct jdoc there = *d;
		const json_t *target = resolve_ref(s, d->doc, ref, &there.doc);

		if (!target) {
			st_error_set(err, ST_E_SYSTEM, "schema reference '%s' does not resolve", ref);
			return NULL;
		}
		if (!(n->ref = compile(&there, target, err)))
			return NULL;
	}
	if (compile_list(d, json_object_get(schema, "allOf"), &n->all, &n->nall, err) ||
	    compile_list(d, json_object_get(schema, "anyOf"), &n->any, &n->nany, err) ||
	    compile_list(d, json_object_get(schema, "oneOf"), &n->one, &n->none, err))
		return NULL;
	if ((j = json_object_get(schema, "not")) && !(n->not = compile(d, j, err)))
		return NULL;
	if ((j = json_object_get(schema, "items")) && !(n->items = compile(d, j, err)))
		return NULL;
	j = json_object_get(schema, "additionalProperties");
	n->addl_false = json_is_false(j);
	if (json_is_object(j) && !(n->addl = compile(d, j, err)))
		return NULL;
	j = json_object_get(schema, "properties");
	if (json_is_object(j) && json_object_size(j)) {
		size_t np = json_object_size(j), i = 0;

		n->pkeys = st_calloc(np, sizeof(*n->pkeys));
		n->plens = st_calloc(np, sizeof(*n->plens));
		n->pvals = st_calloc(np, sizeof(*n->pvals));
		if (!n->pkeys || !n->plens || !n->pvals) {
			st_error_oom(err);
			return NULL;
		}
		json_object_foreach((json_t *)j, k, v)
		{
			n->pkeys[i] = k;
			n->plens[i] = strlen(k);
			if (!(n->pvals[i++] = compile(d, v, err)))
				return NULL;
		}
		n->nprops = np;
	}
	return n;
}

int catalog_jschema_compile(struct catalog_jschema *s, const char *ref,
			    const struct catalog_jschema_node **out, struct st_error *err)
{
	struct jdoc d = {s, s->root};
	const json_t *target = resolve_ref(s, s->root, ref, &d.doc);
	struct jnode *n;

	if (!target)
		return st_error_set(err, ST_E_SYSTEM, "schema reference '%s' does not resolve", ref);
	if (!(n = compile(&d, target, err)))
		return -1;
	*out = (const struct catalog_jschema_node *)n;
	return 0;
}

/* ---- formats ---- */

static int is_hexdigit(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* The characters a URI may hold after its scheme (RFC 3986: unreserved, reserved and '%'),
 * by ASCII code: '1' for each. A table: URIs are most of what an event's facets hold. */
static const char uri_chars[129] =
	"00000000000000000000000000000000"
	"01011111111111111111111111110101"
	"11111111111111111111111111110101"
	"01111111111111111111111111100010";

static int uri_char(unsigned char c)
{
	return c < 128 && uri_chars[c] == '1';
}

/* An absolute URI (RFC 3986): a scheme, ':', then only characters a URI may hold, with '%'
 * followed by two hex digits. */
static int is_uri(const char *t)
{
	const char *p = t;

	if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')))
		return 0;
	while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
	       *p == '+' || *p == '-' || *p == '.')
		p++;
	if (*p++ != ':')
		return 0;
	for (; *p; p++) {
		if (!uri_char((unsigned char)*p))
			return 0;
		if (*p == '%') {
			if (!is_hexdigit(p[1]) || !is_hexdigit(p[2]))
				return 0;
			p += 2;
		}
	}
	return 1;
}

static int digits(const char *p, int n, int *out)
{
	*out = 0;
	for (int i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return 0;
		*out = *out * 10 + (p[i] - '0');
	}
	return 1;
}

/* An RFC 3339 date-time: 2020-12-28T19:51:01.641Z, or with an offset such as +02:00. */
static int is_datetime(const char *p)
{
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int y, mo, d, h, mi, s, oh, om;

	if (!digits(p, 4, &y) || p[4] != '-' || !digits(p + 5, 2, &mo) || p[7] != '-' ||
	    !digits(p + 8, 2, &d) || (p[10] != 'T' && p[10] != 't') || !digits(p + 11, 2, &h) ||
	    p[13] != ':' || !digits(p + 14, 2, &mi) || p[16] != ':' || !digits(p + 17, 2, &s))
		return 0;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
	    (mo == 2 && d == 29 && (y % 4 || (y % 100 == 0 && y % 400))) || h > 23 || mi > 59 ||
	    s > 60)
		return 0;
	p += 19;
	if (*p == '.') {
		if (*++p < '0' || *p > '9')
			return 0;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if ((*p == 'Z' || *p == 'z') && !p[1])
		return 1;
	return (*p == '+' || *p == '-') && digits(p + 1, 2, &oh) && p[3] == ':' &&
	       digits(p + 4, 2, &om) && !p[6] && oh < 24 && om < 60;
}

static int is_uuid(const char *p)
{
	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (p[i] != '-')
				return 0;
		} else if (!is_hexdigit(p[i])) {
			return 0;
		}
	}
	return !p[36];
}

/* ---- the walk ---- */

/* The walk reads the document off a tape (common/json.h) as the import parsed it: no tree
 * is built. Numbers read as jansson reads them: a number without fraction or exponent is an
 * integer, any other one a real. */

#define JPATH_MAX 48

/* A walk: the document, the path to the node being checked, and the first problem found. */
struct jwalk {
	const char *buf;
	const struct st_jtape *t;
	const char *key[JPATH_MAX]; /* the raw bytes of each step's key; NULL: an array index */
	uint32_t klen[JPATH_MAX];
	uint8_t kesc[JPATH_MAX];    /* the key has escapes */
	size_t idx[JPATH_MAX];
	int depth;
	int quiet;     /* only whether and how deep: the choices of a oneOf are tried so */
	char msg[600];
	int msg_depth; /* the path depth of the problem: deeper is more specific */
};

static void path_text(const struct jwalk *w, char *out, size_t n)
{
	size_t len = 0;

	out[0] = '\0';
	for (int i = 0; i < w->depth && len < n; i++) {
		const char *k = w->key[i];
		size_t kl = w->klen[i];
		char *plain = NULL;
		int r;

		if (k && w->kesc[i]) {
			if (!(plain = st_malloc(kl + 1)))
				break;
			kl = st_json_unescape(k, kl, plain);
			k = plain;
		}
		r = k ? snprintf(out + len, n - len, "%s%.*s", i ? "." : "", (int)kl, k)
		      : snprintf(out + len, n - len, "[%zu]", w->idx[i]);
		st_free(plain);
		if (r < 0)
			break;
		len += (size_t)r;
	}
}

static int jfail(struct jwalk *w, const char *fmt, ...) ST_PRINTF(2, 3);

/* Records the problem and where it is; returns 1. */
static int jfail(struct jwalk *w, const char *fmt, ...)
{
	va_list ap;

	w->msg_depth = w->depth;
	if (w->quiet)
		return 1;
	va_start(ap, fmt);
	vsnprintf(w->msg, sizeof(w->msg), fmt, ap);
	va_end(ap);
	return 1;
}

/* The subject of a message: 'path', or "the document" at the top. */
static const char *subject(const struct jwalk *w, char *buf, size_t n)
{
	char p[400];

	if (w->quiet)
		return "";
	if (!w->depth)
		return "the document";
	path_text(w, p, sizeof(p));
	snprintf(buf, n, "'%s'", p);
	return buf;
}

static const char *jtype_words(unsigned t)
{
	switch (t) {
	case JT_OBJECT: return "an object";
	case JT_ARRAY: return "an array";
	case JT_INTEGER: return "an integer";
	case JT_NUMBER: return "a number";
	case JT_BOOLEAN: return "true or false";
	case JT_NULL: return "null";
	default: return "a string";
	}
}

/* Whether number node n is written as an integer (no fraction, no exponent). */
static int num_is_int(const char *buf, const struct st_jnode *n)
{
	for (uint32_t i = n->start; i < n->end; i++)
		if (buf[i] == '.' || buf[i] == 'e' || buf[i] == 'E')
			return 0;
	return 1;
}

/* The value of number node n (0 when it does not convert: the caller's parse rules it out). */
static double num_value(const char *buf, const struct st_jnode *n)
{
	int64_t i;
	double d;

	if (num_is_int(buf, n))
		return st_json_int(buf, n, &i) ? 0 : (double)i;
	return st_json_double(buf, n, &d) ? 0 : d;
}

static unsigned jtype_of(const struct jwalk *w, uint32_t x)
{
	const struct st_jnode *n = &w->t->v[x];

	switch (n->type) {
	case ST_J_OBJ: return JT_OBJECT;
	case ST_J_ARR: return JT_ARRAY;
	case ST_J_STR: return JT_STRING;
	case ST_J_NUM: {
		double v;

		if (num_is_int(w->buf, n))
			return JT_INTEGER | JT_NUMBER;
		v = num_value(w->buf, n);
		return JT_NUMBER | (v == (double)(json_int_t)v ? JT_INTEGER : 0);
	}
	case ST_J_TRUE:
	case ST_J_FALSE: return JT_BOOLEAN;
	default: return JT_NULL;
	}
}

/* A schema value quoted for a message, cut at 60 bytes. */
static const char *quoted_schema(const json_t *x, char *buf, size_t n)
{
	const char *t = json_string_value(x);

	if (!t)
		return "a value of another type";
	snprintf(buf, n, "'%.60s%s'", t, strlen(t) > 60 ? "..." : "");
	return buf;
}

/* A document value quoted the same way. */
static const char *quoted(const struct jwalk *w, uint32_t x, char *buf, size_t n)
{
	char *t;

	if (w->quiet)
		return "";
	if (w->t->v[x].type != ST_J_STR)
		return "a value of another type";
	if (!(t = st_json_strdup(w->buf, &w->t->v[x], NULL, NULL)))
		return "a value (out of memory)";
	snprintf(buf, n, "'%.60s%s'", t, strlen(t) > 60 ? "..." : "");
	st_free(t);
	return buf;
}

/* Whether schema value a equals document value x, as json_equal() compares. */
static int equal_sd(const json_t *a, const char *buf, const struct st_jtape *t, uint32_t x)
{
	const struct st_jnode *n = &t->v[x];

	switch (json_typeof(a)) {
	case JSON_OBJECT: {
		const char *k;
		json_t *v;

		if (n->type != ST_J_OBJ || json_object_size(a) != n->count)
			return 0;
		json_object_foreach((json_t *)a, k, v)
		{
			uint32_t m = st_json_get(buf, t, x, k);

			if (!m || !equal_sd(v, buf, t, m))
				return 0;
		}
		return 1;
	}
	case JSON_ARRAY: {
		size_t i = 0;

		if (n->type != ST_J_ARR || json_array_size(a) != n->count)
			return 0;
		for (uint32_t m = st_json_first(t, x); m; m = st_json_next(t, m))
			if (!equal_sd(json_array_get(a, i++), buf, t, m))
				return 0;
		return 1;
	}
	case JSON_STRING:
		return st_json_str_is(buf, n, json_string_value(a), json_string_length(a));
	case JSON_INTEGER: {
		int64_t v;

		return n->type == ST_J_NUM && num_is_int(buf, n) && !st_json_int(buf, n, &v) &&
		       v == json_integer_value(a);
	}
	case JSON_REAL: {
		double d;

		return n->type == ST_J_NUM && !num_is_int(buf, n) && !st_json_double(buf, n, &d) &&
		       d == json_real_value(a);
	}
	case JSON_TRUE: return n->type == ST_J_TRUE;
	case JSON_FALSE: return n->type == ST_J_FALSE;
	default: return n->type == ST_J_NULL;
	}
}

/* Whether document values a and b are equal, the same way (out of memory: not equal). */
static int equal_dd(const char *buf, const struct st_jtape *t, uint32_t a, uint32_t b)
{
	const struct st_jnode *na = &t->v[a], *nb = &t->v[b];

	if (na->type != nb->type)
		return 0;
	switch (na->type) {
	case ST_J_OBJ:
		if (na->count != nb->count)
			return 0;
		for (uint32_t m = st_json_first(t, a); m; m = st_json_next(t, m)) {
			char *k = st_json_keydup(buf, &t->v[m], NULL, NULL);
			uint32_t o = k ? st_json_get(buf, t, b, k) : 0;

			st_free(k);
			if (!o || !equal_dd(buf, t, m, o))
				return 0;
		}
		return 1;
	case ST_J_ARR:
		if (na->count != nb->count)
			return 0;
		for (uint32_t m = st_json_first(t, a), o = st_json_first(t, b); m;
		     m = st_json_next(t, m), o = st_json_next(t, o))
			if (!equal_dd(buf, t, m, o))
				return 0;
		return 1;
	case ST_J_STR: {
		char *s;
		size_t len;
		int eq;

		if (!(s = st_json_strdup(buf, na, &len, NULL)))
			return 0;
		eq = st_json_str_is(buf, nb, s, len);
		st_free(s);
		return eq;
	}
	case ST_J_NUM: {
		int64_t i, j;
		double d, e;

		if (num_is_int(buf, na) != num_is_int(buf, nb))
			return 0;
		if (num_is_int(buf, na))
			return !st_json_int(buf, na, &i) && !st_json_int(buf, nb, &j) && i == j;
		return !st_json_double(buf, na, &d) && !st_json_double(buf, nb, &e) && d == e;
	}
	default:
		return 1;
	}
}

/* A string value as a C string: in small (n bytes) when it fits, else in a new buffer
 * (*heap, to be freed); its decoded length in *len. NULL when out of memory. */
static const char *str_of(const struct jwalk *w, uint32_t x, char *small, size_t n,
			  char **heap, size_t *len)
{
	const struct st_jnode *v = &w->t->v[x];
	size_t raw = v->end - v->start - 2;
	char *out = small;

	*heap = NULL;
	if (raw + 1 > n && !(out = *heap = st_malloc(raw + 1)))
		return NULL;
	if (v->escaped) {
		*len = st_json_unescape(w->buf + v->start + 1, raw, out);
	} else {
		memcpy(out, w->buf + v->start + 1, raw);
		out[raw] = '\0';
		*len = raw;
	}
	return out;
}

static int jcheck(struct jwalk *w, const struct jnode *n, uint32_t x);

static int check_enum_json(struct jwalk *w, const struct jnode *n, uint32_t x)
{
	const char *cands[64], *hint;
	char sub[420], list[400] = "", val[80], *t = NULL;
	size_t i, nc = 0, len = 0;
	json_t *e;
	int r;

	json_array_foreach(n->enm, i, e)
	{
		if (equal_sd(e, w->buf, w->t, x))
			return 0;
		if (json_is_string(e) && nc < 64)
			cands[nc++] = json_string_value(e);
	}
	if (w->quiet)
		return jfail(w, "?");
	subject(w, sub, sizeof(sub));
	if (w->t->v[x].type == ST_J_STR)
		t = st_json_strdup(w->buf, &w->t->v[x], NULL, NULL);
	hint = t ? catalog_suggest(t, cands, nc) : NULL;
	st_free(t);
	if (hint)
		return jfail(w, "%s is %s (did you mean '%s'?)", sub, quoted(w, x, val, sizeof(val)),
			     hint);
	for (i = 0; i < nc && len < sizeof(list); i++) {
		r = snprintf(list + len, sizeof(list) - len, "%s%s", i ? ", " : "", cands[i]);
		if (r < 0)
			break;
		len += (size_t)r;
	}
	return jfail(w, "%s is %s, not one of %s", sub, quoted(w, x, val, sizeof(val)), list);
}

/* Whether member node m's key is key (len bytes): inline for the common unescaped key. */
static inline int key_eq(const char *buf, const struct st_jnode *m, const char *key, size_t len)
{
	if (!m->key_escaped)
		return m->key_end - m->key_start == len && (!len || (buf[m->key_start] == key[0] &&
					!memcmp(buf + m->key_start, key, len)));
	return st_json_key_is(buf, m, key, len);
}

/* Whether object x has a member key. */
static int has_key(const struct jwalk *w, uint32_t x, const char *key)
{
	size_t len = strlen(key);

	for (uint32_t m = st_json_first(w->t, x); m; m = st_json_next(w->t, m))
		if (key_eq(w->buf, &w->t->v[m], key, len))
			return 1;
	return 0;
}

/* Member key of node m, unescaped, for a message (freed by the caller); NULL on no memory. */
static char *key_text(const struct jwalk *w, uint32_t m)
{
	return st_json_keydup(w->buf, &w->t->v[m], NULL, NULL);
}

/* The required and dependentRequired keys of n on object x. */
static int check_required(struct jwalk *w, const struct jnode *n, uint32_t x)
{
	char sub[420];
	const char *k;
	json_t *v;
	size_t i;

	json_array_foreach(n->required, i, v)
	{
		const char *rk = json_string_value(v);

		if (rk && !has_key(w, x, rk)) {
			if (!w->depth)
				return jfail(w, "missing required key '%s'", rk);
			return jfail(w, "%s is missing required key '%s'", subject(w, sub, sizeof(sub)),
				     rk);
		}
	}
	if (n->depreq)
		json_object_foreach((json_t *)n->depreq, k, v)
		{
			size_t j;
			json_t *dep;

			if (!has_key(w, x, k))
				continue;
			json_array_foreach(v, j, dep)
			{
				const char *dk = json_string_value(dep);

				if (dk && !has_key(w, x, dk))
					return jfail(w, "%s has '%s' but not '%s'",
						     subject(w, sub, sizeof(sub)), k, dk);
			}
		}
	return 0;
}

/* The properties and additionalProperties of n on object x. */
static int check_object(struct jwalk *w, const struct jnode *n, uint32_t x)
{
	const struct st_jtape *t = w->t;
	char sub[420];
	size_t i;

	if (!n->nprops && !n->addl && !n->addl_false)
		return 0;
	if (w->depth >= JPATH_MAX)
		return jfail(w, "%s is nested too deeply", subject(w, sub, sizeof(sub)));
	for (uint32_t m = st_json_first(t, x); m; m = st_json_next(t, m)) {
		const struct st_jnode *mn = &t->v[m];
		const struct jnode *sub_n = NULL;
		int r;

		for (i = 0; i < n->nprops; i++)
			if (key_eq(w->buf, mn, n->pkeys[i], n->plens[i])) {
				sub_n = n->pvals[i];
				break;
			}
		if (!sub_n && n->addl_false) {
			char *kt = w->quiet ? NULL : key_text(w, m);

			if (!w->depth)
				r = jfail(w, "unknown key '%s'", kt ? kt : "?");
			else
				r = jfail(w, "unknown key '%s' in %s", kt ? kt : "?",
					  subject(w, sub, sizeof(sub)));
			st_free(kt);
			return r;
		}
		if (!sub_n)
			sub_n = n->addl;
		if (!sub_n)
			continue;
		w->key[w->depth] = w->buf + mn->key_start;
		w->klen[w->depth] = mn->key_end - mn->key_start;
		w->kesc[w->depth++] = mn->key_escaped;
		r = jcheck(w, sub_n, m);
		w->depth--;
		if (r)
			return 1;
	}
	return 0;
}

static int check_array(struct jwalk *w, const struct jnode *n, uint32_t x)
{
	const struct st_jtape *t = w->t;
	char sub[420];
	size_t i = 0;

	if (n->min_items && (json_int_t)t->v[x].count < n->min_items)
		return jfail(w, "%s needs at least %lld items", subject(w, sub, sizeof(sub)),
			     (long long)n->min_items);
	if (n->unique)
		for (uint32_t a = st_json_first(t, x); a; a = st_json_next(t, a))
			for (uint32_t b = st_json_first(t, x); b != a; b = st_json_next(t, b))
				if (equal_dd(w->buf, t, a, b))
					return jfail(w, "%s lists an item twice",
						     subject(w, sub, sizeof(sub)));
	if (!n->items)
		return 0;
	if (w->depth >= JPATH_MAX)
		return jfail(w, "%s is nested too deeply", subject(w, sub, sizeof(sub)));
	for (uint32_t m = st_json_first(t, x); m; m = st_json_next(t, m), i++) {
		int r;

		w->key[w->depth] = NULL;
		w->idx[w->depth++] = i;
		r = jcheck(w, n->items, m);
		w->depth--;
		if (r)
			return 1;
	}
	return 0;
}

/* The string checks of n on string x: formats, length and pattern. */
static int check_string(struct jwalk *w, const struct jnode *n, uint32_t x)
{
	char sub[420], val[80], small[256], *heap;
	const char *s;
	size_t len;
	int r = 0;

	if (!n->fmt && !n->min_length && !n->re)
		return 0;
	if (!(s = str_of(w, x, small, sizeof(small), &heap, &len)))
		return jfail(w, "%s cannot be checked: out of memory", subject(w, sub, sizeof(sub)));
	if (n->fmt == FMT_URI && !is_uri(s))
		r = jfail(w, "%s must be a URI, not %s", subject(w, sub, sizeof(sub)),
			  quoted(w, x, val, sizeof(val)));
	else if (n->fmt == FMT_DATETIME && !is_datetime(s))
		r = jfail(w, "%s must be an RFC 3339 date-time, not %s",
			  subject(w, sub, sizeof(sub)), quoted(w, x, val, sizeof(val)));
	else if (n->fmt == FMT_UUID && !is_uuid(s))
		r = jfail(w, "%s must be a UUID, not %s", subject(w, sub, sizeof(sub)),
			  quoted(w, x, val, sizeof(val)));
	else if (n->min_length && (json_int_t)len < n->min_length)
		r = jfail(w, "%s is too short", subject(w, sub, sizeof(sub)));
	else if (n->re && regexec(n->re, s, 0, NULL, 0)) {
		if (n->title)
			r = jfail(w, "%s is %s (expected %s)", subject(w, sub, sizeof(sub)),
				  quoted(w, x, val, sizeof(val)), n->title);
		else
			r = jfail(w, "%s is %s, which is not valid", subject(w, sub, sizeof(sub)),
				  quoted(w, x, val, sizeof(val)));
	}
	st_free(heap);
	return r;
}

/* Checks x against n, cheap keywords first; stops at the first problem (returns 1). */
static int jcheck(struct jwalk *w, const struct jnode *n, uint32_t x)
{
	unsigned t = jtype_of(w, x);
	char sub[420], val[80];

	if (n->types && !(n->types & t)) {
		unsigned want = n->types;

		if (want & (want - 1))
			return jfail(w, "%s has the wrong type", subject(w, sub, sizeof(sub)));
		return jfail(w, "%s must be %s", subject(w, sub, sizeof(sub)), jtype_words(want));
	}
	if (n->cnst && !equal_sd(n->cnst, w->buf, w->t, x))
		return jfail(w, "%s must be %s", subject(w, sub, sizeof(sub)),
			     quoted_schema(n->cnst, val, sizeof(val)));
	if (n->enm && check_enum_json(w, n, x))
		return 1;
	if (t == JT_STRING && check_string(w, n, x))
		return 1;
	if ((t & JT_NUMBER) && (n->has_min || n->has_max)) {
		double v = num_value(w->buf, &w->t->v[x]);

		if (n->has_min && v < n->min)
			return jfail(w, "%s must be at least %g", subject(w, sub, sizeof(sub)), n->min);
		if (n->has_max && v > n->max)
			return jfail(w, "%s must be at most %g", subject(w, sub, sizeof(sub)), n->max);
	}
	/* Required keys before anything below them: the clearer message. */
	if (t == JT_OBJECT && (n->required || n->depreq) && check_required(w, n, x))
		return 1;
	if (n->not) {
		struct jwalk scratch = *w;

		scratch.quiet = 1;
		if (!jcheck(&scratch, n->not, x))
			return jfail(w, "%s matches a schema it must not",
				     subject(w, sub, sizeof(sub)));
	}
	if (n->ref && jcheck(w, n->ref, x))
		return 1;
	for (size_t i = 0; i < n->nall; i++)
		if (jcheck(w, n->all[i], x))
			return 1;
	if (n->nany || n->none) {
		/* The problem reported for a failed choice is the one found deepest in the
		 * document: the branch that got furthest is the one that was meant. */
		const struct jnode *const *alts = n->nany ? (const struct jnode *const *)n->any
							  : (const struct jnode *const *)n->one;
		size_t nalts = n->nany ? n->nany : n->none, matched = 0, best = 0;
		int best_depth = -1, quiet = w->quiet;

		/* Quietly: a choice that fails is worded only when no choice matches. */
		w->quiet = 1;
		for (size_t i = 0; i < nalts; i++) {
			if (!jcheck(w, alts[i], x)) {
				matched++;
				if (n->nany)
					break;
			} else if (w->msg_depth > best_depth) {
				best_depth = w->msg_depth;
				best = i;
			}
		}
		w->quiet = quiet;
		if (!matched) {
			if (!quiet)
				jcheck(w, alts[best], x); /* again, to word its problem */
			w->msg_depth = best_depth;
			return 1;
		}
		if (matched > 1)
			return jfail(w, "%s matches more than one schema of a oneOf",
				     subject(w, sub, sizeof(sub)));
	}
	if (t == JT_OBJECT && check_object(w, n, x))
		return 1;
	if (t == JT_ARRAY && check_array(w, n, x))
		return 1;
	return 0;
}

int catalog_jschema_check_at(const struct catalog_jschema_node *node, const char *buf,
			     const struct st_jtape *t, uint32_t x, const char *at, char *why,
			     size_t n)
{
	struct jwalk w;

	w.buf = buf;
	w.t = t;
	w.depth = 0;
	w.quiet = 0;
	if (at && *at) {
		w.key[0] = at;
		w.klen[0] = (uint32_t)strlen(at);
		w.kesc[0] = 0;
		w.depth = 1;
	}
	w.msg[0] = '\0';
	w.msg_depth = 0;
	if (!jcheck(&w, (const struct jnode *)node, x))
		return 0;
	snprintf(why, n, "%s", w.msg);
	return 1;
}

int catalog_jschema_check(const struct catalog_jschema_node *node, const char *buf,
			  const struct st_jtape *t, uint32_t x, char *why, size_t n)
{
	return catalog_jschema_check_at(node, buf, t, x, NULL, why, n);
}
