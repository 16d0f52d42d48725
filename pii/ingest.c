/* The pre-ingest hook for JSON lines: plan from the catalog, bounded line reader, strict
 * parse onto a tape, then a rewrite that copies untouched values byte for byte and writes
 * only the values it transforms. */
#include "ingest.h"
#include "alloc.h"
#include "buf.h"
#include "json.h"
#include "utf8.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const reject_codes[PII_R_COUNT] = {
	"malformed-json", "invalid-utf8", "invalid-escape", "too-deep", "too-long",
	"duplicate-key", "not-an-object", "missing-label", "unknown-label", "unknown-field",
	"missing-field", "wrong-type", "out-of-range", "null-not-allowed", "invalid-value",
	"ragged-row", "malformed-csv",
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
	int suppress;        /* its category is on the suppression list */
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
	const struct pii_key *key;
};

/* What one thread needs to rewrite records: its own tape, buffers and subkey cache. */
struct wctx {
	const struct pii_ingest *ing;
	struct pii_hasher *h;
	struct pii_jtape tape;
	struct st_buf out, val, rej;
	char *tmp;       /* unescape space, max_record + 1 bytes */
	struct pii_ingest_stats st;
	uint64_t line;
	int reason;      /* set by the rewrite when it rejects */
	int suppressed;  /* the record belongs to a suppressed subject */
	char why[256];
	struct st_error err;
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

/* Flags the fields whose category is on the suppression list, so only they are checked. */
static void mark_suppressed(struct spec *s, const struct pii_ingest_opts *o)
{
	for (size_t i = 0; s->category && !s->suppress && i < o->nsuppress; i++)
		s->suppress = !strcmp(o->suppress_categories[i], s->category);
	for (size_t i = 0; i < s->nfields; i++)
		mark_suppressed(&s->fields[i], o);
	if (s->items)
		mark_suppressed(s->items, o);
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
	if (ing->pattern && o->format == PII_FMT_CSV) {
		st_error_set(err, ST_E_USAGE, "CSV input goes to one dataset, not to '%s'",
			     o->dataset);
		goto out;
	}
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

		ing->nplans++; /* a half-built plan is freed with the rest */
		if (r < 0)
			goto out;
		bad |= r;
		mark_suppressed(&ing->plans[i].root, o);
	}
	if (bad) {
		st_error_set(err, ST_E_INVALID,
			     "%zu field%s hold%s personal data without a transform; declare one for "
			     "each (keep, hash, drop, mask or truncate) before ingesting",
			     problems->nerrors, problems->nerrors == 1 ? "" : "s",
			     problems->nerrors == 1 ? "s" : "");
		goto out;
	}
	if (!key->secret) {
		st_error_set(err, ST_E_SYSTEM, "key '%s' is not loaded", key->id);
		goto out;
	}
	ing->key = key;
	*out = ing;
	ing = NULL;
	ret = 0;
out:
	st_free_strv(names, nnames);
	pii_ingest_free(ing);
	return ret;
}

/* ---- rewriting one record ---- */

static int reject(struct wctx *w, int reason, const char *fmt, const char *a)
{
	w->reason = reason;
	snprintf(w->why, sizeof(w->why), fmt, a);
	return -1;
}

/* The decoded text of a string node (quotes stripped, escapes decoded), in w->tmp when
 * it had escapes, else pointing into the line. */
static const char *str_text(struct wctx *w, const char *line, const struct pii_jnode *n,
			    size_t *len)
{
	const char *body = line + n->start + 1;
	size_t blen = n->end - n->start - 2;

	if (!n->escaped) {
		*len = blen;
		return body;
	}
	*len = pii_json_unescape(body, blen, w->tmp);
	return w->tmp;
}

/* Finds the field named key. Records mostly list fields in schema order, so the field after
 * the previous match (*hint) is tried first. */
static const struct spec *find_spec_from(const struct spec *obj, const char *key, size_t klen,
					 size_t *hint)
{
	if (*hint < obj->nfields) {
		const struct spec *f = &obj->fields[*hint];

		if (f->name_len == klen && !memcmp(f->name, key, klen)) {
			(*hint)++;
			return f;
		}
	}
	for (size_t i = 0; i < obj->nfields; i++)
		if (obj->fields[i].name_len == klen && klen && obj->fields[i].name[0] == key[0] &&
		    !memcmp(obj->fields[i].name, key, klen)) {
			*hint = i + 1;
			return &obj->fields[i];
		}
	return NULL;
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

static int emit_value(struct wctx *w, const char *line, const struct pii_jnode *n,
		      const struct spec *s);

/* Whether (category, pseudonym) is on the sorted suppression list. */
static int on_list(const struct pii_ingest_opts *o, const char *cat, const char *p, size_t plen)
{
	size_t lo = 0, hi = o->nsuppress;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(o->suppress_categories[mid], cat);

		if (!c) {
			c = strncmp(o->suppress_pseudonyms[mid], p, plen);
			if (!c && o->suppress_pseudonyms[mid][plen])
				c = 1;
		}
		if (!c)
			return 1;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* Marks the record suppressed when value text v of field s identifies a subject on the
 * suppression list: as it is (already a pseudonym) or hashed under the current key.
 * Returns 0, or -2 on a system error. */
static int check_suppressed(struct wctx *w, const struct spec *s, const char *v, size_t len)
{
	char ps[PII_PSEUDONYM_MAX];
	int n;

	if (w->suppressed || on_list(&w->ing->o, s->category, v, len)) {
		w->suppressed = 1;
		return 0;
	}
	n = pii_pseudonymize(w->h, s->norm, s->category, v, len, w->ing->o.country_code, ps,
			     &w->err);
	if (n == PII_NOT_OF_KIND)
		return 0; /* not a value of that kind: it identifies nobody */
	if (n < 0)
		return -2;
	if (on_list(&w->ing->o, s->category, ps, (size_t)n))
		w->suppressed = 1;
	return 0;
}

/* The pseudonym of value text v, into w->val. */
static int hash_text(struct wctx *w, const struct spec *s, const char *v, size_t len)
{
	char ps[PII_PSEUDONYM_MAX];
	int n = pii_pseudonymize(w->h, s->norm, s->category, v, len, w->ing->o.country_code, ps,
				 &w->err);

	if (n == PII_NOT_OF_KIND)
		return reject(w, PII_R_VALUE, "field '%s' cannot be normalized", s->path);
	if (n < 0)
		return -2;
	return st_buf_add(&w->val, ps, (size_t)n) ? -3 : 0;
}

/* Free text: each detected value becomes <kind:pseudonym>, into w->val. Sets *found. */
static int scan_text(struct wctx *w, const struct spec *s, const char *text, size_t len,
		     size_t *found)
{
	struct pii_match m[64];
	size_t at = 0;

	*found = pii_detect(text, len, m, 64);
	if (*found > 64)
		return reject(w, PII_R_VALUE, "field '%s' holds too many personal values", s->path);
	for (size_t i = 0; i < *found; i++) {
		char ps[PII_PSEUDONYM_MAX];
		const char *v = text + m[i].start, *category = pii_kind_category(m[i].kind);
		size_t vlen = m[i].end - m[i].start;
		int norm = m[i].kind == PII_EMAIL   ? PII_NORM_EMAIL
			   : m[i].kind == PII_PHONE ? PII_NORM_PHONE
			   : m[i].kind == PII_IP    ? PII_NORM_IP
						    : PII_NORM_NONE;
		int k = pii_pseudonymize(w->h, norm, category, v, vlen, w->ing->o.country_code, ps,
					 &w->err);

		/* a detected value the normalizer does not take is hashed as it is written */
		if (k == PII_NOT_OF_KIND)
			k = pii_pseudonymize(w->h, PII_NORM_NONE, category, v, vlen, NULL, ps,
					     &w->err);
		if (k < 0)
			return -2;
		if (st_buf_add(&w->val, text + at, m[i].start - at) ||
		    st_buf_addf(&w->val, "<%s:%s>", pii_kind_name(m[i].kind), ps))
			return -3;
		at = m[i].end;
	}
	return st_buf_add(&w->val, text + at, len - at) ? -3 : 0;
}

/* Applies s's transform to value text (a decoded string, or a number's text). On 0, *res
 * is the text to write: w->val, or text itself when nothing changed. Returns -1 when the
 * record is rejected, -2 on a system error, -3 when it grows past its bound. */
static int transform_text(struct wctx *w, const struct spec *s, const char *text, size_t len,
			  const char **res, size_t *rlen)
{
	char buf[PII_NORM_MAX];
	size_t found = 1;
	int r = 0;

	st_buf_reset(&w->val);
	switch (s->transform) {
	case PII_T_HASH:
		r = hash_text(w, s, text, len);
		break;
	case PII_T_MASK:
	case PII_T_TRUNCATE:
		r = s->transform == PII_T_MASK ? pii_mask(text, len, buf, sizeof(buf))
					       : pii_truncate(s->trunc, text, len, buf, sizeof(buf));
		if (r < 0)
			return reject(w, PII_R_VALUE,
				      s->transform == PII_T_MASK ? "field '%s' is too long to mask"
								 : "field '%s' cannot be truncated",
				      s->path);
		r = st_buf_add(&w->val, buf, (size_t)r) ? -3 : 0;
		sodium_memzero(buf, sizeof(buf));
		break;
	default:
		if (s->scan)
			r = scan_text(w, s, text, len, &found);
		else
			found = 0;
	}
	if (r)
		return r;
	if (!found) {
		*res = text;
		*rlen = len;
	} else {
		*res = w->val.p ? w->val.p : "";
		*rlen = w->val.len;
	}
	return 0;
}

/* Checks a scalar against its type and writes it, transformed. */
static int emit_scalar(struct wctx *w, const char *line, const struct pii_jnode *n,
		       const struct spec *s)
{
	const char *raw = line + n->start, *text, *res;
	size_t rlen = n->end - n->start, len, outlen;
	int is_int = 1, r;

	switch (s->type) {
	case F_INT:
	case F_INT64:
		if (n->type != PII_J_NUM)
			return reject(w, PII_R_TYPE, "field '%s' must be an integer", s->path);
		if (!int_in_range(raw, rlen, s->type == F_INT ? INT32_MIN : INT64_MIN,
				  s->type == F_INT ? INT32_MAX : INT64_MAX, &is_int))
			return reject(w, is_int ? PII_R_RANGE : PII_R_TYPE,
				      is_int ? "field '%s' is out of range"
					     : "field '%s' must be an integer",
				      s->path);
		break;
	case F_FLOAT:
	case F_DECIMAL:
		if (n->type != PII_J_NUM)
			return reject(w, PII_R_TYPE, "field '%s' must be a number", s->path);
		break;
	case F_BOOL:
		if (n->type != PII_J_TRUE && n->type != PII_J_FALSE)
			return reject(w, PII_R_TYPE, "field '%s' must be true or false", s->path);
		break;
	default:
		if (n->type != PII_J_STR)
			return reject(w, PII_R_TYPE, "field '%s' must be a string", s->path);
		if (s->type == F_DATE || s->type == F_TIMESTAMP) {
			text = str_text(w, line, n, &len);
			if (!valid_date(text, len, s->type == F_TIMESTAMP))
				return reject(w, PII_R_VALUE,
					      s->type == F_DATE ? "field '%s' is not a date (YYYY-MM-DD)"
								: "field '%s' is not a timestamp",
					      s->path);
		}
	}
	if (s->suppress) {
		if (n->type == PII_J_STR)
			text = str_text(w, line, n, &len);
		else
			text = raw, len = rlen;
		if (check_suppressed(w, s, text, len))
			return -2;
	}
	/* Kept values are copied byte for byte, escapes and all. */
	if (s->transform == PII_T_KEEP && !s->scan)
		return st_buf_add(&w->out, raw, rlen) ? -3 : 0;
	if (n->type == PII_J_STR)
		text = str_text(w, line, n, &len);
	else
		text = raw, len = rlen;
	if ((r = transform_text(w, s, text, len, &res, &outlen)))
		return r;
	if (res == text)
		return st_buf_add(&w->out, raw, rlen) ? -3 : 0;
	if (s->transform == PII_T_HASH) /* a pseudonym needs no escaping */
		return st_buf_add(&w->out, "\"", 1) || st_buf_add(&w->out, res, outlen) ||
			       st_buf_add(&w->out, "\"", 1)
			       ? -3
			       : 0;
	return pii_json_quote(&w->out, res, outlen) ? -3 : 0;
}

/* Whether two member keys are equal, decoding escapes when either has them. */
static int same_key(struct wctx *w, const char *line, const struct pii_jnode *a,
		    const struct pii_jnode *b)
{
	size_t al = a->key_end - a->key_start, bl = b->key_end - b->key_start;

	if (!a->key_escaped && !b->key_escaped)
		return al == bl && !memcmp(line + a->key_start, line + b->key_start, al);
	{
		char *x = w->tmp, *y;
		size_t xl = pii_json_unescape(line + a->key_start, al, x);

		y = x + xl + 1;
		return xl == pii_json_unescape(line + b->key_start, bl, y) && !memcmp(x, y, xl);
	}
}

/* Whether member m (the k-th of obj) repeats the key of an earlier member. */
static int dup_unknown(struct wctx *w, const char *line, const struct pii_jnode *obj,
		       uint32_t k, const struct pii_jnode *m)
{
	const struct pii_jtape *t = &w->tape;

	for (uint32_t j = obj->first, q = 0; q < k; j = t->v[j].next, q++)
		if (same_key(w, line, &t->v[j], m))
			return 1;
	return 0;
}

static int emit_object(struct wctx *w, const char *line, const struct pii_jnode *obj,
		       const struct spec *s)
{
	struct pii_jtape *t = &w->tape;
	unsigned char seen_small[64], *seen = seen_small;
	size_t hint = 0;
	int first = 1, ret = -1;

	if (s->nfields > sizeof(seen_small) && !(seen = st_calloc(s->nfields, 1)))
		return -3;
	if (seen == seen_small)
		memset(seen, 0, s->nfields); /* a larger one comes zeroed from st_calloc */
	if (st_buf_add(&w->out, "{", 1)) {
		ret = -3;
		goto out;
	}
	for (uint32_t i = obj->count ? obj->first : 0, k = 0; k < obj->count; i = t->v[i].next, k++) {
		const struct pii_jnode *m = &t->v[i];
		const char *key = line + m->key_start;
		size_t klen = m->key_end - m->key_start;
		const struct spec *f;

		if (m->key_escaped) {
			klen = pii_json_unescape(key, klen, w->tmp);
			key = w->tmp;
		}
		f = find_spec_from(s, key, klen, &hint);
		if (!f) {
			/* Dropped unknown fields are checked for duplicates too: whichever copy a
			 * later reader would pick, the record is ambiguous. */
			if (w->ing->o.unknown == PII_UNKNOWN_DROP && !dup_unknown(w, line, obj, k, m))
				continue;
			ret = reject(w, w->ing->o.unknown == PII_UNKNOWN_DROP ? PII_R_DUP_KEY
									      : PII_R_UNKNOWN_FIELD,
				     w->ing->o.unknown == PII_UNKNOWN_DROP
					     ? "duplicate key in '%s'"
					     : "a field not in the schema, under '%s'",
				     *s->path ? s->path : "the record");
			goto out;
		}
		/* Duplicate keys, escaped spellings included: a later value must never win. */
		if (seen[f - s->fields]) {
			ret = reject(w, PII_R_DUP_KEY, "duplicate key '%s'", f->path);
			goto out;
		}
		seen[f - s->fields] = 1;
		if (f->transform == PII_T_DROP && m->type != PII_J_NULL) {
			/* Dropped, but checked first: a value of the wrong type means drift. */
			size_t mark = w->out.len;
			int r = emit_value(w, line, m, f);

			w->out.len = mark;
			if (w->out.p)
				w->out.p[mark] = '\0';
			if (r) {
				ret = r;
				goto out;
			}
			continue;
		}
		if ((!first && st_buf_add(&w->out, ",", 1)) ||
		    st_buf_add(&w->out, line + m->key_start - 1, m->key_end - m->key_start + 2) ||
		    st_buf_add(&w->out, ":", 1)) {
			ret = -3;
			goto out;
		}
		first = 0;
		if ((ret = emit_value(w, line, m, f)))
			goto out;
	}
	for (size_t k = 0; k < s->nfields; k++)
		if (s->fields[k].required && !seen[k]) {
			ret = reject(w, PII_R_MISSING_FIELD, "required field '%s' is missing",
				     s->fields[k].path);
			goto out;
		}
	ret = st_buf_add(&w->out, "}", 1) ? -3 : 0;
out:
	if (seen != seen_small)
		st_free(seen);
	return ret;
}

static int emit_value(struct wctx *w, const char *line, const struct pii_jnode *n,
		      const struct spec *s)
{
	struct pii_jtape *t = &w->tape;

	if (n->type == PII_J_NULL) {
		if (!s->nullable)
			return reject(w, PII_R_NULL, "field '%s' must not be null", s->path);
		return st_buf_add(&w->out, "null", 4) ? -3 : 0;
	}
	if (s->type == F_OBJECT) {
		if (n->type != PII_J_OBJ)
			return reject(w, PII_R_TYPE, "field '%s' must be an object", s->path);
		return emit_object(w, line, n, s);
	}
	if (s->type == F_ARRAY) {
		int first = 1, r;

		if (n->type != PII_J_ARR)
			return reject(w, PII_R_TYPE, "field '%s' must be an array", s->path);
		if (st_buf_add(&w->out, "[", 1))
			return -3;
		for (uint32_t i = n->count ? n->first : 0, k = 0; k < n->count; i = t->v[i].next, k++) {
			if (!first && st_buf_add(&w->out, ",", 1))
				return -3;
			first = 0;
			if (t->v[i].type == PII_J_NULL)
				return reject(w, PII_R_NULL, "an element of '%s' is null", s->path);
			if ((r = emit_value(w, line, &t->v[i], s->items)))
				return r;
		}
		return st_buf_add(&w->out, "]", 1) ? -3 : 0;
	}
	if (n->type == PII_J_OBJ || n->type == PII_J_ARR)
		return reject(w, PII_R_TYPE, "field '%s' must be a scalar", s->path);
	return emit_scalar(w, line, n, s);
}

/* Picks the plan for a record: the one dataset, or the one its label field names. */
static const struct plan *pick_plan(struct wctx *w, const char *line)
{
	const struct pii_jnode *root = &w->tape.v[0];
	size_t lablen = strlen(w->ing->o.label);

	if (!w->ing->pattern)
		return &w->ing->plans[0];
	for (uint32_t i = root->count ? root->first : 0, k = 0; k < root->count;
	     i = w->tape.v[i].next, k++) {
		const struct pii_jnode *m = &w->tape.v[i];
		size_t klen = m->key_end - m->key_start, vlen;
		const char *key = line + m->key_start, *v;

		if (m->key_escaped) {
			klen = pii_json_unescape(key, klen, w->tmp);
			key = w->tmp;
		}
		if (klen != lablen || memcmp(key, w->ing->o.label, lablen))
			continue;
		if (m->type != PII_J_STR)
			break;
		v = str_text(w, line, m, &vlen);
		for (size_t p = 0; p < w->ing->nplans; p++)
			if (strlen(w->ing->plans[p].short_name) == vlen &&
			    !memcmp(w->ing->plans[p].short_name, v, vlen))
				return &w->ing->plans[p];
		reject(w, PII_R_UNKNOWN_LABEL, "'%s' names no dataset in the pattern", w->ing->o.label);
		return NULL;
	}
	reject(w, PII_R_NO_LABEL, "the label field '%s' is missing or not a string",
	       w->ing->o.label);
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

/* Where rewritten records and reject entries go: a buffered file descriptor, or (fd < 0)
 * memory that a worker fills for the writer. */
struct sink {
	int fd;
	const char *what;
	struct st_buf b;
};

static int sink_flush(struct sink *o, struct st_error *err)
{
	int r = 0;

	if (o->fd >= 0) {
		r = write_all(o->fd, o->b.p, o->b.len, err, o->what);
		st_buf_reset(&o->b);
	}
	return r;
}

static int sink_add(struct sink *o, const char *p, size_t n, struct st_error *err)
{
	if (o->fd >= 0 && o->b.len + n > (1 << 16) && sink_flush(o, err))
		return -1;
	if (o->fd >= 0 && n > (1 << 16))
		return write_all(o->fd, p, n, err, o->what);
	if (st_buf_add(&o->b, p, n))
		return st_error_oom(err);
	return 0;
}

static int utf8_valid(const char *s, size_t n)
{
	unsigned line, col;

	return !st_utf8_check((const unsigned char *)s, n, &line, &col);
}

/* The rejects entry for a record held whole in memory. */
static int write_reject(struct wctx *w, struct sink *rej, const char *line, size_t len)
{
	struct st_buf *b = &w->rej;
	int r;

	st_buf_reset(b);
	r = st_buf_addf(b, "{\"line\":%llu,\"code\":\"%s\",\"reason\":", (unsigned long long)w->line,
			pii_reject_code(w->reason)) ||
	    pii_json_quote(b, w->why, strlen(w->why));
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
		return st_error_oom(&w->err);
	w->st.rejected++;
	w->st.by_reason[w->reason]++;
	return sink_add(rej, b->p, b->len, &w->err);
}

static int process_line(struct wctx *w, struct sink *out, struct sink *rej, const char *line,
			size_t len)
{
	static const int jerr_reason[] = {0, PII_R_MALFORMED, PII_R_UTF8, PII_R_ESCAPE, PII_R_DEPTH,
					  0};
	struct pii_jerr je;
	const struct plan *plan;
	int r;

	w->st.in++;
	if (len > w->ing->o.max_record) {
		reject(w, PII_R_TOO_LONG, "record longer than the limit%s", "");
		return write_reject(w, rej, line, len);
	}
	st_buf_reset(&w->out);
	w->suppressed = 0;
	if (pii_json_parse(line, len, &w->tape, &je)) {
		if (je.code == PII_JE_NOMEM)
			return st_error_oom(&w->err);
		w->reason = jerr_reason[je.code];
		snprintf(w->why, sizeof(w->why), "%s at byte %zu", je.msg, je.offset + 1);
		return write_reject(w, rej, line, len);
	}
	if (w->tape.v[0].type != PII_J_OBJ) {
		reject(w, PII_R_NOT_OBJECT, "%s", "the record is not a JSON object");
		return write_reject(w, rej, line, len);
	}
	plan = pick_plan(w, line);
	if (!plan)
		return write_reject(w, rej, line, len);
	r = emit_object(w, line, &w->tape.v[0], &plan->root);
	if (r == -1)
		return write_reject(w, rej, line, len);
	if (r == -2)
		return -1;
	if (r == -3) {
		/* The rewritten record outgrew its bound: quarantine it rather than cut it. */
		reject(w, PII_R_TOO_LONG, "%s", "the record grows too long when rewritten");
		return write_reject(w, rej, line, len);
	}
	if (w->suppressed) {
		w->st.suppressed++;
		return 0;
	}
	if (st_buf_add(&w->out, "\n", 1))
		return st_error_oom(&w->err);
	w->st.out++;
	w->st.bytes_out += w->out.len;
	return sink_add(out, w->out.p, w->out.len, &w->err);
}

static int blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return 0;
	return 1;
}

/* Rewrites every line of a chunk that holds whole lines; the first is line first_line. */
static int process_chunk(struct wctx *w, struct sink *out, struct sink *rej, const char *p,
			 size_t n, uint64_t first_line)
{
	const char *end = p + n;

	w->line = first_line - 1;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);

		w->line++;
		w->st.bytes_in += len + (nl ? 1 : 0);
		if (len && p[len - 1] == '\r')
			len--;
		if (!blank(p, len) && process_line(w, out, rej, p, len))
			return -1;
		p = nl ? nl + 1 : end;
	}
	return 0;
}

static int wctx_init(struct wctx *w, const struct pii_ingest *ing, struct st_error *err)
{
	size_t max = ing->o.max_record;

	memset(w, 0, sizeof(*w));
	w->ing = ing;
	st_buf_init(&w->out, max * 4 + 4096);
	st_buf_init(&w->val, max * 4 + 4096);
	st_buf_init(&w->rej, max * 8 + 4096);
	w->tmp = st_malloc(max + 1);
	if (!w->tmp)
		return st_error_oom(err);
	return pii_hasher_new(&w->h, ing->key, err);
}

static void wctx_release(struct wctx *w)
{
	pii_hasher_free(w->h);
	pii_json_tape_release(&w->tape);
	st_buf_release(&w->out);
	st_buf_release(&w->val);
	st_buf_release(&w->rej);
	if (w->tmp)
		sodium_memzero(w->tmp, w->ing->o.max_record + 1);
	st_free(w->tmp);
	memset(w, 0, sizeof(*w));
}

static void stats_add(struct pii_ingest_stats *to, const struct pii_ingest_stats *from)
{
	to->in += from->in;
	to->out += from->out;
	to->rejected += from->rejected;
	to->suppressed += from->suppressed;
	to->bytes_in += from->bytes_in;
	to->bytes_out += from->bytes_out;
	for (int r = 0; r < PII_R_COUNT; r++)
		to->by_reason[r] += from->by_reason[r];
}

/* Base64 in pieces: whole 3-byte groups are encoded as they come, the rest is carried. */
struct b64 {
	unsigned char carry[3];
	size_t ncarry;
};

static int b64_feed(struct b64 *b, struct sink *o, const char *p, size_t n,
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
			if (sink_add(o, enc, strlen(enc), err))
				return -1;
		}
	}
	return 0;
}

static int b64_end(struct b64 *b, struct sink *o, struct st_error *err)
{
	char enc[8];

	if (!b->ncarry)
		return 0;
	sodium_bin2base64(enc, sizeof(enc), b->carry, b->ncarry, sodium_base64_VARIANT_ORIGINAL);
	return sink_add(o, enc, strlen(enc), err);
}

/* ---- the reader and the pipeline ---- */

/* The RFC 4180 states that matter for finding where a record ends. */
enum { CSV_START, CSV_PLAIN, CSV_QUOTED, CSV_QUOTE };

/* Steps the record-end scanner over byte c. Returns 1 when c ends the record. A quote counts
 * only at the start of a field or inside a quoted one, so a stray quote in a plain field
 * cannot swallow the following lines (the split reports it). */
static int csv_step(int *state, char c)
{
	if (*state == CSV_QUOTED) {
		if (c == '"')
			*state = CSV_QUOTE;
		return 0;
	}
	if (*state == CSV_QUOTE && c == '"') {
		*state = CSV_QUOTED; /* a doubled quote */
		return 0;
	}
	/* Outside quotes (a closing quote has ended its field). */
	if (c == '\n') {
		*state = CSV_START;
		return 1;
	}
	*state = c == ',' ? CSV_START : (*state == CSV_START && c == '"') ? CSV_QUOTED : CSV_PLAIN;
	return 0;
}


struct reader {
	int fd, eof;
	char *buf;
	size_t cap, off, have;
	uint64_t line; /* lines handed out so far */
};

/* Reads more input into an emptied buffer. Returns the bytes read (0 at the end), or -1. */
static ssize_t reader_refill(struct reader *rd, struct st_error *err)
{
	ssize_t r;

	rd->off = rd->have = 0;
	do
		r = read(rd->fd, rd->buf, rd->cap);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return st_error_set(err, ST_E_SYSTEM, "cannot read input: %s", strerror(errno));
	rd->eof = r == 0;
	rd->have = (size_t)r;
	return r;
}

/* Streams an over-long record, whose first bytes are buffered, into the rejects file as
 * base64, reading on to its end (the next newline; for CSV, outside quotes), so that memory
 * stays bounded and nothing is lost. */
static int reject_long(struct reader *rd, struct sink *rej, struct pii_ingest_stats *st,
		       size_t max, int csv, struct st_error *err)
{
	struct b64 b = {{0}, 0};
	int state = CSV_START, done = 0;
	char hdr[256];

	st->in++;
	st->rejected++;
	st->by_reason[PII_R_TOO_LONG]++;
	snprintf(hdr, sizeof(hdr),
		 "{\"line\":%llu,\"code\":\"too-long\",\"reason\":\"record longer than %zu bytes\","
		 "\"record_base64\":\"",
		 (unsigned long long)rd->line + 1, max);
	if (sink_add(rej, hdr, strlen(hdr), err))
		return -1;
	while (!done) {
		const char *p = rd->buf + rd->off;
		size_t i = 0;

		for (; i < rd->have; i++) {
			if (p[i] == '\n')
				rd->line++;
			if (csv ? csv_step(&state, p[i]) : p[i] == '\n') {
				done = 1;
				break;
			}
		}
		st->bytes_in += i + (size_t)done;
		if (b64_feed(&b, rej, p, i, err))
			return -1;
		if (done) {
			rd->off += i + 1;
			rd->have -= i + 1;
		} else {
			ssize_t r = reader_refill(rd, err);

			if (r < 0)
				return -1;
			if (!r) {
				rd->line++; /* the last line had no newline */
				break;
			}
		}
	}
	if (b64_end(&b, rej, err))
		return -1;
	return sink_add(rej, "\"}\n", 3, err);
}

/* Fills the buffer and returns the next chunk of whole lines (at most about want bytes,
 * at least one line): 1 with p, n and first set, 0 at the end, 2 when the next line is over
 * the limit (the caller streams it with reject_long()), or -1 on a read error. */
static int next_chunk(struct reader *rd, size_t want, size_t max, const char **p, size_t *n,
		      uint64_t *first, struct st_error *err)
{
	for (;;) {
		char *start = rd->buf + rd->off;
		size_t look = rd->have < want ? rd->have : want;
		char *last = NULL;

		/* The last newline within the first `want` bytes ends the chunk. */
		last = look ? memrchr(start, '\n', look) : NULL;
		if (!last && rd->have > want) {
			last = memchr(start + look, '\n', rd->have - look);
		}
		if (last && (size_t)(last - start) <= rd->have) {
			const char *firstnl = memchr(start, '\n', (size_t)(last - start) + 1);

			if ((size_t)(firstnl - start) > max + 1)
				return 2;
			*p = start;
			*n = (size_t)(last - start) + 1;
			*first = rd->line + 1;
			for (const char *q = start; (q = memchr(q, '\n', (size_t)(last + 1 - q)));
			     q++)
				rd->line++;
			rd->off += *n;
			rd->have -= *n;
			return 1;
		}
		if (rd->have > max + 1)
			return 2;
		if (rd->eof) {
			if (!rd->have)
				return 0;
			*p = start;
			*n = rd->have;
			*first = ++rd->line;
			rd->off += rd->have;
			rd->have = 0;
			return 1;
		}
		if (rd->off) {
			memmove(rd->buf, start, rd->have);
			rd->off = 0;
		}
		{
			ssize_t r;

			do
				r = read(rd->fd, rd->buf + rd->have, rd->cap - rd->have);
			while (r < 0 && errno == EINTR);
			if (r < 0)
				return st_error_set(err, ST_E_SYSTEM, "cannot read input: %s",
						    strerror(errno));
			if (r == 0)
				rd->eof = 1;
			rd->have += (size_t)r;
		}
	}
}

#define CHUNK (1u << 20)

/* A chunk of lines in flight between the reader, a worker and the writer. */
struct batch {
	char *data;
	size_t n;
	uint64_t first_line;
	struct sink out, rej;
	struct pii_ingest_stats st;
	int state; /* 0 free, 1 queued, 2 taken, 3 done */
	int failed;
	struct st_error err;
};

struct pool {
	struct pii_ingest *ing;
	struct batch *b;
	size_t nb;
	uint64_t head, tail; /* batches [head, tail) are in flight, in input order */
	uint64_t next;       /* the next batch a worker takes */
	int stop;
	pthread_mutex_t mu;
	pthread_cond_t work, done;
};

static void *pool_worker(void *arg)
{
	struct pool *pl = arg;
	struct wctx w;
	struct st_error err = ST_ERROR_INIT;
	int ok = !wctx_init(&w, pl->ing, &err);

	for (;;) {
		struct batch *b;

		pthread_mutex_lock(&pl->mu);
		while (!pl->stop && pl->next == pl->tail)
			pthread_cond_wait(&pl->work, &pl->mu);
		if (pl->stop && pl->next == pl->tail) {
			pthread_mutex_unlock(&pl->mu);
			break;
		}
		b = &pl->b[pl->next++ % pl->nb];
		b->state = 2;
		pthread_mutex_unlock(&pl->mu);
		if (!ok) {
			b->err = err;
			b->failed = 1;
		} else {
			memset(&w.st, 0, sizeof(w.st));
			st_error_init(&w.err);
			if (process_chunk(&w, &b->out, &b->rej, b->data, b->n, b->first_line)) {
				b->err = w.err;
				b->failed = 1;
			}
			b->st = w.st;
		}
		pthread_mutex_lock(&pl->mu);
		b->state = 3;
		pthread_cond_broadcast(&pl->done);
		pthread_mutex_unlock(&pl->mu);
	}
	if (ok)
		wctx_release(&w);
	return NULL;
}

/* Writes out the oldest batch once it is done. Waits for it when wait is set. Returns 1 when
 * one was written, 0 when none was ready, -1 on error. */
static int pool_drain_one(struct pool *pl, int wait, struct sink *out, struct sink *rej,
			  struct pii_ingest_stats *st, struct st_error *err)
{
	struct batch *b;
	int ret;

	pthread_mutex_lock(&pl->mu);
	if (pl->head == pl->tail) {
		pthread_mutex_unlock(&pl->mu);
		return 0;
	}
	b = &pl->b[pl->head % pl->nb];
	while (wait && b->state != 3)
		pthread_cond_wait(&pl->done, &pl->mu);
	if (b->state != 3) {
		pthread_mutex_unlock(&pl->mu);
		return 0;
	}
	pthread_mutex_unlock(&pl->mu);
	ret = 1;
	if (b->failed) {
		*err = b->err;
		ret = -1;
	} else if (sink_add(out, b->out.b.p, b->out.b.len, err) ||
		   sink_add(rej, b->rej.b.p, b->rej.b.len, err)) {
		ret = -1;
	}
	stats_add(st, &b->st);
	st_buf_reset(&b->out.b);
	st_buf_reset(&b->rej.b);
	pthread_mutex_lock(&pl->mu);
	b->state = 0;
	pl->head++;
	pthread_mutex_unlock(&pl->mu);
	return ret;
}

static int run_threaded(struct pii_ingest *ing, struct reader *rd, struct sink *out,
			struct sink *rej, struct pii_ingest_stats *st, int nthreads,
			struct st_error *err)
{
	struct pool pl;
	pthread_t th[64];
	int started = 0, ret = -1;
	uint64_t progress_mark = 0;

	memset(&pl, 0, sizeof(pl));
	pl.ing = ing;
	pl.nb = (size_t)nthreads * 3;
	pl.b = st_calloc(pl.nb, sizeof(*pl.b));
	pthread_mutex_init(&pl.mu, NULL);
	pthread_cond_init(&pl.work, NULL);
	pthread_cond_init(&pl.done, NULL);
	if (!pl.b) {
		st_error_oom(err);
		goto out;
	}
	for (size_t i = 0; i < pl.nb; i++) {
		pl.b[i].data = st_malloc(CHUNK + ing->o.max_record + 2);
		pl.b[i].out.fd = pl.b[i].rej.fd = -1;
		st_buf_init(&pl.b[i].out.b, (CHUNK + ing->o.max_record) * 4 + 4096);
		st_buf_init(&pl.b[i].rej.b, (CHUNK + ing->o.max_record) * 8 + 4096);
		if (!pl.b[i].data) {
			st_error_oom(err);
			goto out;
		}
	}
	for (; started < nthreads; started++)
		if (pthread_create(&th[started], NULL, pool_worker, &pl))
			break;
	if (!started) {
		st_error_set(err, ST_E_SYSTEM, "cannot start worker threads");
		goto out;
	}
	for (;;) {
		const char *p;
		size_t n;
		uint64_t first;
		int r;

		/* Keep every slot busy; write finished batches in order as they come. */
		while (pl.tail - pl.head == pl.nb) {
			if (pool_drain_one(&pl, 1, out, rej, st, err) < 0)
				goto stop;
		}
		while ((r = pool_drain_one(&pl, 0, out, rej, st, err)) > 0)
			;
		if (r < 0)
			goto stop;
		r = next_chunk(rd, CHUNK, ing->o.max_record, &p, &n, &first, err);
		if (r < 0)
			goto stop;
		if (r == 0)
			break;
		if (r == 2) {
			/* Everything before the long line is written first, to keep the order. */
			while ((r = pool_drain_one(&pl, 1, out, rej, st, err)) > 0)
				;
			if (r < 0 || reject_long(rd, rej, st, ing->o.max_record, 0, err))
				goto stop;
			continue;
		}
		{
			struct batch *b = &pl.b[pl.tail % pl.nb];

			memcpy(b->data, p, n);
			b->n = n;
			b->first_line = first;
			b->failed = 0;
			memset(&b->st, 0, sizeof(b->st));
			pthread_mutex_lock(&pl.mu);
			b->state = 1;
			pl.tail++;
			pthread_cond_signal(&pl.work);
			pthread_mutex_unlock(&pl.mu);
		}
		if (ing->o.progress && ing->o.progress_every &&
		    st->in / ing->o.progress_every > progress_mark) {
			progress_mark = st->in / ing->o.progress_every;
			ing->o.progress(ing->o.progress_ctx, st->in, st->bytes_in);
		}
	}
	while (pl.head < pl.tail) {
		if (pool_drain_one(&pl, 1, out, rej, st, err) < 0)
			goto stop;
	}
	ret = 0;
stop:
	pthread_mutex_lock(&pl.mu);
	pl.stop = 1;
	pthread_cond_broadcast(&pl.work);
	pthread_mutex_unlock(&pl.mu);
	for (int i = 0; i < started; i++)
		pthread_join(th[i], NULL);
out:
	for (size_t i = 0; pl.b && i < pl.nb; i++) {
		st_free(pl.b[i].data);
		st_buf_release(&pl.b[i].out.b);
		st_buf_release(&pl.b[i].rej.b);
	}
	st_free(pl.b);
	pthread_mutex_destroy(&pl.mu);
	pthread_cond_destroy(&pl.work);
	pthread_cond_destroy(&pl.done);
	return ret;
}

static int run_serial(struct pii_ingest *ing, struct reader *rd, struct sink *out,
		      struct sink *rej, struct pii_ingest_stats *st, struct st_error *err)
{
	struct wctx w;
	uint64_t progress_mark = 0;
	int ret = -1;

	if (wctx_init(&w, ing, err))
		goto out;
	for (;;) {
		const char *p;
		size_t n;
		uint64_t first;
		int r = next_chunk(rd, 1 << 16, ing->o.max_record, &p, &n, &first, err);

		if (r < 0)
			goto out;
		if (r == 0)
			break;
		if (r == 2) {
			if (reject_long(rd, rej, &w.st, ing->o.max_record, 0, err))
				goto out;
			continue;
		}
		if (process_chunk(&w, out, rej, p, n, first)) {
			*err = w.err;
			goto out;
		}
		if (ing->o.progress && ing->o.progress_every &&
		    w.st.in / ing->o.progress_every > progress_mark) {
			progress_mark = w.st.in / ing->o.progress_every;
			ing->o.progress(ing->o.progress_ctx, w.st.in, w.st.bytes_in);
		}
	}
	ret = 0;
out:
	stats_add(st, &w.st);
	if (w.ing)
		wctx_release(&w);
	return ret;
}

/* ---- CSV (RFC 4180) ---- */

/* Finds the end of the CSV record at p (n bytes buffered): its newline outside quotes.
 * Returns that offset, or -1 when the buffered bytes end inside the record. Sets *newlines
 * to the line breaks inside the record's quoted fields. */
static ssize_t csv_record_end(const char *p, size_t n, uint64_t *newlines)
{
	int state = CSV_START;

	*newlines = 0;
	for (size_t i = 0; i < n; i++) {
		if (csv_step(&state, p[i]))
			return (ssize_t)i;
		*newlines += p[i] == '\n';
	}
	return -1;
}

struct csv_field {
	const char *p; /* decoded text (into w->tmp for quoted fields) */
	size_t n;
	int quoted;
};

#define CSV_MAX_COLUMNS 1024 /* fields per record, the header included */
#define CSV_STR_(x) #x
#define CSV_STR(x) CSV_STR_(x)

/* Splits one record (its bytes without the final line break) into fields, decoding quoted
 * ones into w->tmp. Returns the field count, or -1 on a malformed record (reason set). */
static ssize_t csv_split(struct wctx *w, const char *rec, size_t len, struct csv_field *f,
			 size_t max)
{
	size_t i = 0, nf = 0, o = 0;

	if (len && rec[len - 1] == '\r')
		len--;
	for (;;) {
		struct csv_field *x = &f[nf];

		if (nf == max)
			return reject(w, PII_R_RAGGED, "%s",
				      "the record has more than " CSV_STR(CSV_MAX_COLUMNS) " fields");
		x->quoted = i < len && rec[i] == '"';
		if (x->quoted) {
			x->p = w->tmp + o;
			for (i++;; i++) {
				if (i >= len)
					return reject(w, PII_R_CSV, "%s", "unterminated quoted field");
				if (rec[i] == '"') {
					if (i + 1 < len && rec[i + 1] == '"') {
						w->tmp[o++] = '"';
						i++;
						continue;
					}
					i++;
					break;
				}
				w->tmp[o++] = rec[i];
			}
			x->n = (size_t)(w->tmp + o - x->p);
			if (i < len && rec[i] != ',')
				return reject(w, PII_R_CSV, "%s", "text after a closing quote");
		} else {
			x->p = rec + i;
			while (i < len && rec[i] != ',') {
				if (rec[i] == '"')
					return reject(w, PII_R_CSV, "%s",
						      "a quote inside an unquoted field");
				i++;
			}
			x->n = (size_t)(rec + i - x->p);
		}
		nf++;
		if (i >= len)
			return (ssize_t)nf;
		i++; /* the comma */
	}
}

static int csv_needs_quotes(const char *p, size_t n)
{
	if (n && (p[0] == ' ' || p[n - 1] == ' '))
		return 1;
	for (size_t i = 0; i < n; i++)
		if (p[i] == ',' || p[i] == '"' || p[i] == '\n' || p[i] == '\r')
			return 1;
	return 0;
}

static int csv_put(struct st_buf *b, const char *p, size_t n, int force_quotes)
{
	size_t run = 0;

	if (!force_quotes && !csv_needs_quotes(p, n))
		return st_buf_add(b, p, n);
	if (st_buf_add(b, "\"", 1))
		return -1;
	for (size_t i = 0; i < n; i++)
		if (p[i] == '"') {
			if (st_buf_add(b, p + run, i + 1 - run) || st_buf_add(b, "\"", 1))
				return -1;
			run = i + 1;
		}
	return st_buf_add(b, p + run, n - run) || st_buf_add(b, "\"", 1);
}

static int valid_number(const char *p, size_t n)
{
	struct pii_jtape t = {0};
	struct pii_jerr e;
	int ok = n && (p[0] == '-' || (p[0] >= '0' && p[0] <= '9')) &&
		 !pii_json_parse(p, n, &t, &e);

	pii_json_tape_release(&t);
	return ok;
}

/* Checks a CSV value against its type. Returns 0, or -1 with the reason set. */
static int csv_check(struct wctx *w, const struct spec *s, const struct csv_field *f)
{
	int is_int;

	switch (s->type) {
	case F_INT:
	case F_INT64:
		if (!f->n || !int_in_range(f->p, f->n, s->type == F_INT ? INT32_MIN : INT64_MIN,
					   s->type == F_INT ? INT32_MAX : INT64_MAX, &is_int))
			return reject(w, f->n && is_int ? PII_R_RANGE : PII_R_TYPE,
				      f->n && is_int ? "field '%s' is out of range"
						     : "field '%s' must be an integer",
				      s->path);
		return 0;
	case F_FLOAT:
	case F_DECIMAL:
		return valid_number(f->p, f->n) ? 0
						: reject(w, PII_R_TYPE, "field '%s' must be a number",
							 s->path);
	case F_BOOL:
		if ((f->n == 4 && !memcmp(f->p, "true", 4)) || (f->n == 5 && !memcmp(f->p, "false", 5)))
			return 0;
		return reject(w, PII_R_TYPE, "field '%s' must be true or false", s->path);
	case F_DATE:
	case F_TIMESTAMP:
		return valid_date(f->p, f->n, s->type == F_TIMESTAMP)
			       ? 0
			       : reject(w, PII_R_VALUE, "field '%s' is not a date or timestamp", s->path);
	case F_OBJECT:
	case F_ARRAY:
		return reject(w, PII_R_TYPE, "field '%s' cannot be a CSV column", s->path);
	default:
		return 0;
	}
}


struct csv_state {
	const struct spec *col[CSV_MAX_COLUMNS]; /* NULL: an unknown column, dropped */
	size_t ncols;
	struct csv_field f[CSV_MAX_COLUMNS];
};

/* Reads the header: every column must name a field of the dataset (or be dropped under
 * --unknown drop) and every required field must have a column. Writes the output header. */
static int csv_header(struct wctx *w, struct csv_state *cs, const char *rec, size_t len,
		      struct sink *out, struct st_error *err)
{
	const struct spec *root = &w->ing->plans[0].root;
	ssize_t nf;

	if (len >= 3 && !memcmp(rec, "\xef\xbb\xbf", 3)) {
		rec += 3;
		len -= 3;
	}
	nf = csv_split(w, rec, len, cs->f, CSV_MAX_COLUMNS);
	if (nf < 0)
		return st_error_set(err, ST_E_INVALID, "cannot read the CSV header: %s", w->why);
	cs->ncols = (size_t)nf;
	st_buf_reset(&w->out);
	for (size_t i = 0, first = 1; i < cs->ncols; i++) {
		const struct spec *sp = find_spec(root, cs->f[i].p, cs->f[i].n);

		for (size_t j = 0; sp && j < i; j++)
			if (cs->col[j] == sp)
				return st_error_set(err, ST_E_INVALID, "column '%s' appears twice",
						    sp->name);
		if (!sp && w->ing->o.unknown != PII_UNKNOWN_DROP)
			return st_error_set(err, ST_E_INVALID,
					    "column %zu of the CSV header is not a field of '%s'", i + 1,
					    w->ing->plans[0].name);
		cs->col[i] = sp;
		if (!sp || sp->transform == PII_T_DROP)
			continue;
		if ((!first && st_buf_add(&w->out, ",", 1)) ||
		    csv_put(&w->out, sp->name, sp->name_len, 0))
			return st_error_oom(err);
		first = 0;
	}
	for (size_t k = 0; k < root->nfields; k++) {
		size_t i;

		for (i = 0; i < cs->ncols && cs->col[i] != &root->fields[k]; i++)
			;
		if (i == cs->ncols && root->fields[k].required)
			return st_error_set(err, ST_E_INVALID, "required field '%s' has no column",
					    root->fields[k].path);
	}
	if (st_buf_add(&w->out, "\r\n", 2))
		return st_error_oom(err);
	return sink_add(out, w->out.p, w->out.len, err);
}

static int csv_row(struct wctx *w, struct csv_state *cs, struct sink *out, struct sink *rej,
		   const char *rec, size_t len)
{
	ssize_t nf;
	int first = 1;

	w->st.in++;
	st_buf_reset(&w->out);
	w->suppressed = 0;
	nf = csv_split(w, rec, len, cs->f, CSV_MAX_COLUMNS);
	if (nf < 0)
		return write_reject(w, rej, rec, len);
	if ((size_t)nf != cs->ncols) {
		char why[64];

		snprintf(why, sizeof(why), "%zd fields where the header has %zu", nf, cs->ncols);
		reject(w, PII_R_RAGGED, "%s", why);
		return write_reject(w, rej, rec, len);
	}
	for (size_t i = 0; i < cs->ncols; i++) {
		const struct spec *sp = cs->col[i];
		const struct csv_field *f = &cs->f[i];
		const char *res;
		size_t rlen;
		int r;

		if (!sp)
			continue;
		if (!f->n && !f->quoted) {
			/* An empty unquoted field is an absent value. */
			if (sp->required) {
				reject(w, PII_R_MISSING_FIELD, "required field '%s' is empty", sp->path);
				return write_reject(w, rej, rec, len);
			}
			res = "";
			rlen = 0;
		} else {
			if (csv_check(w, sp, f))
				return write_reject(w, rej, rec, len);
			if (sp->suppress && check_suppressed(w, sp, f->p, f->n))
				return -1;
			r = transform_text(w, sp, f->p, f->n, &res, &rlen);
			if (r == -1)
				return write_reject(w, rej, rec, len);
			if (r == -2)
				return -1;
			if (r == -3) {
				reject(w, PII_R_TOO_LONG, "%s", "the record grows too long");
				return write_reject(w, rej, rec, len);
			}
		}
		if (sp->transform == PII_T_DROP)
			continue;
		if ((!first && st_buf_add(&w->out, ",", 1)) ||
		    csv_put(&w->out, res, rlen, f->quoted && !rlen))
			return st_error_oom(&w->err);
		first = 0;
	}
	if (w->suppressed) {
		w->st.suppressed++;
		return 0;
	}
	if (st_buf_add(&w->out, "\r\n", 2))
		return st_error_oom(&w->err);
	w->st.out++;
	w->st.bytes_out += w->out.len;
	return sink_add(out, w->out.p, w->out.len, &w->err);
}

/* CSV is read serially: a record may span lines, so chunks cannot be cut at any newline. */
static int run_csv(struct pii_ingest *ing, struct reader *rd, struct sink *out,
		   struct sink *rej, struct pii_ingest_stats *st, struct st_error *err)
{
	struct csv_state *cs = st_calloc(1, sizeof(*cs));
	struct wctx w;
	int header = 1, ret = -1;

	memset(&w, 0, sizeof(w));
	if (!cs) {
		st_error_oom(err);
		goto out;
	}
	if (wctx_init(&w, ing, err))
		goto out;
	for (;;) {
		const char *p = rd->buf + rd->off;
		uint64_t inner;
		ssize_t end = csv_record_end(p, rd->have, &inner);
		size_t len;

		if (end < 0 && !rd->eof) {
			ssize_t r;

			if (rd->have > ing->o.max_record + 1) {
				if (header) {
					st_error_set(err, ST_E_INVALID,
						     "the CSV header is longer than %zu bytes",
						     ing->o.max_record);
					goto out;
				}
				if (reject_long(rd, rej, &w.st, ing->o.max_record, 1, err))
					goto out;
				continue;
			}
			if (rd->off) {
				memmove(rd->buf, p, rd->have);
				rd->off = 0;
			}
			do
				r = read(rd->fd, rd->buf + rd->have, rd->cap - rd->have);
			while (r < 0 && errno == EINTR);
			if (r < 0) {
				st_error_set(err, ST_E_SYSTEM, "cannot read input: %s", strerror(errno));
				goto out;
			}
			if (r == 0)
				rd->eof = 1;
			rd->have += (size_t)r;
			continue;
		}
		if (end < 0 && !rd->have)
			break;
		len = end < 0 ? rd->have : (size_t)end;
		w.line = rd->line + 1;
		rd->line += 1 + inner;
		w.st.bytes_in += len + (end < 0 ? 0 : 1);
		if (header) {
			/* The header is unquoted into w.tmp too: it has the records' limit. */
			if (len > ing->o.max_record) {
				st_error_set(err, ST_E_INVALID, "the CSV header is longer than %zu bytes",
					     ing->o.max_record);
				goto out;
			}
			if (csv_header(&w, cs, p, len, out, err))
				goto out;
			header = 0;
		} else if (len > ing->o.max_record) {
			w.st.in++;
			reject(&w, PII_R_TOO_LONG, "record longer than the limit%s", "");
			if (write_reject(&w, rej, p, len))
				goto fail;
		} else if (!blank(p, len) && csv_row(&w, cs, out, rej, p, len)) {
			goto fail;
		}
		rd->off += len + (end < 0 ? 0 : 1);
		rd->have -= len + (end < 0 ? 0 : 1);
	}
	ret = 0;
	goto out;
fail:
	*err = w.err;
out:
	stats_add(st, &w.st);
	if (w.ing)
		wctx_release(&w);
	st_free(cs);
	return ret;
}

int pii_ingest_run(struct pii_ingest *ing, int in_fd, int out_fd, int rej_fd, int threads,
		   struct pii_ingest_stats *stats, struct st_error *err)
{
	struct reader rd = {in_fd, 0, NULL, 0, 0, 0, 0};
	struct sink out = {out_fd, "the output", {0}}, rej = {rej_fd, "the rejects file", {0}};
	int ret = -1;

	memset(stats, 0, sizeof(*stats));
	rd.cap = 2 * (CHUNK + ing->o.max_record + 2);
	rd.buf = st_malloc(rd.cap);
	st_buf_init(&out.b, 1 << 20);
	st_buf_init(&rej.b, 1 << 20);
	if (!rd.buf) {
		st_error_oom(err);
		goto out;
	}
	if (ing->o.format == PII_FMT_CSV)
		ret = run_csv(ing, &rd, &out, &rej, stats, err);
	else if (threads > 1)
		ret = run_threaded(ing, &rd, &out, &rej, stats, threads, err);
	else
		ret = run_serial(ing, &rd, &out, &rej, stats, err);
	if (!ret && (sink_flush(&out, err) || sink_flush(&rej, err)))
		ret = -1;
out:
	st_free(rd.buf);
	st_buf_release(&out.b);
	st_buf_release(&rej.b);
	return ret;
}
