/* Subset JSON Schema validator over YAML nodes. Supported keywords are listed in `known`;
 * loading a schema that uses anything else fails, so the schema cannot silently outgrow
 * the validator. */
#include "jschema.h"
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

struct catalog_jschema {
	json_t *root;
	struct pattern *pats;
	size_t npats, pats_cap;
};

static const char *const known[] = {
	"$schema", "$id", "title", "description", "markdownDescription", "default", "examples",
	"type", "properties", "additionalProperties", "required", "enum", "items", "$ref",
	"definitions", "pattern", "minimum", "maximum", "minLength", "minItems", "uniqueItems",
};

void catalog_jschema_free(struct catalog_jschema *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->npats; i++)
		regfree(&s->pats[i].re);
	st_free(s->pats);
	json_decref(s->root);
	st_free(s);
}

/* Checks keywords and compiles patterns of one schema object and everything below it. */
static int prepare(struct catalog_jschema *s, const json_t *node, struct st_error *err)
{
	const char *key;
	json_t *val;

	if (!json_is_object(node))
		return 0;
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
		} else if (!strcmp(key, "properties") || !strcmp(key, "definitions")) {
			const char *k2;
			json_t *v2;

			json_object_foreach(val, k2, v2)
			{
				if (prepare(s, v2, err))
					return -1;
			}
		} else if (!strcmp(key, "items") || !strcmp(key, "additionalProperties")) {
			if (prepare(s, val, err))
				return -1;
		}
	}
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
	if (prepare(s, s->root, err))
		goto out;
	*out = s;
	s = NULL;
	ret = 0;
out:
	catalog_jschema_free(s);
	return ret;
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

static const json_t *resolve(const struct vctx *v, const json_t *schema)
{
	for (int hops = 0; hops < 16 && json_is_object(schema); hops++) {
		const char *ref = json_string_value(json_object_get(schema, "$ref"));

		if (!ref)
			return schema;
		if (strncmp(ref, "#/definitions/", 14))
			return NULL;
		schema = json_object_get(json_object_get(v->s->root, "definitions"), ref + 14);
	}
	return schema;
}

static int type_matches(const char *t, const struct catalog_ynode *n)
{
	int k = n->type == CATALOG_Y_SCALAR ? catalog_yscalar_kind(n) : -1;

	if (!strcmp(t, "object"))
		return n->type == CATALOG_Y_MAP;
	if (!strcmp(t, "array"))
		return n->type == CATALOG_Y_SEQ;
	if (!strcmp(t, "string"))
		return n->type == CATALOG_Y_SCALAR && k != CATALOG_YS_NULL;
	if (!strcmp(t, "integer"))
		return k == CATALOG_YS_INT;
	if (!strcmp(t, "number"))
		return k == CATALOG_YS_INT || k == CATALOG_YS_FLOAT;
	if (!strcmp(t, "boolean"))
		return k == CATALOG_YS_BOOL;
	if (!strcmp(t, "null"))
		return k == CATALOG_YS_NULL;
	return 0;
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
static int check_type(struct vctx *v, const json_t *schema, const struct catalog_ynode *n,
		      const char *key)
{
	char what[160];
	const json_t *type = json_object_get(schema, "type");
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
		if (json_is_string(e) && !strcmp(json_string_value(e), n->value))
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

static const struct pattern *find_pattern(const struct vctx *v, const json_t *owner)
{
	for (size_t i = 0; i < v->s->npats; i++)
		if (v->s->pats[i].owner == owner)
			return &v->s->pats[i];
	return NULL;
}

static void validate(struct vctx *v, const json_t *schema, const struct catalog_ynode *n,
		     const char *key);

static void validate_map(struct vctx *v, const json_t *schema, const struct catalog_ynode *n)
{
	const json_t *props = json_object_get(schema, "properties");
	const json_t *addl = json_object_get(schema, "additionalProperties");
	const json_t *req = json_object_get(schema, "required");
	const struct catalog_ynode *name = catalog_ymap_get(n, "name");
	size_t i;
	json_t *r;

	for (i = 0; i < n->n; i++) {
		const struct catalog_ynode *k = n->kids[2 * i];
		const json_t *sub;

		if (k->type != CATALOG_Y_SCALAR)
			continue; /* the composer reported it */
		sub = props ? json_object_get(props, k->value) : NULL;
		if (sub) {
			validate(v, sub, n->kids[2 * i + 1], k->value);
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
		} else if (json_is_object(addl)) {
			validate(v, addl, n->kids[2 * i + 1], k->value);
		}
	}
	json_array_foreach(req, i, r)
	{
		const char *rk = json_string_value(r);

		if (!rk || catalog_ymap_get(n, rk))
			continue;
		if (name && name->type == CATALOG_Y_SCALAR && strcmp(rk, "name"))
			report(v, n, "'%s' is missing required key '%s'", name->value, rk);
		else
			report(v, n, "missing required key '%s'", rk);
	}
}

static void validate(struct vctx *v, const json_t *schema, const struct catalog_ynode *n,
		     const char *key)
{
	char what[160];
	const json_t *j;

	schema = resolve(v, schema);
	if (!schema || v->oom)
		return;
	if (!check_type(v, schema, n, key))
		return;
	if (n->type == CATALOG_Y_MAP) {
		validate_map(v, schema, n);
	} else if (n->type == CATALOG_Y_SEQ) {
		const json_t *items = json_object_get(schema, "items");

		j = json_object_get(schema, "minItems");
		if (json_is_integer(j) && (json_int_t)n->n < json_integer_value(j))
			report(v, n, "%s needs at least %lld items", what_of(what, key),
			       (long long)json_integer_value(j));
		for (size_t i = 0; items && i < n->n; i++)
			validate(v, items, n->kids[i], key);
		if (json_is_true(json_object_get(schema, "uniqueItems")))
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

		j = json_object_get(schema, "enum");
		if (json_is_array(j))
			check_enum(v, j, n, key ? key : "value");
		p = find_pattern(v, schema);
		if (p && !pattern_matches(p, n->value)) {
			const char *title = json_string_value(json_object_get(schema, "title"));

			if (title)
				report(v, n, "invalid %s '%s' (expected %s)", key ? key : "value",
				       n->value, title);
			else
				report(v, n, "invalid %s '%s'", key ? key : "value", n->value);
		}
		j = json_object_get(schema, "minLength");
		if (json_is_integer(j) && (json_int_t)n->len < json_integer_value(j))
			report(v, n, "%s is too short", what_of(what, key));
		j = json_object_get(schema, "minimum");
		if (json_is_number(j) && strtod(n->value, NULL) < json_number_value(j))
			report(v, n, "%s must be at least %g", what_of(what, key),
			       json_number_value(j));
		j = json_object_get(schema, "maximum");
		if (json_is_number(j) && strtod(n->value, NULL) > json_number_value(j))
			report(v, n, "%s must be at most %g", what_of(what, key),
			       json_number_value(j));
	}
}

int catalog_jschema_validate(const struct catalog_jschema *s, const struct catalog_ynode *doc,
			     const char *file, struct st_diags *diags)
{
	struct vctx v = {s, file, diags, 0, 0};

	validate(&v, s->root, doc, NULL);
	return v.oom ? -1 : v.errors;
}
