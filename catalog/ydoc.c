/* YAML composer: libyaml events to located node trees, with bounded alias expansion,
 * merge keys (<<), duplicate-key detection and a nesting limit. */
#include "ydoc.h"
#include "alloc.h"

#include <stdint.h>
#include <string.h>

/* All nodes and strings of one document live in one arena, freed at once. */
struct chunk {
	struct chunk *next;
	size_t used, size;
	unsigned char data[];
};

struct catalog_yarena {
	struct chunk *head;
};

static void *arena_alloc(struct catalog_yarena *a, size_t n)
{
	struct chunk *c = a->head;

	n = (n + 15) & ~(size_t)15;
	if (!c || c->size - c->used < n) {
		size_t size = n > 65536 ? n : 65536;

		c = st_malloc(sizeof(*c) + size);
		if (!c)
			return NULL;
		c->size = size;
		c->used = 0;
		c->next = a->head;
		a->head = c;
	}
	c->used += n;
	return c->data + c->used - n;
}

static char *arena_strndup(struct catalog_yarena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);

	if (!p)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

static int arena_push(struct catalog_yarena *a, struct catalog_ynode *parent,
		      struct catalog_ynode *kid)
{
	if (parent->n + 1 > parent->cap) {
		size_t ncap = parent->cap ? parent->cap * 2 : 8;
		struct catalog_ynode **nk = arena_alloc(a, ncap * sizeof(*nk));

		if (!nk)
			return -1;
		if (parent->n)
			memcpy(nk, parent->kids, parent->n * sizeof(*nk));
		parent->kids = nk;
		parent->cap = ncap;
	}
	parent->kids[parent->n++] = kid;
	return 0;
}

void catalog_ydoc_free(struct catalog_ydoc *doc)
{
	struct chunk *c, *next;

	if (!doc)
		return;
	for (c = doc->arena ? doc->arena->head : NULL; c; c = next) {
		next = c->next;
		st_free(c);
	}
	st_free(doc->arena);
	st_free(doc);
}

static int parser_init(struct catalog_yparser *p, const char *file, const unsigned char *data,
		       size_t len, int plain, struct st_error *err)
{
	int r;

	memset(p, 0, sizeof(*p));
	p->file = file;
	r = plain ? catalog_yfast_scan_plain(data, len, plain, &p->fast, &p->nfast, &p->fast_cap)
		  : catalog_yfast_scan(data, len, &p->fast, &p->nfast, &p->fast_cap);
	if (r < 0) {
		p->failed = 1;
		return st_error_oom(err);
	}
	if (r > 0)
		return 0; /* plain block YAML: the events are ready, libyaml is not needed */
	st_free(p->fast);
	p->fast = NULL;
	p->fast_cap = 0;
	if (!yaml_parser_initialize(&p->parser)) {
		p->failed = 1;
		return st_error_oom(err);
	}
	p->inited = 1;
	yaml_parser_set_input_string(&p->parser, data, len);
	yaml_parser_set_encoding(&p->parser, YAML_UTF8_ENCODING);
	return 0;
}

int catalog_yparser_init(struct catalog_yparser *p, const char *file, const unsigned char *data,
			 size_t len, struct st_error *err)
{
	return parser_init(p, file, data, len, 0, err);
}

int catalog_yparser_init_plain(struct catalog_yparser *p, const char *file,
			       const unsigned char *data, size_t len, int plain,
			       struct st_error *err)
{
	return parser_init(p, file, data, len, plain ? plain : 1, err);
}

void catalog_yparser_release(struct catalog_yparser *p)
{
	st_free(p->fast);
	p->fast = NULL;
	p->nfast = p->ifast = p->fast_cap = 0;
	if (p->inited)
		yaml_parser_delete(&p->parser);
	memset(&p->parser, 0, sizeof(p->parser));
	p->inited = 0;
}

/* The next event, from the fast path's list (*out points into it, not copied) or from
 * libyaml (into *ev, and *out = ev). Returns 1, or 0 when libyaml failed (parse_error() says
 * why). */
static int next_event(struct catalog_yparser *p, yaml_event_t *ev, yaml_event_t **out)
{
	*out = ev;
	if (!p->fast)
		return yaml_parser_parse(&p->parser, ev);
	if (p->ifast >= p->nfast) { /* cannot happen: the list ends with the stream's end */
		memset(ev, 0, sizeof(*ev));
		ev->type = YAML_STREAM_END_EVENT;
		return 1;
	}
	*out = &p->fast[p->ifast++];
	return 1;
}

/* Frees an event from next_event(): the fast path's own point into the input. */
static void drop_event(const struct catalog_yparser *p, yaml_event_t *ev)
{
	if (!p->fast)
		yaml_event_delete(ev);
}

static int parse_error(struct catalog_yparser *p, struct st_error *err)
{
	yaml_parser_t *y = &p->parser;
	const char *problem = y->problem ? y->problem : "cannot parse";

	p->failed = 1;
	if (y->error == YAML_MEMORY_ERROR)
		return st_error_oom(err);
	if (y->context)
		return st_error_set_at(err, ST_E_INVALID, p->file, (unsigned)y->problem_mark.line + 1,
				       (unsigned)y->problem_mark.column + 1, "invalid YAML: %s %s",
				       problem, y->context);
	return st_error_set_at(err, ST_E_INVALID, p->file, (unsigned)y->problem_mark.line + 1,
			       (unsigned)y->problem_mark.column + 1, "invalid YAML: %s", problem);
}

struct anchor {
	char *name;
	struct catalog_ynode *node;
};

struct compose {
	struct catalog_yparser *p;
	struct catalog_ydoc *doc;
	struct st_diags *diags;
	struct st_error *err;
	struct catalog_ynode *stack[CATALOG_YAML_MAX_DEPTH];
	size_t depth;
	struct anchor *anchors;
	size_t nanchors, anchors_cap;
};

static size_t add_weight(size_t a, size_t b)
{
	return a > SIZE_MAX / 4 - b ? SIZE_MAX / 4 : a + b;
}

static int key_equal(const struct catalog_ynode *a, const struct catalog_ynode *b)
{
	/* The first bytes first: keys of a length (name, type) mostly differ there. */
	return a->type == CATALOG_Y_SCALAR && b->type == CATALOG_Y_SCALAR && a->len == b->len &&
	       (!a->len || a->value[0] == b->value[0]) && !memcmp(a->value, b->value, a->len);
}

static int is_merge_key(const struct catalog_ynode *k)
{
	return k->type == CATALOG_Y_SCALAR && !k->quoted && k->len == 2 && k->value[0] == '<' &&
	       k->value[1] == '<';
}

/* While a mapping is being built, n counts keys and values, so pairs are n / 2. */
static int has_key(const struct catalog_ynode *map, const struct catalog_ynode *key)
{
	for (size_t i = 0; i < map->n / 2; i++)
		if (key_equal(map->kids[2 * i], key))
			return 1;
	return 0;
}

/* Adds the pairs of src that map lacks, as YAML's merge key does. */
static int merge_from(struct compose *c, struct catalog_ynode *map, const struct catalog_ynode *src,
		      const struct catalog_ynode *at)
{
	if (src->type != CATALOG_Y_MAP) {
		st_diags_add(c->diags, ST_SEV_ERROR, c->p->file, at->line, at->col,
			     "merge key '<<' needs a mapping or a list of mappings");
		return 0;
	}
	for (size_t i = 0; i < src->n; i++) {
		if (has_key(map, src->kids[2 * i]))
			continue;
		if (arena_push(c->doc->arena, map, src->kids[2 * i]) ||
		    arena_push(c->doc->arena, map, src->kids[2 * i + 1]))
			return -1;
	}
	return 0;
}

/* Finishes a mapping: reports duplicate keys, then applies merge keys (explicit keys win). */
static int close_map(struct compose *c, struct catalog_ynode *map)
{
	struct catalog_ynode **pairs = map->kids;
	size_t npairs = map->n / 2, nmerge = 0;

	for (size_t i = 0; i < npairs; i++) {
		struct catalog_ynode *k = pairs[2 * i];

		if (k->type != CATALOG_Y_SCALAR) {
			st_diags_add(c->diags, ST_SEV_ERROR, c->p->file, k->line, k->col,
				     "mapping keys must be plain scalars");
			continue;
		}
		if (is_merge_key(k)) {
			nmerge++;
			continue;
		}
		for (size_t j = 0; j < i; j++)
			if (key_equal(pairs[2 * j], k)) {
				st_diags_add(c->diags, ST_SEV_ERROR, c->p->file, k->line, k->col,
					     "duplicate key '%s' (first at line %u)", k->value,
					     pairs[2 * j]->line);
				break;
			}
	}
	if (!nmerge) {
		map->n = npairs;
		return 0;
	}
	/* Rebuild the pair list: explicit keys first, then what the merges add. */
	map->kids = NULL;
	map->n = map->cap = 0;
	for (size_t i = 0; i < npairs; i++)
		if (!is_merge_key(pairs[2 * i]) &&
		    (arena_push(c->doc->arena, map, pairs[2 * i]) ||
		     arena_push(c->doc->arena, map, pairs[2 * i + 1])))
			return -1;
	for (size_t i = 0; i < npairs; i++) {
		struct catalog_ynode *k = pairs[2 * i], *v = pairs[2 * i + 1];

		if (!is_merge_key(k))
			continue;
		if (v->type == CATALOG_Y_SEQ) {
			for (size_t j = 0; j < v->n; j++)
				if (merge_from(c, map, v->kids[j], k))
					return -1;
		} else if (merge_from(c, map, v, k)) {
			return -1;
		}
	}
	map->n /= 2;
	return 0;
}

static struct catalog_ynode *new_node(struct compose *c, int type, const yaml_mark_t *m)
{
	struct catalog_ynode *n = arena_alloc(c->doc->arena, sizeof(*n));

	if (!n)
		return NULL;
	memset(n, 0, sizeof(*n));
	n->type = type;
	n->line = (unsigned)m->line + 1;
	n->col = (unsigned)m->column + 1;
	n->weight = 1;
	return n;
}

static int remember_anchor(struct compose *c, const yaml_char_t *name, struct catalog_ynode *n)
{
	if (!name)
		return 0;
	if (st_grow(&c->anchors, &c->anchors_cap, c->nanchors + 1, sizeof(*c->anchors)))
		return st_error_oom(c->err);
	c->anchors[c->nanchors].name = arena_strndup(c->doc->arena, (const char *)name,
						      strlen((const char *)name));
	if (!c->anchors[c->nanchors].name)
		return st_error_oom(c->err);
	c->anchors[c->nanchors++].node = n;
	return 0;
}

static struct catalog_ynode *find_anchor(struct compose *c, const char *name)
{
	/* The latest definition of a name wins, as YAML says. */
	for (size_t i = c->nanchors; i-- > 0;)
		if (!strcmp(c->anchors[i].name, name))
			return c->anchors[i].node;
	return NULL;
}

/* Attaches a finished node to the open container, or makes it the root. */
static int attach(struct compose *c, struct catalog_ynode *n)
{
	if (!c->depth) {
		c->doc->root = n;
		return 0;
	}
	if (arena_push(c->doc->arena, c->stack[c->depth - 1], n))
		return st_error_oom(c->err);
	return 0;
}

static int too_big(struct compose *c, const struct catalog_ynode *n)
{
	c->p->failed = 1;
	return st_error_set_at(c->err, ST_E_INVALID, c->p->file, n->line, n->col,
			       "alias expansion exceeds %d nodes (is this a billion laughs file?)",
			       CATALOG_YAML_MAX_EXPANSION);
}

/* Whether c may start a null or boolean word (~, null, true, false, yes, no, on, off). */
static int null_or_bool_start(char c)
{
	switch (c) {
	case '~': case 'n': case 'N': case 't': case 'T': case 'f': case 'F':
	case 'y': case 'Y': case 'o': case 'O':
		return 1;
	default:
		return 0;
	}
}

/* YAML 1.1 resolution of a plain scalar, as libyaml users expect. Checks the length and
 * first byte before comparing, since most scalars are plain words. */
static int resolve_scalar(const struct catalog_ynode *n)
{
	/* The null and boolean words, with their lengths: most plain scalars that pass the
	 * first test below are keys and words such as name, type and none, which the lengths
	 * tell apart without comparing (a chain of strcmp() was the parse workers' top cost). */
	static const struct {
		char s[6];
		unsigned char len, kind;
	} words[] = {
		{"~", 1, CATALOG_YS_NULL},     {"null", 4, CATALOG_YS_NULL},
		{"Null", 4, CATALOG_YS_NULL},  {"NULL", 4, CATALOG_YS_NULL},
		{"true", 4, CATALOG_YS_BOOL},  {"True", 4, CATALOG_YS_BOOL},
		{"TRUE", 4, CATALOG_YS_BOOL},  {"false", 5, CATALOG_YS_BOOL},
		{"False", 5, CATALOG_YS_BOOL}, {"FALSE", 5, CATALOG_YS_BOOL},
		{"yes", 3, CATALOG_YS_BOOL},   {"Yes", 3, CATALOG_YS_BOOL},
		{"YES", 3, CATALOG_YS_BOOL},   {"no", 2, CATALOG_YS_BOOL},
		{"No", 2, CATALOG_YS_BOOL},    {"NO", 2, CATALOG_YS_BOOL},
		{"on", 2, CATALOG_YS_BOOL},    {"On", 2, CATALOG_YS_BOOL},
		{"ON", 2, CATALOG_YS_BOOL},    {"off", 3, CATALOG_YS_BOOL},
		{"Off", 3, CATALOG_YS_BOOL},   {"OFF", 3, CATALOG_YS_BOOL},
	};
	const char *s = n->value;
	size_t i = 0, digits = 0;
	int dot = 0, exp = 0;

	if (n->quoted)
		return CATALOG_YS_STR;
	if (!n->len)
		return CATALOG_YS_NULL;
	if (n->len <= 5 && null_or_bool_start(s[0])) {
		size_t len = strnlen(s, 6); /* the text up to a NUL, as strcmp() compared it */

		/* The first two bytes (s[1] is the NUL of a one-byte word) before memcmp():
		 * name and none matched the length of six words. */
		for (i = 0; i < sizeof(words) / sizeof(*words); i++)
			if (words[i].len == len && words[i].s[0] == s[0] && words[i].s[1] == s[1] &&
			    !memcmp(s, words[i].s, len))
				return words[i].kind;
		return CATALOG_YS_STR;
	}
	i = (s[0] == '-' || s[0] == '+');
	for (; s[i]; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			digits++;
		else if (s[i] == '.' && !dot && !exp)
			dot = 1;
		else if ((s[i] == 'e' || s[i] == 'E') && digits && !exp) {
			exp = 1;
			if (s[i + 1] == '-' || s[i + 1] == '+')
				i++;
		} else
			return CATALOG_YS_STR;
	}
	if (!digits)
		return CATALOG_YS_STR;
	return dot || exp ? CATALOG_YS_FLOAT : CATALOG_YS_INT;
}

int catalog_yscalar_kind(const struct catalog_ynode *n)
{
	return n->type == CATALOG_Y_SCALAR ? n->kind : CATALOG_YS_STR;
}

/* Handles one event inside a document. Returns 1 when the document ended, 0 to go on. */
static int compose_event(struct compose *c, yaml_event_t *ev)
{
	struct catalog_ynode *n;
	const yaml_mark_t *m = &ev->start_mark;

	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		n = new_node(c, CATALOG_Y_SCALAR, m);
		if (!n)
			return st_error_oom(c->err);
		n->value = arena_strndup(c->doc->arena, (const char *)ev->data.scalar.value,
					 ev->data.scalar.length);
		if (!n->value)
			return st_error_oom(c->err);
		n->len = ev->data.scalar.length;
		n->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE ||
			    (ev->data.scalar.tag && !strcmp((const char *)ev->data.scalar.tag,
							    YAML_STR_TAG));
		n->kind = resolve_scalar(n);
		if (remember_anchor(c, ev->data.scalar.anchor, n))
			return -1;
		return attach(c, n);
	case YAML_ALIAS_EVENT:
		n = find_anchor(c, (const char *)ev->data.alias.anchor);
		if (!n) {
			c->p->failed = 1;
			return st_error_set_at(c->err, ST_E_INVALID, c->p->file, (unsigned)m->line + 1,
					       (unsigned)m->column + 1, "unknown alias '*%s'",
					       (const char *)ev->data.alias.anchor);
		}
		for (size_t i = 0; i < c->depth; i++)
			if (c->stack[i] == n) {
				c->p->failed = 1;
				return st_error_set_at(c->err, ST_E_INVALID, c->p->file,
						       (unsigned)m->line + 1, (unsigned)m->column + 1,
						       "alias '*%s' refers to a node that contains it",
						       (const char *)ev->data.alias.anchor);
			}
		return attach(c, n);
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		n = new_node(c, ev->type == YAML_SEQUENCE_START_EVENT ? CATALOG_Y_SEQ : CATALOG_Y_MAP,
			     m);
		if (!n)
			return st_error_oom(c->err);
		if (c->depth == CATALOG_YAML_MAX_DEPTH) {
			c->p->failed = 1;
			return st_error_set_at(c->err, ST_E_INVALID, c->p->file, n->line, n->col,
					       "nesting deeper than %d levels", CATALOG_YAML_MAX_DEPTH);
		}
		if (remember_anchor(c, ev->type == YAML_SEQUENCE_START_EVENT
						? ev->data.sequence_start.anchor
						: ev->data.mapping_start.anchor,
				    n))
			return -1;
		if (attach(c, n))
			return -1;
		c->stack[c->depth++] = n;
		return 0;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		n = c->stack[--c->depth];
		if (n->type == CATALOG_Y_MAP && close_map(c, n))
			return c->err->code ? -1 : st_error_oom(c->err);
		n->weight = 1;
		for (size_t i = 0; i < (n->type == CATALOG_Y_MAP ? 2 * n->n : n->n); i++)
			n->weight = add_weight(n->weight, n->kids[i]->weight);
		if (n->weight > CATALOG_YAML_MAX_EXPANSION)
			return too_big(c, n);
		return 0;
	case YAML_DOCUMENT_END_EVENT:
		return 1;
	default:
		return 0;
	}
}

int catalog_yparser_next(struct catalog_yparser *p, struct catalog_ydoc **out,
			 struct st_diags *diags, struct st_error *err)
{
	struct compose c;
	yaml_event_t ev_, *ev;
	int ret = -1, r;

	*out = NULL;
	memset(&c, 0, sizeof(c));
	c.p = p;
	c.diags = diags;
	c.err = err;
	if (p->failed)
		return st_error_set(err, ST_E_INVALID, "parser already failed");
	if (p->done)
		return 0;
	p->started = 1;
	for (;;) {
		if (!next_event(p, &ev_, &ev))
			return parse_error(p, err);
		if (ev->type == YAML_STREAM_END_EVENT) {
			drop_event(p, ev);
			p->done = 1;
			return 0;
		}
		if (ev->type == YAML_DOCUMENT_START_EVENT)
			break;
		drop_event(p, ev);
	}
	c.doc = st_calloc(1, sizeof(*c.doc));
	if (!c.doc || !(c.doc->arena = st_calloc(1, sizeof(*c.doc->arena)))) {
		drop_event(p, ev);
		st_error_oom(err);
		goto out;
	}
	c.doc->line = (unsigned)ev->start_mark.line + 1;
	c.doc->col = (unsigned)ev->start_mark.column + 1;
	drop_event(p, ev);
	for (;;) {
		if (!next_event(p, &ev_, &ev)) {
			parse_error(p, err);
			goto out;
		}
		r = compose_event(&c, ev);
		drop_event(p, ev);
		if (r < 0)
			goto out;
		if (r == 1)
			break;
	}
	*out = c.doc;
	c.doc = NULL;
	ret = 1;
out:
	catalog_ydoc_free(c.doc);
	st_free(c.anchors);
	return ret;
}

int catalog_yscalar_bool(const struct catalog_ynode *n, int *out)
{
	const char *s = n->value;

	if (catalog_yscalar_kind(n) != CATALOG_YS_BOOL)
		return -1;
	*out = (s[0] == 't' || s[0] == 'T' || s[0] == 'y' || s[0] == 'Y' ||
		((s[0] == 'o' || s[0] == 'O') && (s[1] == 'n' || s[1] == 'N')));
	return 0;
}

struct catalog_ynode *catalog_ymap_get(const struct catalog_ynode *map, const char *key)
{
	size_t klen = strlen(key);

	if (!map || map->type != CATALOG_Y_MAP)
		return NULL;
	for (size_t i = 0; i < map->n; i++) {
		const struct catalog_ynode *k = map->kids[2 * i];

		if (k->type == CATALOG_Y_SCALAR && k->len == klen && !memcmp(k->value, key, klen))
			return map->kids[2 * i + 1];
	}
	return NULL;
}
