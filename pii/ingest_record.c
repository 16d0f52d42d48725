/* The ingest record path: validating one record against its plan and rewriting it, copying
 * untouched values byte for byte and writing only the values it pseudonymizes, masks,
 * truncates or drops; a one-pass fast path for compact records in schema order, with the full
 * path (parse onto the tape, then rewrite) behind it; and the per-thread context. */
#include "ingest.h"
#include "ingest_int.h"
#include "detect_int.h"
#include "pseudo_int.h"
#include "alloc.h"
#include "buf.h"
#include "json.h"
#include "utf8.h"

#include <errno.h>
#include <math.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- rewriting one record ---- */

int ing_reject(struct wctx *w, int reason, const char *fmt, const char *a)
{
	w->reason = reason;
	snprintf(w->why, sizeof(w->why), fmt, a);
	return -1;
}

/* The decoded text of a string node (quotes stripped, escapes decoded), in w->tmp when
 * it had escapes, else pointing into the line. */
static const char *str_text(struct wctx *w, const char *line, const struct st_jnode *n,
			    size_t *len)
{
	const char *body = line + n->start + 1;
	size_t blen = n->end - n->start - 2;

	if (!n->escaped) {
		*len = blen;
		return body;
	}
	*len = st_json_unescape(body, blen, w->tmp);
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

const struct spec *ing_find_spec(const struct spec *obj, const char *key, size_t klen)
{
	for (size_t i = 0; i < obj->nfields; i++)
		if (obj->fields[i].name_len == klen && klen && obj->fields[i].name[0] == key[0] &&
		    !memcmp(obj->fields[i].name, key, klen))
			return &obj->fields[i];
	return NULL;
}

/* Integer text within [min, max]? JSON grammar is already checked. */
int ing_int_in_range(const char *s, size_t n, int64_t min, int64_t max, int *is_int)
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

int ing_number_finite(const char *s, size_t n)
{
	char small[64], *buf;
	double v;
	int ok;

	/* Without an exponent a number needs over 308 digits to overflow: almost every number
	 * is settled here, with no copy and no strtod on the ingest path. */
	if (n < 300 && !memchr(s, 'e', n) && !memchr(s, 'E', n))
		return 1;
	buf = n < sizeof(small) ? small : st_malloc(n + 1);
	if (!buf)
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	errno = 0;
	v = strtod(buf, NULL);
	/* Underflow only loses digits (1e-400 is 0); overflow has no double at all. */
	ok = !(errno == ERANGE && isinf(v));
	if (buf != small)
		st_free(buf);
	return ok;
}

/* ing_valid_date(), inline for the fast path: the ten bytes YYYY-MM-DD by one eight-byte
 * test (each digit's byte xor '0' at most 9, each '-' xor '-' zero) and two digits. */
static inline int valid_date(const char *s, size_t n, int timestamp)
{
	uint64_t x, y;
	unsigned month, day;

	if (n < 10)
		return 0;
	memcpy(&x, s, 8);
#if defined(__GNUC__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	x = __builtin_bswap64(x);
#endif
	/* byte k of x is s[k]: '0' at 0-3 and 5-6, '-' at 4 and 7 */
	y = x ^ 0x2d30302d30303030ULL;
	/* a digit's byte over 9 or a dash's over 0 (or any byte's high bit) sets bit 7 */
	if ((((y & 0x7f7f7f7f7f7f7f7fULL) + 0x7f76767f76767676ULL) | y) & 0x8080808080808080ULL)
		return 0;
	if ((unsigned)(s[8] - '0') > 9 || (unsigned)(s[9] - '0') > 9)
		return 0;
	month = (unsigned)(s[5] - '0') * 10 + (unsigned)(s[6] - '0');
	day = (unsigned)(s[8] - '0') * 10 + (unsigned)(s[9] - '0');
	if (month < 1 || month > 12 || day < 1 || day > 31)
		return 0;
	if (!timestamp)
		return n == 10;
	return n == 10 || ((s[10] == 'T' || s[10] == ' ') && n >= 16 && s[13] == ':');
}

int ing_valid_date(const char *s, size_t n, int timestamp)
{
	return valid_date(s, n, timestamp);
}

static int emit_value(struct wctx *w, const char *line, const struct st_jnode *n,
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
int ing_check_suppressed(struct wctx *w, const struct spec *s, const char *v, size_t len)
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
		return ing_reject(w, PII_R_VALUE, "field '%s' cannot be normalized", s->path);
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

	*found = pii_detect_with(text, len, &w->det, m, 64);
	if (*found > 64)
		return ing_reject(w, PII_R_VALUE, "field '%s' holds too many personal values",
				  s->path);
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
int ing_transform_text(struct wctx *w, const struct spec *s, const char *text, size_t len,
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
			return ing_reject(w, PII_R_VALUE,
					  s->transform == PII_T_MASK
						  ? "field '%s' is too long to mask"
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

/* What scalar_result() says to write for a value. */
enum { SC_RAW, SC_PSEUDONYM, SC_TEXT };

/* Checks scalar n against s's type, checks the suppression list and applies s's transform.
 * On 0, *kind says what to write: SC_RAW the value's bytes as they are (escapes and all),
 * SC_PSEUDONYM res (rlen bytes) in quotes, SC_TEXT res as a JSON string. Returns -1 when
 * the record is rejected, -2 on a system error, -3 when it grows past its bound. */
static int scalar_result(struct wctx *w, const char *line, const struct st_jnode *n,
			 const struct spec *s, int *kind, const char **res, size_t *outlen)
{
	const char *raw = line + n->start, *text;
	size_t rlen = n->end - n->start, len;
	int is_int = 1, r;

	switch (s->type) {
	case F_INT:
	case F_INT64:
		if (n->type != ST_J_NUM)
			return ing_reject(w, PII_R_TYPE, "field '%s' must be an integer", s->path);
		if (!ing_int_in_range(raw, rlen, s->type == F_INT ? INT32_MIN : INT64_MIN,
				      s->type == F_INT ? INT32_MAX : INT64_MAX, &is_int))
			return ing_reject(w, is_int ? PII_R_RANGE : PII_R_TYPE,
					  is_int ? "field '%s' is out of range"
						 : "field '%s' must be an integer",
					  s->path);
		break;
	case F_FLOAT:
	case F_DECIMAL:
		if (n->type != ST_J_NUM)
			return ing_reject(w, PII_R_TYPE, "field '%s' must be a number", s->path);
		if ((r = ing_number_finite(raw, rlen)) < 0)
			return -3;
		if (!r)
			return ing_reject(w, PII_R_RANGE, "field '%s' is out of range", s->path);
		break;
	case F_BOOL:
		if (n->type != ST_J_TRUE && n->type != ST_J_FALSE)
			return ing_reject(w, PII_R_TYPE, "field '%s' must be true or false",
					  s->path);
		break;
	default:
		if (n->type != ST_J_STR)
			return ing_reject(w, PII_R_TYPE, "field '%s' must be a string", s->path);
		if (s->type == F_DATE || s->type == F_TIMESTAMP) {
			text = str_text(w, line, n, &len);
			if (!ing_valid_date(text, len, s->type == F_TIMESTAMP))
				return ing_reject(w, PII_R_VALUE,
						  s->type == F_DATE
							  ? "field '%s' is not a date (YYYY-MM-DD)"
							  : "field '%s' is not a timestamp",
						  s->path);
		}
	}
	if (s->suppress) {
		if (n->type == ST_J_STR)
			text = str_text(w, line, n, &len);
		else
			text = raw, len = rlen;
		if (ing_check_suppressed(w, s, text, len))
			return -2;
	}
	*kind = SC_RAW;
	/* Kept values are copied byte for byte, escapes and all. */
	if (s->transform == PII_T_KEEP && !s->scan)
		return 0;
	if (n->type == ST_J_STR)
		text = str_text(w, line, n, &len);
	else
		text = raw, len = rlen;
	if ((r = ing_transform_text(w, s, text, len, res, outlen)))
		return r;
	if (*res != text) /* a pseudonym needs no escaping */
		*kind = s->transform == PII_T_HASH ? SC_PSEUDONYM : SC_TEXT;
	return 0;
}

/* Appends what scalar_result() made of a value when it is not SC_RAW. */
static int put_result(struct st_buf *out, int kind, const char *res, size_t rlen)
{
	if (kind == SC_PSEUDONYM)
		return st_buf_add(out, "\"", 1) || st_buf_add(out, res, rlen) ||
			       st_buf_add(out, "\"", 1)
			       ? -3
			       : 0;
	return st_json_quote(out, res, rlen) ? -3 : 0;
}

/* Checks a scalar against its type and writes it, transformed. */
static int emit_scalar(struct wctx *w, const char *line, const struct st_jnode *n,
		       const struct spec *s)
{
	const char *res = NULL;
	size_t rlen = 0;
	int kind = SC_RAW, r = scalar_result(w, line, n, s, &kind, &res, &rlen);

	if (r)
		return r;
	if (kind == SC_RAW)
		return st_buf_add(&w->out, line + n->start, n->end - n->start) ? -3 : 0;
	return put_result(&w->out, kind, res, rlen);
}

/* Whether two member keys are equal, decoding escapes when either has them. */
static int same_key(struct wctx *w, const char *line, const struct st_jnode *a,
		    const struct st_jnode *b)
{
	size_t al = a->key_end - a->key_start, bl = b->key_end - b->key_start;

	if (!a->key_escaped && !b->key_escaped)
		return al == bl && !memcmp(line + a->key_start, line + b->key_start, al);
	{
		char *x = w->tmp, *y;
		size_t xl = st_json_unescape(line + a->key_start, al, x);

		y = x + xl + 1;
		return xl == st_json_unescape(line + b->key_start, bl, y) && !memcmp(x, y, xl);
	}
}

/* Whether member m (the k-th of obj) repeats the key of an earlier member. */
static int dup_unknown(struct wctx *w, const char *line, const struct st_jnode *obj,
		       uint32_t k, const struct st_jnode *m)
{
	const struct st_jtape *t = &w->tape;

	for (uint32_t j = obj->first, q = 0; q < k; j = t->v[j].next, q++)
		if (same_key(w, line, &t->v[j], m))
			return 1;
	return 0;
}

struct keyref {
	const char *p;
	size_t n;
};

static int keyref_cmp(const void *a, const void *b)
{
	const struct keyref *x = a, *y = b;
	int c = memcmp(x->p, y->p, x->n < y->n ? x->n : y->n);

	return c ? c : (x->n > y->n) - (x->n < y->n);
}

/* Whether object obj repeats a key (escaped spellings decoded): sorted, so a dropped
 * object of many members costs n log n. Returns 1, 0, or -1 when out of memory. */
static int obj_has_dup(const struct wctx *w, const char *line, const struct st_jnode *obj)
{
	const struct st_jtape *t = &w->tape;
	struct keyref *refs = NULL;
	char *dec = NULL;
	size_t need = 0, at = 0;
	uint32_t i, k;
	int ret = -1;

	if (obj->count < 2)
		return 0;
	for (i = obj->first, k = 0; k < obj->count; i = t->v[i].next, k++)
		if (t->v[i].key_escaped)
			need += t->v[i].key_end - t->v[i].key_start;
	if (!(refs = st_calloc(obj->count, sizeof(*refs))) || (need && !(dec = st_malloc(need))))
		goto out;
	for (i = obj->first, k = 0; k < obj->count; i = t->v[i].next, k++) {
		const struct st_jnode *m = &t->v[i];
		size_t n = m->key_end - m->key_start;

		if (m->key_escaped) {
			refs[k].p = dec + at;
			refs[k].n = st_json_unescape(line + m->key_start, n, dec + at);
			at += n;
		} else {
			refs[k].p = line + m->key_start;
			refs[k].n = n;
		}
	}
	qsort(refs, obj->count, sizeof(*refs), keyref_cmp);
	ret = 0;
	for (k = 1; k < obj->count && !ret; k++)
		ret = !keyref_cmp(&refs[k - 1], &refs[k]);
out:
	st_free(refs);
	st_free(dec);
	return ret;
}

/* Whether a value that is dropped unread (an unknown field under --unknown drop) holds an
 * object with a repeated key at any depth: 1, 0, or -1 when out of memory. */
static int dup_anywhere(const struct wctx *w, const char *line, const struct st_jnode *v)
{
	const struct st_jtape *t = &w->tape;
	int r;

	if (v->type != ST_J_OBJ && v->type != ST_J_ARR)
		return 0;
	if (v->type == ST_J_OBJ && (r = obj_has_dup(w, line, v)))
		return r;
	for (uint32_t i = v->first, k = 0; k < v->count; i = t->v[i].next, k++)
		if ((r = dup_anywhere(w, line, &t->v[i])))
			return r;
	return 0;
}

int ing_emit_object(struct wctx *w, const char *line, const struct st_jnode *obj,
		    const struct spec *s)
{
	struct st_jtape *t = &w->tape;
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
		const struct st_jnode *m = &t->v[i];
		const char *key = line + m->key_start;
		size_t klen = m->key_end - m->key_start;
		const struct spec *f;

		if (m->key_escaped) {
			klen = st_json_unescape(key, klen, w->tmp);
			key = w->tmp;
		}
		f = find_spec_from(s, key, klen, &hint);
		if (!f) {
			/* Dropped unknown fields are checked for duplicates too, inside them as
			 * well: whichever copy a later reader would pick, the record is
			 * ambiguous, and docs/ingest.md promises a duplicate key is never let
			 * through. */
			if (w->ing->o.unknown == PII_UNKNOWN_DROP && !dup_unknown(w, line, obj, k, m)) {
				int d = dup_anywhere(w, line, m);

				if (d < 0) {
					ret = -3;
					goto out;
				}
				if (!d)
					continue;
			}
			ret = ing_reject(w,
					 w->ing->o.unknown == PII_UNKNOWN_DROP
						 ? PII_R_DUP_KEY
						 : PII_R_UNKNOWN_FIELD,
					 w->ing->o.unknown == PII_UNKNOWN_DROP
						 ? "duplicate key in '%s'"
						 : "a field not in the schema, under '%s'",
					 *s->path ? s->path : "the record");
			goto out;
		}
		/* Duplicate keys, escaped spellings included: a later value must never win. */
		if (seen[f - s->fields]) {
			ret = ing_reject(w, PII_R_DUP_KEY, "duplicate key '%s'", f->path);
			goto out;
		}
		seen[f - s->fields] = 1;
		if (f->transform == PII_T_DROP && m->type != ST_J_NULL) {
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
			ret = ing_reject(w, PII_R_MISSING_FIELD, "required field '%s' is missing",
					 s->fields[k].path);
			goto out;
		}
	ret = st_buf_add(&w->out, "}", 1) ? -3 : 0;
out:
	if (seen != seen_small)
		st_free(seen);
	return ret;
}

static int emit_value(struct wctx *w, const char *line, const struct st_jnode *n,
		      const struct spec *s)
{
	struct st_jtape *t = &w->tape;

	if (n->type == ST_J_NULL) {
		if (!s->nullable)
			return ing_reject(w, PII_R_NULL, "field '%s' must not be null", s->path);
		return st_buf_add(&w->out, "null", 4) ? -3 : 0;
	}
	if (s->type == F_OBJECT) {
		if (n->type != ST_J_OBJ)
			return ing_reject(w, PII_R_TYPE, "field '%s' must be an object", s->path);
		return ing_emit_object(w, line, n, s);
	}
	if (s->type == F_ARRAY) {
		int first = 1, r;

		if (n->type != ST_J_ARR)
			return ing_reject(w, PII_R_TYPE, "field '%s' must be an array", s->path);
		if (st_buf_add(&w->out, "[", 1))
			return -3;
		for (uint32_t i = n->count ? n->first : 0, k = 0; k < n->count; i = t->v[i].next, k++) {
			if (!first && st_buf_add(&w->out, ",", 1))
				return -3;
			first = 0;
			if (t->v[i].type == ST_J_NULL)
				return ing_reject(w, PII_R_NULL, "an element of '%s' is null",
						  s->path);
			if ((r = emit_value(w, line, &t->v[i], s->items)))
				return r;
		}
		return st_buf_add(&w->out, "]", 1) ? -3 : 0;
	}
	if (n->type == ST_J_OBJ || n->type == ST_J_ARR)
		return ing_reject(w, PII_R_TYPE, "field '%s' must be a scalar", s->path);
	return emit_scalar(w, line, n, s);
}

/* Picks the plan for a record: the one dataset, or the one its label field names. */
const struct plan *ing_pick_plan(struct wctx *w, const char *line)
{
	const struct st_jnode *root = &w->tape.v[0];
	size_t lablen = strlen(w->ing->o.label);

	if (!w->ing->pattern)
		return &w->ing->plans[0];
	for (uint32_t i = root->count ? root->first : 0, k = 0; k < root->count;
	     i = w->tape.v[i].next, k++) {
		const struct st_jnode *m = &w->tape.v[i];
		size_t klen = m->key_end - m->key_start, vlen;
		const char *key = line + m->key_start, *v;

		if (m->key_escaped) {
			klen = st_json_unescape(key, klen, w->tmp);
			key = w->tmp;
		}
		if (klen != lablen || memcmp(key, w->ing->o.label, lablen))
			continue;
		if (m->type != ST_J_STR)
			break;
		v = str_text(w, line, m, &vlen);
		for (size_t p = 0; p < w->ing->nplans; p++)
			if (strlen(w->ing->plans[p].short_name) == vlen &&
			    !memcmp(w->ing->plans[p].short_name, v, vlen))
				return &w->ing->plans[p];
		ing_reject(w, PII_R_UNKNOWN_LABEL, "'%s' names no dataset in the pattern",
			   w->ing->o.label);
		return NULL;
	}
	ing_reject(w, PII_R_NO_LABEL, "the label field '%s' is missing or not a string",
		   w->ing->o.label);
	return NULL;
}

/* ---- the fast path: one pass over a compact record ----
 *
 * Most records are compact JSON whose members come in schema order and pass. For them,
 * one pass reads, validates and rewrites at once: no tape, and the output is the input's
 * own bytes copied in long runs, broken only where a value is transformed or a member is
 * dropped. It uses the checks and transforms of the full path (the string and number
 * scanners of common/json.c, scalar_result()), and it gives up on anything else: white
 * space between tokens, an escaped key, a field it does not know, a repeated key, a
 * missing field, a value the full path would reject. The record then goes the full way
 * (parse onto the tape, then ing_emit_object()), which decides and words the reason, so
 * the fast path changes no outcome and no byte of output. */

struct fast {
	struct wctx *w;
	const char *line;
	size_t len;
	size_t i;        /* the next byte to read */
	size_t pend;     /* line[pend, i) is output not yet copied to w->out */
	const struct spec *label; /* under a pattern: the plan's label field */
	size_t label_at; /* where the label's value should start */
	int label_seen;
	int depth;
	const uint64_t *bm; /* the line's special64() map, or NULL */
};

/* Copies the pending input up to at into the output; the bytes from at on are pending. */
static int fast_flush(struct fast *f, size_t at)
{
	if (st_buf_add(&f->w->out, f->line + f->pend, at - f->pend))
		return -1;
	f->pend = at;
	return 0;
}

static int fast_value(struct fast *f, const struct spec *s);
static int fast_other(struct fast *f, const struct spec *s);

#ifdef __SSE2__
/* Bit k of the result: byte k of the 16 at p is a quote, a backslash, or below 0x20 or above
 * 0x7f (signed, below 0x20): a byte that ends plain ASCII text in a string. */
static inline unsigned special16(const char *p)
{
	const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\'),
		      space = _mm_set1_epi8(0x20);
	__m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);

	return (unsigned)_mm_movemask_epi8(_mm_or_si128(
		_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)),
		_mm_cmplt_epi8(v, space)));
}

/* Fills bm (len / 64 + 1 words) with the line's special bytes, special16() 64 bytes a word:
 * one pass with no branch on the data, after which a string's end is a bit search rather
 * than a scan each member waits for. The bytes after the line count as special, so that a
 * search always ends within the map. */
static void fast_bitmap(uint64_t *bm, const char *p, size_t len)
{
	size_t w = 0, at = 0;
	unsigned k = 0;
	uint64_t bits = 0;

	for (; len - at >= 64; at += 64)
		bm[w++] = (uint64_t)special16(p + at) | (uint64_t)special16(p + at + 16) << 16 |
			  (uint64_t)special16(p + at + 32) << 32 |
			  (uint64_t)special16(p + at + 48) << 48;
	/* The last word: sixteen bytes at a time while they are in the line, then the rest
	 * from the line's last sixteen bytes, the ones already mapped shifted out; byte by
	 * byte only in a line shorter than that (no copy, whose narrow stores a wide load
	 * would wait for). */
	for (; len - at >= 16; at += 16, k += 16)
		bits |= (uint64_t)special16(p + at) << k;
	if (at < len && len >= 16) {
		bits |= (uint64_t)(special16(p + len - 16) >> (16 - (len - at))) << k;
		k += (unsigned)(len - at);
		at = len;
	}
	for (; at < len; at++, k++) {
		signed char c = (signed char)p[at];

		bits |= (uint64_t)(c < 0x20 || c == '"' || c == '\\') << k;
	}
	bm[w] = bits | ~UINT64_C(0) << k; /* k < 64 */
}

#if defined(__x86_64__) && defined(__GNUC__)
#define FAST_WIDE_MAP 1
/* fast_bitmap() with AVX-512BW, where the CPU has it (ing_wctx_init() asks): a word of the
 * map from one 64-byte load and three compares, the last word by a masked load, which reads
 * nothing past the line. */
__attribute__((target("avx512bw"))) static void fast_bitmap_avx512(uint64_t *bm, const char *p,
								 size_t len)
{
	const __m512i quote = _mm512_set1_epi8('"'), bslash = _mm512_set1_epi8('\\'),
		      space = _mm512_set1_epi8(0x20);
	size_t w = 0, at = 0;
	__mmask64 m;
	__m512i v;

	for (; len - at >= 64; at += 64) {
		v = _mm512_loadu_si512((const void *)(p + at));
		bm[w++] = _mm512_cmpeq_epi8_mask(v, quote) | _mm512_cmpeq_epi8_mask(v, bslash) |
			  _mm512_cmplt_epi8_mask(v, space);
	}
	m = (UINT64_C(1) << (len - at)) - 1; /* len - at < 64 */
	v = _mm512_maskz_loadu_epi8(m, (const void *)(p + at));
	bm[w] = ((_mm512_cmpeq_epi8_mask(v, quote) | _mm512_cmpeq_epi8_mask(v, bslash) |
		  _mm512_cmplt_epi8_mask(v, space)) & m) | ~m;
}
#endif
#endif

#ifdef __SSE2__
/* The index of the first special byte at or after j in the map bm of a line (len / 64 + 2
 * words, the last all ones; j <= len): at most len when the line has none from j on. The
 * next word is looked at without a branch, as most strings end in it if not in j's. */
static inline size_t bm_next(const uint64_t *bm, size_t j)
{
	size_t w = j >> 6;
	uint64_t x = bm[w] & (~UINT64_C(0) << (j & 63)), y = bm[w + 1];

	if (__builtin_expect(!(x | y), 0)) {
		w++;
		while (!(x = bm[++w]))
			;
		return (w << 6) + (size_t)__builtin_ctzll(x);
	}
	/* Arithmetic, not a branch (which the compiler makes of a ?:): which word holds it is
	 * data the predictor cannot learn. */
	{
		uint64_t none = (uint64_t)0 - (uint64_t)(x == 0); /* all ones when x is 0 */

		return (w << 6) + (size_t)(none & 64) + (size_t)__builtin_ctzll(x | (y & none));
	}
}
#endif

#ifdef __SSE2__
/* fast_string_end() past its first stop j (first special byte after the quote p[i], not a
 * closing quote), out of line so that plain strings do not carry it: valid UTF-8 sequences
 * (st_utf8_seq(), as the parser checks them) are stepped over up to the closing quote;
 * anything else goes to the parser's scanner (which sets *escaped; the caller has cleared
 * it). */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static size_t string_end_rest(const uint64_t *bm, const char *p, size_t len, size_t i, size_t j,
			      uint8_t *escaped)
{
	size_t n;

	while (j < len && (n = st_utf8_seq((const unsigned char *)p + j, len - j))) {
		j = bm_next(bm, j + n);
		if (j < len && p[j] == '"')
			return j + 1;
	}
	return st_json_string_end(p, len, i, escaped);
}
#endif

/* The index past the string whose opening quote is p[i]: plain ASCII is taken here (with
 * SSE2 by a bit search in bm, the line's fast_bitmap(), which fast_record() always makes,
 * stepping over valid UTF-8 sequences the map marks; without, scanned eight bytes at a
 * time); anything else (an escape, a bad UTF-8 sequence, a control character) goes to the
 * parser's own scanner. 0 when the string is not valid. */
static inline size_t fast_string_end(const uint64_t *bm, const char *p, size_t len, size_t i,
				     uint8_t *escaped)
{
#ifndef __SSE2__
	const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
	const uint64_t q = 0x2222222222222222ULL, b = 0x5c5c5c5c5c5c5c5cULL;
#endif
	size_t j = i + 1;

	*escaped = 0;
#ifdef __SSE2__
	j = bm_next(bm, j);
	if (j < len && p[j] == '"')
		return j + 1;
	return string_end_rest(bm, p, len, i, j, escaped);
#else
	(void)bm;
	while (len - j >= 8) {
		uint64_t x, hit;

		memcpy(&x, p + j, 8);
		hit = ((x - ones * 0x20) | ((x ^ q) - ones) | ((x ^ b) - ones) | x) & high;
		if (hit) {
#if defined(__GNUC__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
			j += (size_t)__builtin_ctzll(hit) / 8; /* the lowest flag is exact */
#endif
			break;
		}
		j += 8;
	}
	while (j < len && (unsigned char)p[j] >= 0x20 && (unsigned char)p[j] < 0x80 &&
	       p[j] != '"' && p[j] != '\\')
		j++;
	if (j < len && p[j] == '"')
		return j + 1;
	return st_json_string_end(p, len, i, escaped);
#endif
}

/* The index past an integer of one to nine digits at p[i] (an optional '-', no leading
 * zero, or 0 itself; not followed by a fraction or exponent), which every numeric type
 * takes; 0 for any other text. */
static inline size_t short_int_end(const char *p, size_t len, size_t i)
{
	size_t j = i + (p[i] == '-'), d = 0;

	if (j < len && p[j] >= '1' && p[j] <= '9') {
#if defined(__GNUC__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		/* Eight bytes at once: a byte of nd is not 0 where the byte is not a digit (its
		 * high nibble is not 3, or its low one is over 9). */
		if (len - j >= 8) {
			uint64_t x, nd;

			memcpy(&x, p + j, 8);
			nd = ((x & 0xF0F0F0F0F0F0F0F0ULL) ^ 0x3030303030303030ULL) |
			     (((x & 0x0F0F0F0F0F0F0F0FULL) + 0x0606060606060606ULL) &
			      0xF0F0F0F0F0F0F0F0ULL);
			if (nd) {
				d = (size_t)__builtin_ctzll(nd) / 8; /* 1 to 7 digits */
				j += d;
				goto after;
			}
		}
#endif
		while (j < len && p[j] >= '0' && p[j] <= '9' && d <= 9)
			j++, d++;
	} else if (j < len && p[j] == '0') {
		j++, d++; /* 0 (a digit after it is not JSON: the caller finds no ',' there) */
	}
#if defined(__GNUC__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
after:
#endif
	if (d && d <= 9 && j < len && p[j] != '.' && p[j] != 'e' && p[j] != 'E')
		return j;
	return 0;
}

/* The index past the number at p[i]: a plain integer here, anything else by the parser's
 * scanner. 0 when it is not a valid number. */
static size_t fast_number_end(const char *p, size_t len, size_t i)
{
	size_t j = i + (p[i] == '-');

	if (j < len && p[j] >= '1' && p[j] <= '9') {
		do
			j++;
		while (j < len && p[j] >= '0' && p[j] <= '9');
		if (j == len || (p[j] != '.' && p[j] != 'e' && p[j] != 'E'))
			return j;
	}
	return st_json_number_end(p, len, i);
}

/* The index past a number at p[i] without an exponent, of fewer than 300 bytes (an
 * optional '-', 0 or digits not starting with 0, an optional fraction), which a float or
 * decimal field keeps as it is (ing_number_finite() needs no strtod for it); 0 for any other
 * text. The byte after it is the caller's to check (',', '}' or ']'). */
static inline size_t short_decimal_end(const char *p, size_t len, size_t i)
{
	size_t j = i + (p[i] == '-'), k;

	if (j < len && p[j] == '0')
		j++;
	else if (j < len && p[j] >= '1' && p[j] <= '9')
		while (++j < len && p[j] >= '0' && p[j] <= '9')
			;
	else
		return 0;
	if (j < len && p[j] == '.') {
		for (k = j + 1; k < len && p[k] >= '0' && p[k] <= '9'; k++)
			;
		if (k == j + 1)
			return 0;
		j = k;
	}
	if (j >= len || p[j] == 'e' || p[j] == 'E' || j - i >= 300)
		return 0;
	return j;
}

/* fast_keep() for the kinds that come less often, out of its line: decimals, booleans and
 * scanned strings. Returns the index past the value it took at i, 0 when it did not take
 * it, SIZE_MAX when the record must go the full way: the caller's read position stays in a
 * register, its address never passed out. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static size_t fast_keep_rare(const uint64_t *bm, const char *p, size_t len, size_t i,
			     const struct spec *s)
{
	size_t end;
	uint8_t esc;

	if (s->quick == Q_KEEP_DECIMAL)
		return short_decimal_end(p, len, i);
	if (s->quick == Q_KEEP_BOOL) {
		if (p[i] == 't' && len - i >= 4 && !memcmp(p + i, "true", 4))
			return i + 4;
		if (p[i] == 'f' && len - i >= 5 && !memcmp(p + i, "false", 5))
			return i + 5;
		return 0;
	}
	if (s->quick == Q_SCAN_STRING) {
		/* Free text with nothing the detectors could find is kept as it is. */
		if (p[i] != '"')
			return 0;
		if (!(end = fast_string_end(bm, p, len, i, &esc)))
			return SIZE_MAX;
		if (esc || pii_detect_may_find(p + i + 1, end - i - 2))
			return 0; /* scan_text() decides */
		return end;
	}
	return 0;
}

/* Most values are kept as they are: a string, a date or timestamp, an integer of at most
 * nine digits, which every integer type takes, a decimal, or a boolean (scalar_result()
 * would find nothing to say).
 * Returns 1 when it took the value at f->i, -1 when the record must go the full way, 0 when
 * the value is not one of those (fast_value() then takes it). */
static inline int fast_keep(const uint64_t *bm, const char *p, size_t len, size_t *at,
			    const struct spec *s)
{
	size_t i = *at, end;
	uint8_t esc;

	/* Tested in the order of how often they come, not by a jump table. */
	if (s->quick == Q_KEEP_STRING) {
		if (p[i] != '"')
			return 0;
		*at = fast_string_end(bm, p, len, i, &esc);
		return *at ? 1 : -1;
	}
	if (s->quick == Q_KEEP_NUMBER) {
		if (!(end = short_int_end(p, len, i)))
			return 0;
		*at = end;
		return 1;
	}
	if (s->quick == Q_KEEP_DATE) {
		if (p[i] != '"')
			return 0;
		if (!(end = fast_string_end(bm, p, len, i, &esc)) || esc)
			return -1; /* rare: the full path unescapes and checks it */
		if (!valid_date(p + i + 1, end - i - 2, s->type == F_TIMESTAMP))
			return -1;
		*at = end;
		return 1;
	}
	if (s->quick >= Q_KEEP_DECIMAL && s->quick <= Q_SCAN_STRING) {
		if (!(end = fast_keep_rare(bm, p, len, i, s)))
			return 0;
		if (end == SIZE_MAX)
			return -1;
		*at = end;
		return 1;
	}
	return 0;
}

#ifndef __SSE2__
/* Whether the member key whose first 24 bytes are a, b, d (as memcpy loads them) is field
 * h's: '"name":' with a name that needs no escape, compared under h's mask. */
static inline int quick_key_is(const struct spec *h, uint64_t a, uint64_t b, uint64_t d)
{
	return h->quick_key && !(((a ^ h->key_word[0]) & h->key_mask[0]) |
				 ((b ^ h->key_word[1]) & h->key_mask[1]) |
				 ((d ^ h->key_word[2]) & h->key_mask[2]));
}
#endif

/* fast_hash() where the output has no room for the pseudonym in place: through a buffer. */
static int fast_hash_copy(struct fast *f, const struct spec *s, const struct pii_b2b *key,
			  const char *text, size_t tlen)
{
	char q[PII_PSEUDONYM_MAX + 2];
	int k = pii_pseudonymize_key(f->w->h, key, s->norm, text, tlen, f->w->ing->o.country_code,
				     q + 1);

	if (k < 0)
		return -1;
	q[0] = '"';
	q[k + 1] = '"';
	return fast_flush(f, f->i) || st_buf_add(&f->w->out, q, (size_t)k + 2) ? -1 : 0;
}

/* A masked string of spec s at f->i that is plain ASCII (no escape, no byte under 0x20 or
 * over 0x7f) and short: one character a byte, so the mask is pii_mask()'s ('*' for each
 * character, the last four kept from eight on), and nothing in it needs an escape. Returns
 * 1 when it took the value, 0 when not (fast_other() then takes it), -1 when the record must
 * go the full way. */
static int fast_mask(struct fast *f)
{
	const char *p = f->line;
	size_t i = f->i, j, n;
	char q[66];

	if (p[i] != '"')
		return 0;
#ifdef __SSE2__
	j = bm_next(f->bm, i + 1);
#else
	for (j = i + 1; j < f->len && (unsigned char)p[j] >= 0x20 && (unsigned char)p[j] < 0x80 &&
			p[j] != '"' && p[j] != '\\';
	     j++)
		;
#endif
	if (j >= f->len || p[j] != '"' || (n = j - i - 1) > sizeof(q) - 2)
		return 0;
	q[0] = '"';
	memset(q + 1, '*', n);
	if (n >= 8)
		memcpy(q + 1 + n - 4, p + j - 4, 4);
	q[n + 1] = '"';
	if (fast_flush(f, i) || st_buf_add(&f->w->out, q, n + 2))
		return -1;
	f->i = f->pend = j + 1;
	return 1;
}

/* A date or timestamp of spec s at f->i truncated to its year, as pii_truncate() makes it,
 * when it is valid and has no escape. Returns 1 when it took the value, 0 when not
 * (fast_other() then takes it), -1 when the record must go the full way. */
static int fast_trunc_date(struct fast *f, const struct spec *s)
{
	const char *p = f->line;
	size_t i = f->i, end;
	uint8_t esc;
	char q[6];

	if (p[i] != '"' || !(end = fast_string_end(f->bm, p, f->len, i, &esc)) || esc ||
	    !valid_date(p + i + 1, end - i - 2, s->type == F_TIMESTAMP))
		return 0;
	q[0] = '"';
	memcpy(q + 1, p + i + 1, 4); /* YYYY: digits, nothing to escape */
	q[5] = '"';
	if (fast_flush(f, i) || st_buf_add(&f->w->out, q, sizeof(q)))
		return -1;
	f->i = f->pend = end;
	return 1;
}

/* A pseudonymized value of spec s at f->i: a string, or an integer as short_int_end() takes
 * it, hashed straight into the output; or a masked string (fast_mask()), or a date
 * truncated to its year (fast_trunc_date()). Returns 1 when it
 * took the value, 0 when the value is not one of those (fast_other() then takes it), -1 when
 * the record must go the full way. */
#if defined(__GNUC__)
__attribute__((always_inline)) /* into the member step: gcc kept it a call, with its spills */
#endif
static inline int fast_hash(struct fast *f, const struct spec *s)
{
	const char *p = f->line, *text;
	char c = p[f->i], *at;
	size_t end = 0, tlen;
	const struct pii_b2b *key;
	struct st_buf *o;
	int k;

	if (s->quick == Q_MASK_STRING)
		return fast_mask(f);
	if (s->quick == Q_TRUNC_DATE)
		return fast_trunc_date(f, s);
	if (!((s->quick == Q_HASH_STRING && c == '"') ||
	      (s->quick == Q_HASH_INT && (end = short_int_end(p, f->len, f->i)))))
		return 0;
	text = p + f->i;
	tlen = end - f->i;
	if (c == '"') {
		uint8_t esc;

		if (!(end = fast_string_end(f->bm, p, f->len, f->i, &esc)))
			return -1;
		text = p + f->i + 1;
		tlen = end - f->i - 2;
		if (esc) {
			tlen = st_json_unescape(text, tlen, f->w->tmp);
			text = f->w->tmp;
		}
	}
	/* Where the output has room for the pending input, the quotes and the longest
	 * pseudonym, it is written there directly. */
	/* The field's subkey state, looked up once for this worker. */
	if (!(key = f->w->keys[s->key_slot]) &&
	    !(key = f->w->keys[s->key_slot] = pii_pseudonym_key(f->w->h, s->category, &f->w->err)))
		return -1;
	o = &f->w->out;
	if ((at = st_buf_room(o, f->i - f->pend + PII_PSEUDONYM_MAX + 2))) {
		size_t pn = f->i - f->pend;

		memcpy(at, p + f->pend, pn);
		at[pn] = '"';
		k = pii_pseudonymize_key(f->w->h, key, s->norm, text, tlen,
					 f->w->ing->o.country_code, at + pn + 1);
		if (k < 0) { /* not of its kind, or a system error: the full path says */
			o->p[o->len] = '\0';
			return -1;
		}
		at[pn + 1 + (size_t)k] = '"';
		at[pn + 2 + (size_t)k] = '\0';
		o->len += pn + 2 + (size_t)k;
	} else if (fast_hash_copy(f, s, key, text, tlen)) {
		return -1;
	}
	f->i = f->pend = end;
	return 1;
}

#ifdef __SSE2__
/* quick_key_is() for a key whose first 16 bytes are v and next 8 d: the first 16 bytes of
 * '"name":' compared at once, under the field's key16_mask. */
static inline int quick_key16_is(const struct spec *h, __m128i v, uint64_t d)
{
	unsigned eq = (unsigned)_mm_movemask_epi8(
		_mm_cmpeq_epi8(v, _mm_loadu_si128((const __m128i *)(const void *)h->key_word)));

	return h->quick_key &&
	       !(((eq & h->key16_mask) ^ h->key16_mask) | ((d ^ h->key_word[2]) & h->key_mask[2]));
}
#endif

static int fast_object(struct fast *f, const struct spec *s, int root);

/* The value of member m at *at in p (len bytes, f's line; its map bm), its key and ':'
 * read and the output's commas settled: kept, null, an object, pseudonymized, masked or
 * left to fast_other(). Returns 0, or -1 when the record must go the full way. */
static inline int fast_member_value(struct fast *f, const uint64_t *bm, const char *p,
				    size_t len, const struct spec *m, size_t *at)
{
	int r = fast_keep(bm, p, len, at, m);

	if (r)
		return r < 0 ? -1 : 0;
	if (p[*at] == 'n') { /* as fast_other() takes it */
		if (!m->nullable || len - *at < 4 || memcmp(p + *at, "null", 4))
			return -1;
		*at += 4;
		return 0;
	}
	f->i = *at;
	if (m->type == F_OBJECT) {
		if (p[*at] != '{' || fast_object(f, m, 0))
			return -1;
	} else {
		if (m->quick >= Q_HASH_STRING)
			r = fast_hash(f, m);
		if (r < 0 || (!r && fast_other(f, m)))
			return -1;
	}
	*at = f->i;
	return 0;
}

/* An object of spec s, at its '{'. root: the record itself. The read position is kept in
 * a local, and handed to f->i only around the calls that take f. */
static int fast_object(struct fast *f, const struct spec *s, int root)
{
	const char *p = f->line;
	const size_t len = f->len, nf = s->nfields, script_end = s->script_end;
	const struct spec *fields = s->fields, *label = root ? f->label : NULL;
	const uint64_t *bm = f->bm;
	uint64_t seen = 0;
	size_t hint = 0, i = f->i, k = 0;
	int first = 1;
	char c;

	if (nf > 64 || ++f->depth > ST_JSON_MAX_DEPTH / 2)
		return -1;
#ifdef __SSE2__
	/* The script: while the members come as the schema lists them, each is found by one
	 * compare of what lies between it and the previous value (',"name":', sep), and needs
	 * no look-up, no duplicate check (the fields come in order) and no comma work (no
	 * member was dropped). From the first member that is not the next field's on, the
	 * member loop below goes on. */
	while (hint < script_end) {
		const struct spec *m = &fields[hint];
		const __m128i *sep = (const __m128i *)(const void *)m->sep;
		uint32_t eq;

		if (len - i >= 32)
			eq = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(
				     _mm_loadu_si128((const __m128i *)(const void *)(p + i)),
				     _mm_loadu_si128(sep))) |
			     (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(
				     _mm_loadu_si128((const __m128i *)(const void *)(p + i + 16)),
				     _mm_loadu_si128(sep + 1)))
				     << 16;
		else if (len - i >= 16) /* near the end of the line: a short name */
			eq = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(
				_mm_loadu_si128((const __m128i *)(const void *)(p + i)),
				_mm_loadu_si128(sep)));
		else
			break;
		if ((eq & m->sep_mask) != m->sep_mask) /* not 0 before script_end */
			break;
		i += m->sep_len;
		if (m == label) {
			if (i != f->label_at)
				return -1;
			f->label_seen = 1;
		}
		if (fast_member_value(f, bm, p, len, m, &i) || i >= len)
			return -1;
		hint++;
	}
	if (hint) {
		/* fields[0, hint) seen; p[i] is what follows the last value */
		seen = hint == 64 ? ~UINT64_C(0) : (UINT64_C(1) << hint) - 1;
		k = hint - 1;
		first = 0;
		goto next;
	}
#endif
	i++;
	if (i < len && p[i] == '}')
		i++;
	else
		for (;; k++) {
			size_t at = i, fi = nf; /* the member's key; a comma before it when k > 0 */
			const struct spec *m;

			/* Members mostly come in schema order: the key is the next field's, or
			 * one or two further on when the record leaves optional fields out. A
			 * key matched here is the field's name exactly, as find_spec_from()
			 * would match it. */
			if (len - at >= 24) {
#ifdef __SSE2__
				__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + at));
				uint64_t d;

				memcpy(&d, p + at + 16, 8);
				for (size_t t = hint; t < nf && t < hint + 3; t++)
					if (quick_key16_is(&fields[t], v, d)) {
						fi = t;
						break;
					}
#else
				uint64_t a, b, d;

				memcpy(&a, p + at, 8);
				memcpy(&b, p + at + 8, 8);
				memcpy(&d, p + at + 16, 8);
				for (size_t t = hint; t < nf && t < hint + 3; t++)
					if (quick_key_is(&fields[t], a, b, d)) {
						fi = t;
						break;
					}
#endif
			}
			if (fi == nf && hint < nf && fields[hint].plain &&
			    (!fields[hint].quick_key || len - at < 24)) {
				const struct spec *h = &fields[hint];

				if (len - at > h->name_len + 2 && p[at] == '"' &&
				    !memcmp(p + at + 1, h->name, h->name_len) &&
				    p[at + 1 + h->name_len] == '"' &&
				    p[at + 2 + h->name_len] == ':')
					fi = hint;
			}
			if (fi < nf) {
				m = &fields[fi];
				hint = fi + 1;
				i = at + 3 + m->name_len;
			} else {
				uint8_t esc;
				size_t end = at < len && p[at] == '"'
						     ? fast_string_end(f->bm, p, len, at, &esc)
						     : 0, h = hint; /* a copy: hint's address stays in */

				if (!end || esc || end >= len || p[end] != ':' ||
				    !(m = find_spec_from(s, p + at + 1, end - at - 2, &h)))
					return -1;
				hint = h;
				fi = (size_t)(m - fields);
				i = end + 1;
			}
			if (seen & (UINT64_C(1) << fi))
				return -1;
			seen |= UINT64_C(1) << fi;
			if (i >= len)
				return -1;
			if (m == label) {
				if (i != f->label_at)
					return -1;
				f->label_seen = 1;
			}
			if (m->transform == PII_T_DROP && p[i] != 'n') {
				/* Checked, then left out with its comma (or the next one's). */
				size_t mark;

				if (fast_flush(f, k ? at - 1 : at))
					return -1;
				mark = f->w->out.len;
				f->i = i;
				if (fast_value(f, m))
					return -1;
				i = f->i;
				f->w->out.len = mark;
				if (f->w->out.p)
					f->w->out.p[mark] = '\0';
				f->pend = i;
			} else {
				if (first && k) { /* the first member written: its comma goes */
					if (fast_flush(f, at - 1))
						return -1;
					f->pend = at;
				}
				first = 0;
				if (fast_member_value(f, bm, p, len, m, &i))
					return -1;
			}
#ifdef __SSE2__
next:
#endif
			if (i >= len)
				return -1;
			c = p[i++];
			if (c == '}')
				break;
			if (c != ',')
				return -1;
		}
	if ((seen & s->required_mask) != s->required_mask)
		return -1;
	f->depth--;
	f->i = i;
	return 0;
}

/* One value of spec s at f->i, as emit_value() takes it. */
static int fast_value(struct fast *f, const struct spec *s)
{
	int r = fast_keep(f->bm, f->line, f->len, &f->i, s);

	if (!r)
		r = fast_hash(f, s);
	if (r)
		return r > 0 ? 0 : -1;
	return fast_other(f, s);
}

/* A value of spec s at f->i that neither fast_keep() nor fast_hash() took. */
static int fast_other(struct fast *f, const struct spec *s)
{
	const char *p = f->line;
	struct st_jnode n;
	const char *res = NULL;
	size_t rlen = 0;
	int kind = SC_RAW;
	char c = p[f->i];

	if (c == 'n') {
		if (!s->nullable || f->len - f->i < 4 || memcmp(p + f->i, "null", 4))
			return -1;
		f->i += 4;
		return 0;
	}
	if (s->type == F_OBJECT)
		return c == '{' ? fast_object(f, s, 0) : -1;
	if (s->type == F_ARRAY) {
		if (c != '[' || ++f->depth > ST_JSON_MAX_DEPTH / 2)
			return -1;
		f->i++;
		if (f->i < f->len && p[f->i] == ']') {
			f->i++;
		} else {
			/* Kept integers followed by a comma, as fast_value() takes them, in a
			 * tight loop; the last element and anything else below. */
			if (s->items->quick == Q_KEEP_NUMBER) {
				size_t end;

				while (f->i < f->len && (end = short_int_end(p, f->len, f->i)) &&
				       end < f->len && p[end] == ',')
					f->i = end + 1;
			}
			for (;;) {
				if (f->i >= f->len || p[f->i] == 'n' || fast_value(f, s->items) ||
				    f->i >= f->len)
					return -1;
				c = p[f->i++];
				if (c == ']')
					break;
				if (c != ',')
					return -1;
			}
		}
		f->depth--;
		return 0;
	}
	memset(&n, 0, sizeof(n));
	n.start = (uint32_t)f->i;
	if (c == '"') {
		n.type = ST_J_STR;
		f->i = fast_string_end(f->bm, p, f->len, f->i, &n.escaped);
	} else if (c == '-' || (c >= '0' && c <= '9')) {
		n.type = ST_J_NUM;
		f->i = fast_number_end(p, f->len, f->i);
	} else if (c == 't' && f->len - f->i >= 4 && !memcmp(p + f->i, "true", 4)) {
		n.type = ST_J_TRUE;
		f->i += 4;
	} else if (c == 'f' && f->len - f->i >= 5 && !memcmp(p + f->i, "false", 5)) {
		n.type = ST_J_FALSE;
		f->i += 5;
	} else {
		return -1;
	}
	if (!f->i)
		return -1;
	n.end = (uint32_t)f->i;
	if (scalar_result(f->w, p, &n, s, &kind, &res, &rlen))
		return -1;
	if (kind == SC_RAW)
		return 0;
	if (fast_flush(f, n.start) || put_result(&f->w->out, kind, res, rlen))
		return -1;
	f->pend = n.end;
	return 0;
}

/* Whether a[0, n) equals b[0, n), where a has room bytes readable and b 16 at least when
 * n < 16: such runs, with room in a, by one 16-byte compare instead of a call. */
static inline int same_bytes(const char *a, const char *b, size_t n, size_t room)
{
#ifdef __SSE2__
	if (n < 16 && room >= 16) {
		unsigned eq = (unsigned)_mm_movemask_epi8(
			_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)a),
				       _mm_loadu_si128((const __m128i *)(const void *)b)));

		return (eq | ~((1u << n) - 1)) == 0xffffffffu;
	}
#else
	(void)room;
#endif
	return !memcmp(a, b, n);
}

/* Whether plan p's short name is v[0, vlen), with room bytes readable from v. */
static inline int plan_named(const struct plan *p, const char *v, size_t vlen, size_t room)
{
	/* short_key holds a name of up to 15 bytes; a longer one is compared whole */
	return p->short_len == vlen && (vlen < sizeof(p->short_key)
						? same_bytes(v, p->short_key, vlen, room)
						: !memcmp(v, p->short_name, vlen));
}

/* The plan a pattern's record names, read from a '"label":"' in the line (where the last
 * record had it, else the first): the walk then checks that this is the record's own label
 * member. NULL when there is none that the fast path can take. */
static const struct plan *fast_plan(struct fast *f)
{
	const struct pii_ingest *ing = f->w->ing;
	size_t nk = ing->label_key_len, hint = f->w->label_hint, vlen, room;
	const char *at, *v, *q;
	unsigned slot;

	if (!ing->pattern)
		return &ing->plans[0];
	if (!nk)
		return NULL;
	/* Any '"label":"' will do: the walk checks that it is the record's own. */
	if (hint + nk <= f->len && same_bytes(f->line + hint, ing->label_key, nk, f->len - hint))
		at = f->line + hint;
	else if (!(at = memmem(f->line, f->len, ing->label_key, nk)))
		return NULL;
	f->w->label_hint = (size_t)(at - f->line);
	v = at + nk;
	/* The value's end: with the map, its first special byte when that is a quote (then
	 * there is no backslash or control character before it); else by a scan. */
	q = NULL;
#ifdef __SSE2__
	{
		size_t j = bm_next(f->bm, (size_t)(v - f->line));

		if (j < f->len && f->line[j] == '"')
			q = f->line + j;
	}
#endif
	if (!q) {
		if (!(q = memchr(v, '"', f->len - (size_t)(v - f->line))))
			return NULL;
		for (size_t k = 0; k < (size_t)(q - v); k++)
			if ((unsigned char)v[k] < 0x20 || v[k] == '\\')
				return NULL;
	}
	vlen = (size_t)(q - v);
	f->label_at = (size_t)(v - 1 - f->line);
	room = f->len - (size_t)(v - f->line);
	/* The one plan whose short name falls in this slot, if only one does: no loop whose
	 * exit hangs on the record's type. */
	slot = ing->plan_slot[ing_plan_slot(v, vlen)];
	if (slot != ING_SLOT_MANY)
		return slot && plan_named(&ing->plans[slot - 1], v, vlen, room)
			       ? &ing->plans[slot - 1]
			       : NULL;
	for (size_t k = 0; k < ing->nplans; k++)
		if (plan_named(&ing->plans[k], v, vlen, room))
			return &ing->plans[k];
	return NULL;
}

/* Rewrites the record into w->out by the fast path. Returns 0 when it did (the record
 * passes; w->suppressed says whether it is dropped), -1 when the record must go the full
 * way. */
static int fast_record(struct wctx *w, const char *line, size_t len)
{
	struct fast f = {w, line, len, 0, 0, NULL, 0, 0, 0, NULL};
	const struct plan *plan;

	if (!len || line[0] != '{')
		return -1;
#ifdef __SSE2__
	if (len / 64 + 2 > w->bm_words) {
		size_t n = len / 64 + 2;
		uint64_t *bm = st_realloc(w->bm, n * sizeof(*bm));

		if (!bm)
			return -1; /* the full way needs no map */
		w->bm = bm;
		w->bm_words = n;
	}
#ifdef FAST_WIDE_MAP
	if (w->wide_map)
		fast_bitmap_avx512(w->bm, line, len);
	else
#endif
		fast_bitmap(w->bm, line, len);
	w->bm[len / 64 + 1] = ~UINT64_C(0); /* bm_next() reads a word past the line's */
	f.bm = w->bm;
#endif
#if defined(__GNUC__)
	/* Records mostly come one after another in memory (the hook's read buffer): the next
	 * one's first bytes are asked for now, so that its map does not wait for them. A
	 * prefetch never faults, wherever it points. */
	for (size_t k = 0; k < 8; k++)
		__builtin_prefetch((const void *)((uintptr_t)line + len + 64 * k));
#endif
	/* A record's own phone region comes from its parsed country field: the full way. */
	if (!(plan = fast_plan(&f)) || plan->country_field ||
	    (w->ing->pattern && !(f.label = plan->label)))
		return -1;
	w->det = plan->detect; /* the dataset's threshold and regions, for scanned text */
	if (fast_object(&f, &plan->root, 1) || f.i != len ||
	    (w->ing->pattern && !f.label_seen))
		return -1;
	return fast_flush(&f, len);
}

int ing_process_full(struct wctx *w, const char *line, size_t len)
{
	static const int jerr_reason[] = {0, PII_R_MALFORMED, PII_R_UTF8, PII_R_ESCAPE, PII_R_DEPTH,
					  0};
	struct st_jerr je;
	const struct plan *plan;
	int r;

	st_buf_reset(&w->out);
	w->suppressed = 0;
	if (len > w->ing->o.max_record) {
		ing_reject(w, PII_R_TOO_LONG, "record longer than the limit%s", "");
		return ING_REJECTED;
	}
	if (st_json_parse(line, len, &w->tape, &je)) {
		if (je.code == ST_JE_NOMEM)
			return st_error_oom(&w->err);
		w->reason = jerr_reason[je.code];
		snprintf(w->why, sizeof(w->why), "%s at byte %zu", je.msg, je.offset + 1);
		return ING_REJECTED;
	}
	if (w->tape.v[0].type != ST_J_OBJ) {
		ing_reject(w, PII_R_NOT_OBJECT, "%s", "the record is not a JSON object");
		return ING_REJECTED;
	}
	plan = ing_pick_plan(w, line);
	if (!plan)
		return ING_REJECTED;
	w->det = plan->detect;
	if (plan->country_field)
		pii_record_region(&w->tape, line, plan->country_field, w->det.region);
	r = ing_emit_object(w, line, &w->tape.v[0], &plan->root);
	if (r == -1)
		return ING_REJECTED;
	if (r == -2)
		return -1;
	if (r == -3) {
		/* The rewritten record outgrew its bound: reject it whole rather than cut it. */
		ing_reject(w, PII_R_TOO_LONG, "%s", "the record grows too long when rewritten");
		return ING_REJECTED;
	}
	return w->suppressed ? ING_SUPPRESSED : ING_PASSED;
}

int ing_process_record(struct wctx *w, const char *line, size_t len)
{
	st_buf_reset(&w->out);
	w->suppressed = 0;
	if (len <= w->ing->o.max_record && !fast_record(w, line, len))
		return w->suppressed ? ING_SUPPRESSED : ING_PASSED;
	return ing_process_full(w, line, len);
}

/* ---- the public face of the core: one record at a time (the Kafka consumer) ---- */

struct pii_ingest_worker {
	struct wctx w;
};

int pii_ingest_worker_new(struct pii_ingest_worker **out, const struct pii_ingest *ing,
			  struct st_error *err)
{
	struct pii_ingest_worker *k = st_calloc(1, sizeof(*k));

	*out = NULL;
	if (!k)
		return st_error_oom(err);
	if (ing_wctx_init(&k->w, ing, err)) {
		pii_ingest_worker_free(k);
		return -1;
	}
	*out = k;
	return 0;
}

void pii_ingest_worker_free(struct pii_ingest_worker *k)
{
	if (!k)
		return;
	if (k->w.ing)
		ing_wctx_release(&k->w);
	st_free(k);
}

int pii_ingest_record(struct pii_ingest_worker *k, const char *rec, size_t len,
		      struct pii_record_result *res, struct st_error *err)
{
	struct wctx *w = &k->w;
	int r;

	memset(res, 0, sizeof(*res));
	st_error_init(&w->err);
	r = ing_process_record(w, rec, len);
	if (r < 0) {
		*err = w->err;
		return -1;
	}
	res->outcome = r == ING_PASSED ? PII_REC_PASSED
		       : r == ING_REJECTED ? PII_REC_REJECTED : PII_REC_SUPPRESSED;
	if (r == ING_PASSED) {
		res->out = w->out.p ? w->out.p : "";
		res->out_len = w->out.len;
	} else if (r == ING_REJECTED) {
		res->reason = w->reason;
		res->why = w->why;
	}
	return 0;
}

int ing_wctx_init(struct wctx *w, const struct pii_ingest *ing, struct st_error *err)
{
	size_t max = ing->o.max_record;

	memset(w, 0, sizeof(*w));
	w->ing = ing;
	st_buf_init(&w->out, max * 4 + 4096);
	st_buf_init(&w->val, max * 4 + 4096);
	st_buf_init(&w->rej, max * 8 + 4096);
#ifdef FAST_WIDE_MAP
	w->wide_map = __builtin_cpu_supports("avx512bw") != 0;
#endif
	w->tmp = st_malloc(max + 1);
	if (!w->tmp || (ing->nkeys && !(w->keys = st_calloc(ing->nkeys, sizeof(*w->keys)))))
		return st_error_oom(err);
	return pii_pseudonymizer_new(&w->h, ing->key, err);
}

void ing_wctx_release(struct wctx *w)
{
	pii_pseudonymizer_free(w->h);
	st_json_tape_release(&w->tape);
	st_buf_release(&w->out);
	st_buf_release(&w->val);
	st_buf_release(&w->rej);
	st_free(w->bm);
	st_free(w->keys);
	if (w->tmp)
		sodium_memzero(w->tmp, w->ing->o.max_record + 1);
	st_free(w->tmp);
	memset(w, 0, sizeof(*w));
}
