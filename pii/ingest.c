/* The pre-ingest hook for JSON lines: plan from the catalog, bounded line reader, strict
 * parse onto a tape, then a rewrite that copies untouched values byte for byte and writes
 * only the values it transforms. */
#include "ingest.h"
#include "alloc.h"
#include "buf.h"
#include "json.h"
#include "ydoc.h"

#include <errno.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const reject_codes[PII_R_COUNT] = {
	"malformed-json", "invalid-utf8", "invalid-escape", "too-deep", "too-long",
	"duplicate-key", "not-an-object", "missing-label", "unknown-label", "unknown-field",
	"missing-field", "wrong-type", "out-of-range", "null-not-allowed", "invalid-value",
	"ragged-row",
};

const char *pii_reject_code(int reason)
{
	return reason >= 0 && reason < PII_R_COUNT ? reject_codes[reason] : "?";
}

/* ---- the plan ---- */

enum ftype { F_STRING, F_INT, F_INT64, F_FLOAT, F_DECIMAL, F_BOOL, F_DATE, F_TIMESTAMP,
	     F_OBJECT, F_ARRAY };

static const char *const type_names[] = {"string", "int", "int64", "float", "decimal", "bool",
					 "date", "timestamp", "object", "array"};

struct spec {
	char *name, *path, *category;
	size_t name_len;
	int type, required, nullable, scan, transform, norm, trunc;
	struct spec *fields; /* object members */
	size_t nfields;
	struct spec *items;  /* array element */
};

struct plan {
	char *name;
	const char *short_name; /* after the dot */
	struct spec root;       /* an object */
};

struct pii_ingest {
	struct pii_ingest_opts o;
	struct plan *plans;
	size_t nplans;
	int pattern;
	struct pii_hasher *h;
	struct pii_jtape tape;
	struct st_buf out, scratch, rej;
	char *tmp;       /* unescape space, max_record + 1 bytes */
	struct pii_ingest_stats *st;
	uint64_t line;
	int reason;      /* set by the rewrite when it rejects */
	char why[256];
	struct st_error *err;
};

static int parse_type(const char *t)
{
	for (int i = 0; i < (int)(sizeof(type_names) / sizeof(*type_names)); i++)
		if (t && !strcmp(t, type_names[i]))
			return i;
	return F_STRING;
}

static void spec_release(struct spec *s)
{
	for (size_t i = 0; i < s->nfields; i++)
		spec_release(&s->fields[i]);
	st_free(s->fields);
	if (s->items) {
		spec_release(s->items);
		st_free(s->items);
	}
	st_free(s->name);
	st_free(s->path);
	st_free(s->category);
}

/* The spec that holds members at path prefix: the root, an object field, or an array
 * field's element. */
static struct spec *holder(struct spec *root, const char *path, size_t plen)
{
	struct spec *s = root;
	size_t i = 0;

	while (i < plen) {
		size_t j = i;
		struct spec *next = NULL;

		while (j < plen && path[j] != '.')
			j++;
		for (size_t k = 0; k < s->nfields; k++)
			if (s->fields[k].name_len == j - i && !memcmp(s->fields[k].name, path + i, j - i))
				next = &s->fields[k];
		if (!next)
			return NULL;
		s = next->type == F_ARRAY && next->items ? next->items : next;
		i = j + 1;
	}
	return s;
}

static int problem(struct st_diags *d, const char *ds, const char *path, const char *fmt,
		   const char *a)
{
	char msg[512];

	snprintf(msg, sizeof(msg), fmt, a);
	return st_diags_add(d, ST_SEV_ERROR, "", 0, 0, "%s: field '%s' %s", ds, path, msg);
}

/* Checks that a field's transform is explicit and applies to its type, and fills the
 * transform details. Adds a problem and returns 1 when it cannot start. */
static int check_field(struct spec *s, const struct catalog_field *f, const char *ds,
		       struct st_diags *d)
{
	int sensitive = f->pii && (!strcmp(f->pii, "direct") || !strcmp(f->pii, "indirect") ||
				   !strcmp(f->pii, "sensitive"));

	s->transform = f->transform ? pii_transform_parse(f->transform) : PII_T_KEEP;
	s->norm = f->normalize ? pii_norm_parse(f->normalize) : pii_norm_for_category(f->category);
	s->scan = f->scan;
	if (sensitive && !f->transform) {
		problem(d, ds, f->path, "is %s but declares no transform", f->pii);
		return 1;
	}
	if (s->transform == PII_T_TRUNCATE) {
		if (s->type == F_DATE || s->type == F_TIMESTAMP)
			s->trunc = PII_TRUNC_DATE;
		else if (s->norm == PII_NORM_IP)
			s->trunc = PII_TRUNC_IP;
		else if (s->type == F_FLOAT || s->type == F_DECIMAL)
			s->trunc = PII_TRUNC_COORD;
		else {
			problem(d, ds, f->path, "cannot be truncated: it is a %s, not a date, an IP "
						"address or a coordinate",
				type_names[s->type]);
			return 1;
		}
	}
	if ((s->transform == PII_T_HASH || s->transform == PII_T_MASK ||
	     s->transform == PII_T_TRUNCATE) &&
	    (s->type == F_OBJECT || s->type == F_ARRAY || s->type == F_BOOL)) {
		problem(d, ds, f->path, "is a %s; only drop or keep apply to it", type_names[s->type]);
		return 1;
	}
	if (s->scan && s->type != F_STRING) {
		problem(d, ds, f->path, "has scan: true but is a %s, not a string",
			type_names[s->type]);
		return 1;
	}
	return 0;
}

static int build_plan(struct plan *p, struct catalog *c, const char *name, struct st_diags *d,
		      struct st_error *err)
{
	struct catalog_card card;
	int bad = 0, ret = -1;

	memset(p, 0, sizeof(*p));
	p->root.type = F_OBJECT;
	if (catalog_card_get(c, name, 0, &card, err))
		goto out;
	if (!(p->name = st_strdup(name)) || !(p->root.path = st_strdup("")))
		goto nomem;
	p->short_name = strchr(p->name, '.') + 1;
	for (size_t i = 0; i < card.nfields; i++) {
		const struct catalog_field *f = &card.fields[i];
		const char *dot = strrchr(f->path, '.');
		struct spec *parent = holder(&p->root, f->path, dot ? (size_t)(dot - f->path) : 0);
		struct spec *s;
		size_t cap;

		if (!parent)
			continue; /* under a field that is not an object: the loader said so */
		cap = parent->nfields;
		if (st_grow(&parent->fields, &cap, parent->nfields + 1, sizeof(*parent->fields)))
			goto nomem;
		s = &parent->fields[parent->nfields++];
		memset(s, 0, sizeof(*s));
		s->name = st_strdup(dot ? dot + 1 : f->path);
		s->path = st_strdup(f->path);
		s->category = f->category ? st_strdup(f->category) : NULL;
		if (!s->name || !s->path || (f->category && !s->category))
			goto nomem;
		s->name_len = strlen(s->name);
		s->type = parse_type(f->type);
		s->required = f->required;
		s->nullable = f->nullable;
		if (s->type == F_ARRAY) {
			s->items = st_calloc(1, sizeof(*s->items));
			if (!s->items || !(s->items->path = st_strdup(f->path)) ||
			    !(s->items->name = st_strdup(s->name)))
				goto nomem;
			s->items->type = parse_type(f->item_type ? f->item_type : "string");
			s->items->transform = PII_T_KEEP;
		}
		bad |= check_field(s, f, name, d);
	}
	ret = bad ? 1 : 0;
	goto out;
nomem:
	st_error_oom(err);
out:
	catalog_card_release(&card);
	return ret;
}

void pii_ingest_free(struct pii_ingest *ing)
{
	if (!ing)
		return;
	for (size_t i = 0; i < ing->nplans; i++) {
		spec_release(&ing->plans[i].root);
		st_free(ing->plans[i].name);
	}
	st_free(ing->plans);
	pii_hasher_free(ing->h);
	pii_json_tape_release(&ing->tape);
	st_buf_release(&ing->out);
	st_buf_release(&ing->scratch);
	st_buf_release(&ing->rej);
	if (ing->tmp)
		sodium_memzero(ing->tmp, ing->o.max_record + 1);
	st_free(ing->tmp);
	st_free(ing);
}

int pii_ingest_new(struct pii_ingest **out, struct catalog *c, const struct pii_key *key,
		   const struct pii_ingest_opts *o, struct st_diags *problems,
		   struct st_error *err)
{
	struct pii_ingest *ing = st_calloc(1, sizeof(*ing));
	char **names = NULL;
	size_t nnames = 0, len = strlen(o->dataset);
	int bad = 0, ret = -1;

	if (!ing)
		return st_error_oom(err);
	ing->o = *o;
	if (!ing->o.max_record)
		ing->o.max_record = PII_INGEST_DEFAULT_MAX_RECORD;
	if (!ing->o.label)
		ing->o.label = "event_type";
	ing->pattern = len > 2 && !strcmp(o->dataset + len - 2, ".*");
	if (ing->pattern) {
		char ns[256];

		if (len - 2 >= sizeof(ns)) {
			st_error_set(err, ST_E_USAGE, "dataset pattern '%s' is too long", o->dataset);
			goto out;
		}
		memcpy(ns, o->dataset, len - 2);
		ns[len - 2] = '\0';
		if (catalog_names_in(c, ns, &names, &nnames, err))
			goto out;
		if (!nnames) {
			st_error_set(err, ST_E_NOTFOUND, "no datasets match '%s'", o->dataset);
			goto out;
		}
	} else {
		names = st_calloc(1, sizeof(*names));
		if (!names || !(names[0] = st_strdup(o->dataset))) {
			st_error_oom(err);
			goto out;
		}
		nnames = 1;
	}
	ing->plans = st_calloc(nnames, sizeof(*ing->plans));
	if (!ing->plans) {
		st_error_oom(err);
		goto out;
	}
	for (size_t i = 0; i < nnames; i++) {
		int r = build_plan(&ing->plans[i], c, names[i], problems, err);

		if (r < 0)
			goto out;
		ing->nplans++;
		bad |= r;
	}
	if (bad) {
		st_error_set(err, ST_E_INVALID,
			     "%zu field%s hold%s personal data without a transform; declare one for "
			     "each (keep, hash, drop, mask or truncate) before ingesting",
			     problems->nerrors, problems->nerrors == 1 ? "" : "s",
			     problems->nerrors == 1 ? "s" : "");
		goto out;
	}
	ing->tmp = st_malloc(ing->o.max_record + 1);
	if (!ing->tmp || pii_hasher_new(&ing->h, key, err)) {
		if (!err->code)
			st_error_oom(err);
		goto out;
	}
	st_buf_init(&ing->out, ing->o.max_record * 4 + 4096);
	st_buf_init(&ing->scratch, ing->o.max_record * 4 + 4096);
	st_buf_init(&ing->rej, ing->o.max_record * 8 + 4096);
	*out = ing;
	ing = NULL;
	ret = 0;
out:
	for (size_t i = 0; i < nnames; i++)
		st_free(names[i]);
	st_free(names);
	pii_ingest_free(ing);
	return ret;
}

/* ---- rewriting one record ---- */

static int reject(struct pii_ingest *ing, int reason, const char *fmt, const char *a)
{
	ing->reason = reason;
	snprintf(ing->why, sizeof(ing->why), fmt, a);
	return -1;
}

/* The decoded text of a string node (quotes stripped, escapes decoded), in ing->tmp when
 * it had escapes, else pointing into the line. */
static const char *str_text(struct pii_ingest *ing, const char *line, const struct pii_jnode *n,
			    size_t *len)
{
	const char *body = line + n->start + 1;
	size_t blen = n->end - n->start - 2;

	if (!n->escaped) {
		*len = blen;
		return body;
	}
	*len = pii_json_unescape(body, blen, ing->tmp);
	return ing->tmp;
}

static const struct spec *find_spec(const struct spec *obj, const char *key, size_t klen)
{
	for (size_t i = 0; i < obj->nfields; i++)
		if (obj->fields[i].name_len == klen && klen && obj->fields[i].name[0] == key[0] &&
		    !memcmp(obj->fields[i].name, key, klen))
			return &obj->fields[i];
	return NULL;
}

/* Integer text within [min, max]? JSON grammar is already checked. */
static int int_in_range(const char *s, size_t n, int64_t min, int64_t max, int *is_int)
{
	int neg = s[0] == '-';
	uint64_t v = 0, lim = neg ? (uint64_t)(-(min + 1)) + 1 : (uint64_t)max;

	*is_int = 1;
	for (size_t i = neg; i < n; i++) {
		if (s[i] < '0' || s[i] > '9') {
			*is_int = 0;
			return 0;
		}
		if (v > (lim - (uint64_t)(s[i] - '0')) / 10)
			return 0;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	return 1;
}

static int valid_date(const char *s, size_t n, int timestamp)
{
	int month, day;

	if (n < 10 || s[4] != '-' || s[7] != '-')
		return 0;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return 0;
	month = (s[5] - '0') * 10 + (s[6] - '0');
	day = (s[8] - '0') * 10 + (s[9] - '0');
	if (month < 1 || month > 12 || day < 1 || day > 31)
		return 0;
	if (!timestamp)
		return n == 10;
	return n == 10 || ((s[10] == 'T' || s[10] == ' ') && n >= 16 && s[13] == ':');
}

static int emit_value(struct pii_ingest *ing, const char *line, const struct pii_jnode *n,
		      const struct spec *s);

/* Writes a pseudonym (or a typed one inside scanned text) for value text v. */
static int emit_hash(struct pii_ingest *ing, const struct spec *s, const char *v, size_t len)
{
	char norm[PII_NORM_MAX], ps[PII_PSEUDONYM_MAX];
	int n;

	if (s->norm != PII_NORM_NONE) {
		n = pii_normalize(s->norm, v, len, ing->o.country_code, norm);
		if (n < 0)
			return reject(ing, PII_R_VALUE, "field '%s' cannot be normalized", s->path);
		v = norm;
		len = (size_t)n;
	}
	n = pii_pseudonym(ing->h, s->category, v, len, ps, ing->err);
	sodium_memzero(norm, sizeof(norm));
	if (n < 0)
		return -2;
	if (st_buf_add(&ing->out, "\"", 1) || st_buf_add(&ing->out, ps, (size_t)n) ||
	    st_buf_add(&ing->out, "\"", 1))
		return reject(ing, PII_R_TOO_LONG, "record '%s' grows too long", s->path);
	return 0;
}

/* Free text: each detected value becomes <kind:pseudonym>. */
static int emit_scanned(struct pii_ingest *ing, const char *line, const struct pii_jnode *n,
			const struct spec *s)
{
	struct pii_match m[64];
	size_t len, found, at = 0;
	const char *text = str_text(ing, line, n, &len);

	found = pii_detect(text, len, m, 64);
	if (!found)
		return st_buf_add(&ing->out, line + n->start, n->end - n->start) ? -3 : 0;
	if (found > 64)
		return reject(ing, PII_R_VALUE, "field '%s' holds too many personal values", s->path);
	st_buf_reset(&ing->scratch);
	for (size_t i = 0; i < found; i++) {
		char norm[PII_NORM_MAX], ps[PII_PSEUDONYM_MAX];
		const char *v = text + m[i].start;
		size_t vlen = m[i].end - m[i].start;
		int norm_kind = m[i].kind == PII_EMAIL ? PII_NORM_EMAIL
				: m[i].kind == PII_PHONE ? PII_NORM_PHONE
				: m[i].kind == PII_IP	 ? PII_NORM_IP
							 : PII_NORM_NONE;
		int k = norm_kind == PII_NORM_NONE
				? -1
				: pii_normalize(norm_kind, v, vlen, ing->o.country_code, norm);

		if (k >= 0) {
			v = norm;
			vlen = (size_t)k;
		}
		k = pii_pseudonym(ing->h, pii_kind_category(m[i].kind), v, vlen, ps, ing->err);
		sodium_memzero(norm, sizeof(norm));
		if (k < 0)
			return -2;
		if (st_buf_add(&ing->scratch, text + at, m[i].start - at) ||
		    st_buf_addf(&ing->scratch, "<%s:%s>", pii_kind_name(m[i].kind), ps))
			return -3;
		at = m[i].end;
	}
	if (st_buf_add(&ing->scratch, text + at, len - at) ||
	    pii_json_quote(&ing->out, ing->scratch.p, ing->scratch.len))
		return -3;
	return 0;
}

/* Checks a scalar against its type and writes it, transformed. */
static int emit_scalar(struct pii_ingest *ing, const char *line, const struct pii_jnode *n,
		       const struct spec *s)
{
	const char *raw = line + n->start;
	size_t rlen = n->end - n->start, len;
	const char *text;
	char buf[PII_NORM_MAX];
	int is_int = 1, r;

	switch (s->type) {
	case F_INT:
	case F_INT64:
		if (n->type != PII_J_NUM)
			return reject(ing, PII_R_TYPE, "field '%s' must be an integer", s->path);
		if (!int_in_range(raw, rlen, s->type == F_INT ? INT32_MIN : INT64_MIN,
				  s->type == F_INT ? INT32_MAX : INT64_MAX, &is_int))
			return reject(ing, is_int ? PII_R_RANGE : PII_R_TYPE,
				      is_int ? "field '%s' is out of range"
					     : "field '%s' must be an integer",
				      s->path);
		break;
	case F_FLOAT:
	case F_DECIMAL:
		if (n->type != PII_J_NUM)
			return reject(ing, PII_R_TYPE, "field '%s' must be a number", s->path);
		break;
	case F_BOOL:
		if (n->type != PII_J_TRUE && n->type != PII_J_FALSE)
			return reject(ing, PII_R_TYPE, "field '%s' must be true or false", s->path);
		break;
	default:
		if (n->type != PII_J_STR)
			return reject(ing, PII_R_TYPE, "field '%s' must be a string", s->path);
		if (s->type == F_DATE || s->type == F_TIMESTAMP) {
			text = str_text(ing, line, n, &len);
			if (!valid_date(text, len, s->type == F_TIMESTAMP))
				return reject(ing, PII_R_VALUE,
					      s->type == F_DATE ? "field '%s' is not a date (YYYY-MM-DD)"
								: "field '%s' is not a timestamp",
					      s->path);
		}
	}
	switch (s->transform) {
	case PII_T_HASH:
		if (n->type == PII_J_STR) {
			text = str_text(ing, line, n, &len);
			return emit_hash(ing, s, text, len);
		}
		return emit_hash(ing, s, raw, rlen);
	case PII_T_MASK:
	case PII_T_TRUNCATE:
		if (n->type == PII_J_STR)
			text = str_text(ing, line, n, &len);
		else
			text = raw, len = rlen;
		r = s->transform == PII_T_MASK
			    ? pii_mask(text, len, buf, sizeof(buf))
			    : pii_truncate(s->trunc, text, len, buf, sizeof(buf));
		if (r < 0)
			return reject(ing, PII_R_VALUE,
				      s->transform == PII_T_MASK ? "field '%s' is too long to mask"
								 : "field '%s' cannot be truncated",
				      s->path);
		if (pii_json_quote(&ing->out, buf, (size_t)r))
			return -3;
		sodium_memzero(buf, sizeof(buf));
		return 0;
	default:
		if (s->scan && n->type == PII_J_STR)
			return emit_scanned(ing, line, n, s);
		return st_buf_add(&ing->out, raw, rlen) ? -3 : 0;
	}
}

/* Whether two member keys are equal, decoding escapes when either has them. */
static int same_key(struct pii_ingest *ing, const char *line, const struct pii_jnode *a,
		    const struct pii_jnode *b)
{
	size_t al = a->key_end - a->key_start, bl = b->key_end - b->key_start;

	if (!a->key_escaped && !b->key_escaped)
		return al == bl && !memcmp(line + a->key_start, line + b->key_start, al);
	{
		char *x = ing->tmp, *y;
		size_t xl = pii_json_unescape(line + a->key_start, al, x);

		y = x + xl + 1;
		return xl == pii_json_unescape(line + b->key_start, bl, y) && !memcmp(x, y, xl);
	}
}

/* Whether member m (the k-th of obj) repeats the key of an earlier member. */
static int dup_unknown(struct pii_ingest *ing, const char *line, const struct pii_jnode *obj,
		       uint32_t k, const struct pii_jnode *m)
{
	const struct pii_jtape *t = &ing->tape;

	for (uint32_t j = obj->first, q = 0; q < k; j = t->v[j].next, q++)
		if (same_key(ing, line, &t->v[j], m))
			return 1;
	return 0;
}

static int emit_object(struct pii_ingest *ing, const char *line, const struct pii_jnode *obj,
		       const struct spec *s)
{
	struct pii_jtape *t = &ing->tape;
	unsigned char seen_small[64], *seen = seen_small;
	int first = 1, ret = -1;

	if (s->nfields > sizeof(seen_small) && !(seen = st_calloc(s->nfields, 1)))
		return -3;
	memset(seen, 0, s->nfields < sizeof(seen_small) ? sizeof(seen_small) : 0);
	if (st_buf_add(&ing->out, "{", 1)) {
		ret = -3;
		goto out;
	}
	for (uint32_t i = obj->count ? obj->first : 0, k = 0; k < obj->count; i = t->v[i].next, k++) {
		const struct pii_jnode *m = &t->v[i];
		const char *key = line + m->key_start;
		size_t klen = m->key_end - m->key_start;
		const struct spec *f;

		if (m->key_escaped) {
			klen = pii_json_unescape(key, klen, ing->tmp);
			key = ing->tmp;
		}
		f = find_spec(s, key, klen);
		if (!f) {
			/* Dropped unknown fields are checked for duplicates too: whichever copy a
			 * later reader would pick, the record is ambiguous. */
			if (ing->o.unknown == PII_UNKNOWN_DROP && !dup_unknown(ing, line, obj, k, m))
				continue;
			ret = reject(ing, ing->o.unknown == PII_UNKNOWN_DROP ? PII_R_DUP_KEY
									      : PII_R_UNKNOWN_FIELD,
				     ing->o.unknown == PII_UNKNOWN_DROP
					     ? "duplicate key in '%s'"
					     : "a field not in the schema, under '%s'",
				     *s->path ? s->path : "the record");
			goto out;
		}
		/* Duplicate keys, escaped spellings included: a later value must never win. */
		if (seen[f - s->fields]) {
			ret = reject(ing, PII_R_DUP_KEY, "duplicate key '%s'", f->path);
			goto out;
		}
		seen[f - s->fields] = 1;
		if (f->transform == PII_T_DROP && m->type != PII_J_NULL) {
			/* Dropped, but checked first: a value of the wrong type means drift. */
			size_t mark = ing->out.len;
			int r = emit_value(ing, line, m, f);

			ing->out.len = mark;
			if (ing->out.p)
				ing->out.p[mark] = '\0';
			if (r) {
				ret = r;
				goto out;
			}
			continue;
		}
		if ((!first && st_buf_add(&ing->out, ",", 1)) ||
		    st_buf_add(&ing->out, line + m->key_start - 1, m->key_end - m->key_start + 2) ||
		    st_buf_add(&ing->out, ":", 1)) {
			ret = -3;
			goto out;
		}
		first = 0;
		if ((ret = emit_value(ing, line, m, f)))
			goto out;
	}
	for (size_t k = 0; k < s->nfields; k++)
		if (s->fields[k].required && !seen[k]) {
			ret = reject(ing, PII_R_MISSING_FIELD, "required field '%s' is missing",
				     s->fields[k].path);
			goto out;
		}
	ret = st_buf_add(&ing->out, "}", 1) ? -3 : 0;
out:
	if (seen != seen_small)
		st_free(seen);
	return ret;
}

static int emit_value(struct pii_ingest *ing, const char *line, const struct pii_jnode *n,
		      const struct spec *s)
{
	struct pii_jtape *t = &ing->tape;

	if (n->type == PII_J_NULL) {
		if (!s->nullable)
			return reject(ing, PII_R_NULL, "field '%s' must not be null", s->path);
		return st_buf_add(&ing->out, "null", 4) ? -3 : 0;
	}
	if (s->type == F_OBJECT) {
		if (n->type != PII_J_OBJ)
			return reject(ing, PII_R_TYPE, "field '%s' must be an object", s->path);
		return emit_object(ing, line, n, s);
	}
	if (s->type == F_ARRAY) {
		int first = 1, r;

		if (n->type != PII_J_ARR)
			return reject(ing, PII_R_TYPE, "field '%s' must be an array", s->path);
		if (st_buf_add(&ing->out, "[", 1))
			return -3;
		for (uint32_t i = n->count ? n->first : 0, k = 0; k < n->count; i = t->v[i].next, k++) {
			if (!first && st_buf_add(&ing->out, ",", 1))
				return -3;
			first = 0;
			if (t->v[i].type == PII_J_NULL)
				return reject(ing, PII_R_NULL, "an element of '%s' is null", s->path);
			if ((r = emit_value(ing, line, &t->v[i], s->items)))
				return r;
		}
		return st_buf_add(&ing->out, "]", 1) ? -3 : 0;
	}
	if (n->type == PII_J_OBJ || n->type == PII_J_ARR)
		return reject(ing, PII_R_TYPE, "field '%s' must be a scalar", s->path);
	return emit_scalar(ing, line, n, s);
}

/* Picks the plan for a record: the one dataset, or the one its label field names. */
static const struct plan *pick_plan(struct pii_ingest *ing, const char *line)
{
	const struct pii_jnode *root = &ing->tape.v[0];
	size_t lablen = strlen(ing->o.label);

	if (!ing->pattern)
		return &ing->plans[0];
	for (uint32_t i = root->count ? root->first : 0, k = 0; k < root->count;
	     i = ing->tape.v[i].next, k++) {
		const struct pii_jnode *m = &ing->tape.v[i];
		size_t klen = m->key_end - m->key_start, vlen;
		const char *key = line + m->key_start, *v;

		if (m->key_escaped) {
			klen = pii_json_unescape(key, klen, ing->tmp);
			key = ing->tmp;
		}
		if (klen != lablen || memcmp(key, ing->o.label, lablen))
			continue;
		if (m->type != PII_J_STR)
			break;
		v = str_text(ing, line, m, &vlen);
		for (size_t p = 0; p < ing->nplans; p++)
			if (strlen(ing->plans[p].short_name) == vlen &&
			    !memcmp(ing->plans[p].short_name, v, vlen))
				return &ing->plans[p];
		reject(ing, PII_R_UNKNOWN_LABEL, "'%s' names no dataset in the pattern", ing->o.label);
		return NULL;
	}
	reject(ing, PII_R_NO_LABEL, "the label field '%s' is missing or not a string",
	       ing->o.label);
	return NULL;
}

/* ---- output ---- */

static int write_all(int fd, const char *p, size_t n, struct st_error *err, const char *what)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return st_error_set(err, ST_E_SYSTEM, "cannot write %s: %s", what,
					    w < 0 ? strerror(errno) : "short write");
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

struct outbuf {
	int fd;
	const char *what;
	char *p;
	size_t n, cap;
};

static int out_flush(struct outbuf *o, struct st_error *err)
{
	int r = write_all(o->fd, o->p, o->n, err, o->what);

	o->n = 0;
	return r;
}

static int out_add(struct outbuf *o, const char *p, size_t n, struct st_error *err)
{
	if (o->n + n > o->cap && out_flush(o, err))
		return -1;
	if (n > o->cap)
		return write_all(o->fd, p, n, err, o->what);
	memcpy(o->p + o->n, p, n);
	o->n += n;
	return 0;
}

static int utf8_valid(const char *s, size_t n)
{
	unsigned line, col;

	return !catalog_utf8_check((const unsigned char *)s, n, &line, &col);
}

/* The rejects entry for a record held whole in memory. */
static int write_reject(struct pii_ingest *ing, struct outbuf *rej, const char *line, size_t len)
{
	struct st_buf *b = &ing->rej;
	int r;

	st_buf_reset(b);
	r = st_buf_addf(b, "{\"line\":%llu,\"code\":\"%s\",\"reason\":", (unsigned long long)ing->line,
			pii_reject_code(ing->reason)) ||
	    pii_json_quote(b, ing->why, strlen(ing->why));
	if (!r && utf8_valid(line, len)) {
		r = st_buf_adds(b, ",\"record\":") || pii_json_quote(b, line, len);
	} else if (!r) {
		size_t b64 = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
		char *enc = st_malloc(b64);

		r = !enc || st_buf_adds(b, ",\"record_base64\":\"");
		if (!r) {
			sodium_bin2base64(enc, b64, (const unsigned char *)line, len,
					  sodium_base64_VARIANT_ORIGINAL);
			r = st_buf_adds(b, enc) || st_buf_adds(b, "\"");
		}
		st_free(enc);
	}
	if (r || st_buf_adds(b, "}\n"))
		return st_error_oom(ing->err);
	ing->st->rejected++;
	ing->st->by_reason[ing->reason]++;
	return out_add(rej, b->p, b->len, ing->err);
}

static int process_line(struct pii_ingest *ing, struct outbuf *out, struct outbuf *rej,
			const char *line, size_t len)
{
	static const int jerr_reason[] = {0, PII_R_MALFORMED, PII_R_UTF8, PII_R_ESCAPE, PII_R_DEPTH,
					  0};
	struct pii_jerr je;
	const struct plan *plan;
	int r;

	ing->st->in++;
	st_buf_reset(&ing->out);
	if (pii_json_parse(line, len, &ing->tape, &je)) {
		if (je.code == PII_JE_NOMEM)
			return st_error_oom(ing->err);
		ing->reason = jerr_reason[je.code];
		snprintf(ing->why, sizeof(ing->why), "%s at byte %zu", je.msg, je.offset + 1);
		return write_reject(ing, rej, line, len);
	}
	if (ing->tape.v[0].type != PII_J_OBJ) {
		reject(ing, PII_R_NOT_OBJECT, "%s", "the record is not a JSON object");
		return write_reject(ing, rej, line, len);
	}
	plan = pick_plan(ing, line);
	if (!plan)
		return write_reject(ing, rej, line, len);
	r = emit_object(ing, line, &ing->tape.v[0], &plan->root);
	if (r == -1)
		return write_reject(ing, rej, line, len);
	if (r == -2)
		return -1;
	if (r == -3) {
		/* The rewritten record outgrew its bound: quarantine it rather than cut it. */
		reject(ing, PII_R_TOO_LONG, "%s", "the record grows too long when rewritten");
		return write_reject(ing, rej, line, len);
	}
	if (st_buf_add(&ing->out, "\n", 1))
		return st_error_oom(ing->err);
	ing->st->out++;
	ing->st->bytes_out += ing->out.len;
	return out_add(out, ing->out.p, ing->out.len, ing->err);
}

/* Base64 in pieces: whole 3-byte groups are encoded as they come, the rest is carried. */
struct b64 {
	unsigned char carry[3];
	size_t ncarry;
};

static int b64_feed(struct b64 *b, struct outbuf *o, const char *p, size_t n,
		    struct st_error *err)
{
	unsigned char chunk[6144];
	char enc[8200];

	while (n) {
		size_t c = b->ncarry, take;

		memcpy(chunk, b->carry, c);
		take = sizeof(chunk) - c < n ? sizeof(chunk) - c : n;
		memcpy(chunk + c, p, take);
		c += take;
		p += take;
		n -= take;
		b->ncarry = c % 3;
		memcpy(b->carry, chunk + c - b->ncarry, b->ncarry);
		c -= b->ncarry;
		if (c) {
			sodium_bin2base64(enc, sizeof(enc), chunk, c, sodium_base64_VARIANT_ORIGINAL);
			if (out_add(o, enc, strlen(enc), err))
				return -1;
		}
	}
	return 0;
}

static int b64_end(struct b64 *b, struct outbuf *o, struct st_error *err)
{
	char enc[8];

	if (!b->ncarry)
		return 0;
	sodium_bin2base64(enc, sizeof(enc), b->carry, b->ncarry, sodium_base64_VARIANT_ORIGINAL);
	return out_add(o, enc, strlen(enc), err);
}

/* Streams an over-long line, whose first n bytes are at head (inside buf), into the
 * rejects file as base64, reading on to its newline, so that memory stays bounded and
 * nothing is lost. Leaves what follows the newline at buf[*keep_off], *keep_len bytes. */
static int reject_long(struct pii_ingest *ing, struct outbuf *rej, int fd, const char *head,
		       size_t n, char *buf, size_t cap, size_t *keep_off, size_t *keep_len,
		       int *eof)
{
	struct b64 b = {{0}, 0};
	const char *p = head, *end = head + n;
	char hdr[256];

	ing->st->in++;
	ing->st->rejected++;
	ing->st->by_reason[PII_R_TOO_LONG]++;
	snprintf(hdr, sizeof(hdr),
		 "{\"line\":%llu,\"code\":\"too-long\",\"reason\":\"record longer than %zu bytes\","
		 "\"record_base64\":\"",
		 (unsigned long long)ing->line, ing->o.max_record);
	if (out_add(rej, hdr, strlen(hdr), ing->err))
		return -1;
	*keep_off = *keep_len = 0;
	for (;;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *seg = nl ? nl : end;
		ssize_t r;

		ing->st->bytes_in += (size_t)(seg - p) + (nl ? 1 : 0);
		if (b64_feed(&b, rej, p, (size_t)(seg - p), ing->err))
			return -1;
		if (nl) {
			*keep_off = (size_t)(nl + 1 - buf);
			*keep_len = (size_t)(end - nl - 1);
			break;
		}
		do
			r = read(fd, buf, cap);
		while (r < 0 && errno == EINTR);
		if (r < 0)
			return st_error_set(ing->err, ST_E_SYSTEM, "cannot read input: %s",
					    strerror(errno));
		if (r == 0) {
			*eof = 1;
			break;
		}
		p = buf;
		end = buf + r;
	}
	if (b64_end(&b, rej, ing->err))
		return -1;
	return out_add(rej, "\"}\n", 3, ing->err);
}

static int blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return 0;
	return 1;
}

int pii_ingest_run(struct pii_ingest *ing, int in_fd, int out_fd, int rej_fd,
		   struct pii_ingest_stats *stats, struct st_error *err)
{
	size_t cap = ing->o.max_record + 65536, have = 0, off = 0;
	struct outbuf out = {out_fd, "the output", NULL, 0, 1 << 16};
	struct outbuf rej = {rej_fd, "the rejects file", NULL, 0, 1 << 16};
	char *buf = st_malloc(cap);
	int eof = 0, ret = -1;

	memset(stats, 0, sizeof(*stats));
	ing->st = stats;
	ing->err = err;
	ing->line = 0;
	out.p = st_malloc(out.cap);
	rej.p = st_malloc(rej.cap);
	if (!buf || !out.p || !rej.p) {
		st_error_oom(err);
		goto out;
	}
	for (;;) {
		char *start = buf + off, *nl = memchr(start, '\n', have);

		if (!nl && !eof) {
			ssize_t r;

			if (have > ing->o.max_record + 1) {
				size_t keep_off, keep_len;

				/* No newline within the limit: quarantine the line, streaming. */
				ing->line++;
				if (reject_long(ing, &rej, in_fd, start, have, buf, cap, &keep_off,
						&keep_len, &eof))
					goto out;
				off = keep_off;
				have = keep_len;
				continue;
			}
			if (off) {
				memmove(buf, start, have);
				off = 0;
				start = buf;
			}
			do
				r = read(in_fd, buf + have, cap - have);
			while (r < 0 && errno == EINTR);
			if (r < 0) {
				st_error_set(err, ST_E_SYSTEM, "cannot read input: %s", strerror(errno));
				goto out;
			}
			if (r == 0)
				eof = 1;
			have += (size_t)r;
			continue;
		}
		if (!nl && !have)
			break;
		{
			size_t len = nl ? (size_t)(nl - start) : have;

			ing->line++;
			stats->bytes_in += len + (nl ? 1 : 0);
			if (len && start[len - 1] == '\r')
				len--;
			if (len > ing->o.max_record) {
				ing->reason = PII_R_TOO_LONG;
				snprintf(ing->why, sizeof(ing->why), "record longer than %zu bytes",
					 ing->o.max_record);
				stats->in++;
				if (write_reject(ing, &rej, start, len))
					goto out;
			} else if (!blank(start, len) && process_line(ing, &out, &rej, start, len)) {
				goto out;
			}
			if (nl) {
				off += (size_t)(nl - start) + 1;
				have -= (size_t)(nl - start) + 1;
			} else {
				have = 0;
			}
		}
		if (ing->o.progress && ing->o.progress_every && stats->in % ing->o.progress_every == 0)
			ing->o.progress(ing->o.progress_ctx, stats->in, stats->bytes_in);
	}
	if (out_flush(&out, err) || out_flush(&rej, err))
		goto out;
	ret = 0;
out:
	st_free(buf);
	st_free(out.p);
	st_free(rej.p);
	return ret;
}
