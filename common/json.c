/* Strict JSON reader onto a tape of value spans; unescaping and quoting helpers. */
#include "json.h"
#include "alloc.h"
#include "strmap.h"
#include "utf8.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__) && defined(__GNUC__)
#include <emmintrin.h>
#endif

/* Bytes that end the fast scan of a string: '"', '\\', control characters, non-ASCII. */
static int stop(unsigned char c)
{
	return c < 0x20 || c == '"' || c == '\\' || c >= 0x80;
}

struct split;

struct parser {
	const unsigned char *s;
	size_t len, i;
	struct st_jtape *t;
	struct st_jerr *e;
	int flags;	/* ST_JPARSE_* */
	uint32_t *slot; /* st_json_parse_filter's table of one object's keys (ST_JPARSE_UNIQUE) */
	size_t slots;
	size_t room;	      /* nodes this thread may fill (t->cap, or below the second's) */
	struct split *split;  /* the first thread of a split parse: its split, else NULL */
	struct split *second; /* the second thread: the split it parses for, else NULL */
};

static int fail(struct parser *p, int code, const char *msg)
{
	p->e->code = code;
	p->e->offset = p->i;
	p->e->msg = msg;
	return -1;
}

static inline void skip_ws(struct parser *p)
{
	size_t i = p->i;

	if (i >= p->len || !st_json_is_ws(p->s[i]))
		return; /* most often: compact text */
	while (++i < p->len && st_json_is_ws(p->s[i]))
		;
	p->i = i;
}

/* Tapes of more nodes than this (8 MB) move to a big buffer (alloc.h): a large document's
 * tape, which for a dbt manifest runs to a hundred MB, is otherwise mostly page faults. */
#define BIG_TAPE (((size_t)8 << 20) / sizeof(struct st_jnode))

/* One node more: doubling, as st_grow() does below BIG_TAPE. */
static int grow_tape(struct st_jtape *t)
{
	if (t->n >= UINT32_MAX)
		return -1;
	return st_json_tape_reserve(t, t->cap < BIG_TAPE / 2 ? t->n + 1 : 2 * t->cap);
}

int st_json_tape_reserve(struct st_jtape *t, size_t nodes)
{
	struct st_jnode *v;

	if (nodes <= t->cap)
		return 0;
	if (nodes > UINT32_MAX || nodes > SIZE_MAX / sizeof(*v))
		return -1;
	if (nodes < BIG_TAPE)
		return st_grow(&t->v, &t->cap, nodes, sizeof(*t->v));
	if (t->big) {
		if (!(v = st_big_realloc(t->v, nodes * sizeof(*v))))
			return -1;
	} else {
		if (!(v = st_big_alloc(nodes * sizeof(*v))))
			return -1;
		if (t->n)
			memcpy(v, t->v, t->n * sizeof(*v));
		st_free(t->v);
		t->big = 1;
	}
	t->v = v;
	t->cap = nodes;
	return 0;
}

static int more_room(struct parser *p);

static inline int new_node(struct parser *p, int type, uint32_t *idx)
{
	struct st_jtape *t = p->t;

	if (t->n >= p->room && more_room(p))
		return -1;
	t->v[t->n] = (struct st_jnode){.type = (uint8_t)type, .start = (uint32_t)p->i};
	*idx = (uint32_t)t->n++;
	return 0;
}

static int hex4(const unsigned char *s, unsigned *v)
{
	*v = 0;
	for (int k = 0; k < 4; k++) {
		unsigned char c = s[k];
		unsigned d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			d = (unsigned)((c | 0x20) - 'a' + 10);
		else
			return -1;
		*v = (*v << 4) | d;
	}
	return 0;
}

/* Validates one UTF-8 sequence at p->i (first byte >= 0x80) and steps over it. */
static int utf8_step(struct parser *p)
{
	size_t n = st_utf8_seq(p->s + p->i, p->len - p->i);

	if (!n)
		return fail(p, ST_JE_UTF8, "invalid UTF-8");
	p->i += n;
	return 0;
}

#if defined(__SSE2__) && defined(__GNUC__)
/* A bit for each of the 16 bytes at s that ends the fast scan of a string (stop()): '"',
 * '\\', and, by a signed compare with ' ', the control characters and the bytes of 0x80 and
 * above at once. */
static inline unsigned stops16(const unsigned char *s)
{
	__m128i x = _mm_loadu_si128((const __m128i *)(const void *)s);

	return (unsigned)_mm_movemask_epi8(
		_mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('"')),
					  _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'))),
			     _mm_cmplt_epi8(x, _mm_set1_epi8(' '))));
}
#endif

/* The index of the first byte of s[i, len) that ends the fast scan of a string (stop()),
 * or len. */
static inline size_t string_run(const unsigned char *s, size_t i, size_t len)
{
#if defined(__SSE2__) && defined(__GNUC__)
	while (len - i >= 16) {
		unsigned hit = stops16(s + i);

		if (hit)
			return i + (size_t)__builtin_ctz(hit);
		i += 16;
	}
#endif
	/* Eight bytes at a time while none of them needs a look. */
	while (len - i >= 8) {
		uint64_t x, q = 0x2222222222222222ULL, b = 0x5c5c5c5c5c5c5c5cULL, hit;
		const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;

		memcpy(&x, s + i, 8);
		hit = ((x - ones * 0x20) | ((x ^ q) - ones) | ((x ^ b) - ones) | x) & high;
		if (hit) {
#if defined(__GNUC__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
			/* The lowest flag is exact (a borrow only runs upwards): the first byte
			 * that needs a look is there. */
			i += (size_t)__builtin_ctzll(hit) / 8;
#endif
			break;
		}
		i += 8;
	}
	while (i < len && !stop(s[i]))
		i++;
	return i;
}

/* The string at p->i (its opening quote) when it ends within the next 16 bytes with no
 * byte that needs a look (escapes, control characters, non-ASCII): p->i past it, and 1;
 * else 0 (the caller takes scan_string()). Most keys and many values of a large document. */
static inline int short_string(struct parser *p)
{
#if defined(__SSE2__) && defined(__GNUC__)
	size_t i = p->i + 1;

	if (p->len - i >= 16) {
		unsigned hit = stops16(p->s + i);

		if (hit) {
			i += (size_t)__builtin_ctz(hit);
			if (p->s[i] == '"') {
				p->i = i + 1;
				return 1;
			}
		}
	}
#else
	(void)p;
#endif
	return 0;
}

/* Scans a string starting at the opening quote; sets *escaped. */
static int scan_string(struct parser *p, uint8_t *escaped)
{
	const unsigned char *s = p->s;
	size_t i = p->i + 1, len = p->len;

	*escaped = 0;
	for (;;) {
		unsigned char c;

		i = string_run(s, i, len);
		if (i >= len) {
			p->i = i;
			return fail(p, ST_JE_SYNTAX, "unterminated string");
		}
		c = s[i];
		if (c == '"') {
			p->i = i + 1;
			return 0;
		}
		p->i = i;
		if (c >= 0x80) {
			if (utf8_step(p))
				return -1;
			i = p->i;
			continue;
		}
		if (c < 0x20)
			return fail(p, ST_JE_SYNTAX, "control character in a string");
		/* A backslash escape. */
		*escaped = 1;
		if (i + 1 >= len)
			return fail(p, ST_JE_SYNTAX, "unterminated string");
		c = s[i + 1];
		if (c == 'u') {
			unsigned v, lo;

			if (len - i < 6 || hex4(s + i + 2, &v))
				return fail(p, ST_JE_ESCAPE, "invalid \\u escape");
			if (v >= 0xDC00 && v <= 0xDFFF)
				return fail(p, ST_JE_ESCAPE, "lone surrogate in a \\u escape");
			if (v >= 0xD800 && v <= 0xDBFF) {
				if (len - i < 12 || s[i + 6] != '\\' || s[i + 7] != 'u' ||
				    hex4(s + i + 8, &lo) || lo < 0xDC00 || lo > 0xDFFF)
					return fail(p, ST_JE_ESCAPE, "lone surrogate in a \\u escape");
				i += 12;
			} else {
				i += 6;
			}
		} else if (c == '"' || c == '\\' || c == '/' || c == 'b' || c == 'f' || c == 'n' ||
			   c == 'r' || c == 't') {
			i += 2;
		} else {
			return fail(p, ST_JE_ESCAPE, "invalid escape");
		}
	}
}

static int scan_number(struct parser *p)
{
	const unsigned char *s = p->s;
	size_t i = p->i;

	if (i < p->len && s[i] == '-')
		i++;
	if (i >= p->len)
		goto bad;
	if (s[i] == '0') {
		i++;
	} else if (s[i] >= '1' && s[i] <= '9') {
		while (i < p->len && s[i] >= '0' && s[i] <= '9')
			i++;
	} else {
		goto bad;
	}
	if (i < p->len && s[i] == '.') {
		size_t d = ++i;

		while (i < p->len && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == d)
			goto bad;
	}
	if (i < p->len && (s[i] == 'e' || s[i] == 'E')) {
		size_t d;

		i++;
		if (i < p->len && (s[i] == '+' || s[i] == '-'))
			i++;
		d = i;
		while (i < p->len && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == d)
			goto bad;
	}
	p->i = i;
	return 0;
bad:
	p->i = i;
	return fail(p, ST_JE_SYNTAX, "invalid number");
}

static int literal(struct parser *p, const char *word, size_t n)
{
	if (p->len - p->i < n || memcmp(p->s + p->i, word, n))
		return fail(p, ST_JE_SYNTAX, "unexpected character");
	p->i += n;
	return 0;
}

size_t st_json_string_end(const char *buf, size_t len, size_t at, uint8_t *escaped)
{
	struct st_jerr e;
	struct parser p = {
		(const unsigned char *)buf, len, at, NULL, &e, 0, NULL, 0, 0, NULL, NULL};

	if (scan_string(&p, escaped))
		return 0;
	return p.i;
}

size_t st_json_number_end(const char *buf, size_t len, size_t at)
{
	struct st_jerr e;
	struct parser p = {
		(const unsigned char *)buf, len, at, NULL, &e, 0, NULL, 0, 0, NULL, NULL};

	if (scan_number(&p))
		return 0;
	return p.i;
}

int st_json_parse(const char *buf, size_t len, struct st_jtape *t, struct st_jerr *e)
{
	return st_json_parse_filter(buf, len, ST_JSON_MAX_DEPTH, NULL, NULL, 0, t, e);
}

int st_json_parse_depth(const char *buf, size_t len, size_t max_depth, struct st_jtape *t,
			struct st_jerr *e)
{
	return st_json_parse_filter(buf, len, max_depth, NULL, NULL, 0, t, e);
}

/* Whether the escaped string body s[0, n) (escapes validated) holds \u0000. */
static int has_nul_escape(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i + 1 < n; i++) {
		if (s[i] != '\\')
			continue;
		if (s[i + 1] == 'u' && i + 5 < n && !memcmp(s + i + 2, "0000", 4))
			return 1;
		i++; /* the escaped byte, or the 'u' of \uXXXX (its digits hold no backslash) */
	}
	return 0;
}

/* Whether the number text s[0, n) is one a reader of every value refuses: a whole number
 * outside int64, or a number that overflows a double. */
static int odd_number(const char *buf, uint32_t start, uint32_t end)
{
	struct st_jnode n;
	int64_t iv;
	double dv;

	/* Fewer than 19 characters and no exponent: within int64, or a double that does not
	 * overflow. */
	if (end - start < 19) {
		uint32_t i = start;

		while (i < end && (buf[i] | 0x20) != 'e')
			i++;
		if (i == end)
			return 0;
	}
	memset(&n, 0, sizeof(n));
	n.type = ST_J_NUM;
	n.start = start;
	n.end = end;
	if (!memchr(buf + start, '.', end - start) && !memchr(buf + start, 'e', end - start) &&
	    !memchr(buf + start, 'E', end - start))
		return st_json_int(buf, &n, &iv) != 0;
	return st_json_double(buf, &n, &dv) != 0;
}

/* Validates the value at p->i as the parser below does, without putting it on the tape;
 * depth containers are open around it. Sets p->t->skipped_odd for what a reader of every
 * value refuses (see json.h). */
static int skip_value(struct parser *p, size_t depth, size_t max_depth)
{
	unsigned char open[ST_JSON_DEPTH_LIMIT]; /* '{' or '[' of each open container */
	size_t top = 0;

	for (;;) {
		size_t at;
		uint8_t esc;
		unsigned char c;

		if (top && open[top - 1] == '{') {
			if (p->i >= p->len || p->s[p->i] != '"')
				return fail(p, ST_JE_SYNTAX, "expected a string key");
			at = p->i;
			esc = 0;
			if (!short_string(p) && scan_string(p, &esc))
				return -1;
			if (esc && has_nul_escape(p->s + at + 1, p->i - at - 2))
				p->t->skipped_odd = 1;
			if (p->i >= p->len || p->s[p->i] != ':') {
				skip_ws(p);
				if (p->i >= p->len || p->s[p->i] != ':')
					return fail(p, ST_JE_SYNTAX, "expected ':'");
			}
			p->i++;
			skip_ws(p);
		}
		if (p->i >= p->len)
			return fail(p, ST_JE_SYNTAX, "unexpected end of input");
		c = p->s[p->i];
		at = p->i;
		switch (c) {
		case '{':
		case '[':
			if (depth + top == max_depth)
				return fail(p, ST_JE_DEPTH, "nesting too deep");
			open[top++] = c;
			p->i++;
			skip_ws(p);
			if (p->i < p->len && p->s[p->i] == (c == '{' ? '}' : ']')) {
				p->i++;
				top--;
				break;
			}
			continue;
		case '"':
			esc = 0;
			if (!short_string(p) && scan_string(p, &esc))
				return -1;
			if (esc && has_nul_escape(p->s + at + 1, p->i - at - 2))
				p->t->skipped_odd = 1;
			break;
		case 't':
			if (literal(p, "true", 4))
				return -1;
			break;
		case 'f':
			if (literal(p, "false", 5))
				return -1;
			break;
		case 'n':
			if (literal(p, "null", 4))
				return -1;
			break;
		default:
			if (c != '-' && (c < '0' || c > '9')) {
				if (c == 0xEF && p->len - p->i >= 3 && p->s[p->i + 1] == 0xBB &&
				    p->s[p->i + 2] == 0xBF)
					return fail(p, ST_JE_SYNTAX, "unexpected byte order mark");
				return fail(p, ST_JE_SYNTAX, "unexpected character");
			}
			if (scan_number(p))
				return -1;
			if (odd_number((const char *)p->s, (uint32_t)at, (uint32_t)p->i))
				p->t->skipped_odd = 1;
		}
		/* After a value: a comma, or the end of one or more containers. */
		for (;;) {
			if (!top)
				return 0;
			skip_ws(p);
			if (p->i >= p->len)
				return fail(p, ST_JE_SYNTAX, "unexpected end of input");
			c = p->s[p->i];
			if (c == ',') {
				p->i++;
				skip_ws(p);
				break;
			}
			if (c != (open[top - 1] == '{' ? '}' : ']'))
				return fail(p, ST_JE_SYNTAX, open[top - 1] == '{' ? "expected ',' or '}'"
										: "expected ',' or ']'");
			p->i++;
			top--;
		}
	}
}

/* The hash of a key of len bytes: the string map's (strmap.h), keyed per process, since the
 * keys are the document's: with a hash anyone can compute, an object of keys chosen to
 * share a slot takes a step per key for every key. */
static uint64_t key_bytes_hash(const char *s, size_t len)
{
	return st_strmap_hash(s, len);
}

#ifdef STEWARD_TEST_BUILD
_Thread_local unsigned long long st_json_key_probes;
#endif

/* Objects of at most FAST_KEYS members hash their keys with st_hash_fast() (strmap.h):
 * keys that collide cost FAST_KEYS steps each at most, and the keyed hash took 4% of a dbt
 * manifest's parse on its many objects of 9 to 30 members. */
#define FAST_KEYS 64


/* Object o, whose members are on the tape, as st_json_collapse_range() leaves it: the key
 * of each member compared with the others' (by length and first eight bytes, then the rest;
 * a table of hashes for large objects) while they are in the cache. Escaped keys and the
 * rare object with a duplicate take st_json_collapse_range(). Returns 0, or -1 when out of
 * memory. */
static int unique_object(struct parser *p, uint32_t o)
{
	enum { SMALL = 8 };
	struct st_jtape *t = p->t;
	const char *buf = (const char *)p->s;
	uint32_t n = t->v[o].count, k = 0;

	if (n <= SMALL) {
		uint64_t w[SMALL];
		uint32_t l[SMALL], at[SMALL];

		for (uint32_t i = t->v[o].first; i; i = t->v[i].next, k++) {
			const struct st_jnode *m = &t->v[i];
			size_t kl = m->key_end - m->key_start;
			uint64_t x = 0;

			if (m->key_escaped)
				goto general;
#if defined(__GNUC__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
			if (p->len - m->key_start >= 8) {
				memcpy(&x, buf + m->key_start, 8);
				if (kl < 8)
					x &= (1ULL << (8 * kl)) - 1;
			} else
#endif
			{
				for (size_t b = 0; b < kl && b < 8; b++)
					x |= (uint64_t)(unsigned char)buf[m->key_start + b] << (8 * b);
			}
			for (uint32_t j = 0; j < k; j++)
				if (w[j] == x && l[j] == kl &&
				    (kl <= 8 || !memcmp(buf + at[j] + 8, buf + m->key_start + 8, kl - 8)))
					goto general;
			w[k] = x;
			l[k] = (uint32_t)kl;
			at[k] = m->key_start;
		}
		return 0;
	} else {
		size_t slots = 16, mask;

		while (slots < (size_t)n * 2)
			slots <<= 1;
		if (slots > p->slots) {
			uint32_t *v = st_realloc(p->slot, slots * sizeof(*v));

			if (!v)
				return -1;
			p->slot = v;
			p->slots = slots;
		}
		memset(p->slot, 0, slots * sizeof(*p->slot));
		mask = slots - 1;
		for (uint32_t i = t->v[o].first; i; i = t->v[i].next) {
			const struct st_jnode *m = &t->v[i];
			size_t kl = m->key_end - m->key_start, h;

			if (m->key_escaped)
				goto general;
			h = n <= FAST_KEYS ? st_hash_fast(buf + m->key_start, kl)
					   : key_bytes_hash(buf + m->key_start, kl);
			for (h &= mask; p->slot[h]; h = (h + 1) & mask) {
				const struct st_jnode *q = &t->v[p->slot[h] - 1];

				if (q->key_end - q->key_start == kl &&
				    !memcmp(buf + q->key_start, buf + m->key_start, kl))
					goto general;
#ifdef STEWARD_TEST_BUILD
				st_json_key_probes += n > FAST_KEYS;
#endif
			}
			p->slot[h] = i + 1;
		}
		return 0;
	}
general:
	return st_json_collapse_range(buf, t, o, (size_t)o + 1) < 0 ? -1 : 0;
}

/* Whether a value just put on the tape (node idx, its key when key_escaped) is one a reader
 * of every value refuses (see skipped_odd in json.h). */
static inline int odd_node(const struct parser *p, const struct st_jnode *n)
{
	if (n->key_escaped && has_nul_escape(p->s + n->key_start, n->key_end - n->key_start))
		return 1;
	if (n->type == ST_J_STR)
		return n->escaped && has_nul_escape(p->s + n->start + 1, n->end - n->start - 2);
	return n->type == ST_J_NUM && odd_number((const char *)p->s, n->start, n->end);
}

/* ---- A split parse (st_json_parse_split()) ----------------------------------------------
 * The first thread parses from the start. Once it opens the long object, a second thread
 * parses from the guessed byte on to the end of the text, onto nodes above a gap: the long
 * object's members under a stand-in for it, the root's later members under a stand-in for
 * the root. When the first thread reaches the guessed byte as a member's start, it links
 * the second's members after its own, closes the long object and goes on from the root's
 * closing brace; if it passes the byte otherwise, it stops the second and parses on alone. */

enum { SPLIT_NONE, SPLIT_RUNNING, SPLIT_OFF };

struct split {
	const struct st_json_split *req;
	st_json_skip_fn skip;
	size_t max_depth;
	int state;    /* SPLIT_*: the first thread's view */
	uint32_t obj; /* the long object, on the first thread's part of the tape */
	size_t base;  /* the root's stand-in; the long object's follows, then the second
		       * thread's nodes */
	pthread_t th;
	atomic_int cancel; /* set: the second thread stops at its next member */
	/* The second thread's, read once it is joined. */
	struct parser q;
	struct st_jtape tb; /* the same nodes as the first's tape, from base on */
	struct st_jerr eb;
	int r;		  /* its parse()'s result */
	int full;	  /* it ran out of nodes (the first then parses on alone) */
	size_t obj_end;	  /* where the long object's closing brace is */
	size_t root_end;  /* where the root's is */
	uint32_t last[2]; /* the last member it put in the root and in the long object */
};

#define SPLIT_MIN_NODES 4096 /* room each part needs at least, or no second thread */

static int parse(struct parser *p, size_t max_depth, st_json_skip_fn skip, void *u);

static void *split_run(void *arg)
{
	struct split *s = arg;

	s->r = parse(&s->q, s->max_depth, s->skip, s->req->u);
	return NULL;
}

/* The first thread goes on alone: the second is stopped and its nodes are free. */
static void split_off(struct parser *p)
{
	struct split *s = p->split;

	if (s->state == SPLIT_RUNNING) {
		atomic_store(&s->cancel, 1);
		pthread_join(s->th, NULL);
	}
	s->state = SPLIT_OFF;
	p->room = p->t->cap;
}

/* new_node()'s slow path: a tape full up to p->room. The second thread stops there; the
 * first stops the second when it reaches its nodes, then grows the tape. */
static int more_room(struct parser *p)
{
	struct st_jtape *t = p->t;

	if (p->second) {
		p->second->full = 1;
		return fail(p, ST_JE_NOMEM, "out of room");
	}
	if (p->split)
		split_off(p);
	if (t->n >= t->cap && grow_tape(t))
		return fail(p, ST_JE_NOMEM, "out of memory");
	p->room = t->cap;
	return 0;
}

/* The first thread has just opened object obj, a member of the root object: the second
 * starts when it is the long object and there is room on both sides of the gap. */
static void split_start(struct parser *p, uint32_t obj)
{
	struct split *s = p->split;
	const struct st_json_split *r = s->req;
	struct st_jtape *t = p->t;
	const struct st_jnode *o = &t->v[obj];
	size_t base;

	if (o->key_escaped || o->key_end - o->key_start != r->key_len ||
	    memcmp(p->s + o->key_start, r->key, r->key_len))
		return; /* another member */
	s->state = SPLIT_OFF;
	if (r->at <= p->i || r->at >= p->len)
		return;
	/* The room left, shared in proportion to the bytes before and after the guess. */
	base = t->n +
	       (size_t)((double)(t->cap - t->n) * (double)(r->at - p->i) / (double)(p->len - p->i));
	if (base - t->n < SPLIT_MIN_NODES || t->cap - base < SPLIT_MIN_NODES)
		return;
	s->obj = obj;
	s->base = base;
	/* The stand-ins, with no members yet: the root's, and the long object's with its key
	 * for skip's look at the path. */
	t->v[base] = (struct st_jnode){.type = ST_J_OBJ};
	t->v[base + 1] = *o;
	t->v[base + 1].count = t->v[base + 1].first = t->v[base + 1].next = 0;
	s->tb = (struct st_jtape){.v = t->v, .n = base + 2, .cap = t->cap};
	s->q = (struct parser){p->s, p->len, r->at,  &s->tb, &s->eb, p->flags,
			       NULL, 0,	     t->cap, NULL,   s};
	atomic_init(&s->cancel, 0);
	if (pthread_create(&s->th, NULL, split_run, s))
		return;
	s->state = SPLIT_RUNNING;
	p->room = base;
}

/* Appends the members of stand-in node from to container node to, whose last member is
 * *last. */
static void split_link(struct st_jtape *t, uint32_t to, uint32_t from, uint32_t *last,
		       uint32_t from_last)
{
	struct st_jnode *f = &t->v[from], *o = &t->v[to];

	if (!f->count)
		return;
	if (o->count)
		t->v[*last].next = f->first;
	else
		o->first = f->first;
	o->count += f->count;
	*last = from_last;
}

/* The first thread is at p->i, a member's start in the long object at or past the guess,
 * with *depth 2 and last[0, 2) the last members of the root and of the long object.
 * Returns 1 when the rest of the text is on the tape as if this thread had parsed it, up
 * to the root's closing brace (p->i there, *depth 1); 0 to parse on alone; -1 with the
 * second thread's error, which is the text's. */
static int split_join(struct parser *p, size_t *depth, uint32_t *last)
{
	struct split *s = p->split;
	struct st_jtape *t = p->t;

	if (p->i != s->req->at) {
		split_off(p);
		return 0;
	}
	pthread_join(s->th, NULL);
	s->state = SPLIT_OFF;
	p->room = t->cap;
	if (s->full)
		return 0;
	if (s->r) {
		*p->e = s->eb;
		return -1;
	}
	split_link(t, s->obj, (uint32_t)s->base + 1, &last[1], s->last[1]);
	t->v[s->obj].end = (uint32_t)s->obj_end + 1;
	t->skipped_odd |= s->tb.skipped_odd;
	t->odd |= s->tb.odd;
	t->hole_lo = t->n;
	t->hole_hi = s->base + 2;
	t->n = s->tb.n;
	if ((p->flags & ST_JPARSE_UNIQUE) && t->v[s->obj].count > 1 && unique_object(p, s->obj))
		return fail(p, ST_JE_NOMEM, "out of memory");
	split_link(t, 0, (uint32_t)s->base, &last[0], s->last[0]);
	p->i = s->root_end;
	*depth = 1;
	return 1;
}

static int parse(struct parser *p, size_t max_depth, st_json_skip_fn skip, void *u)
{
	const char *buf = (const char *)p->s;
	struct st_jtape *t = p->t;
	size_t len = p->len;
	uint32_t stack[ST_JSON_DEPTH_LIMIT], last[ST_JSON_DEPTH_LIMIT];
	unsigned char in_obj[ST_JSON_DEPTH_LIMIT]; /* stack[d] is an object */
	size_t depth = 0;

	if (len >= UINT32_MAX)
		return fail(p, ST_JE_SYNTAX, "record too long");
	if (p->second) {
		/* Members of the long object, then of the root, under their stand-ins. */
		stack[0] = (uint32_t)p->second->base;
		stack[1] = (uint32_t)p->second->base + 1;
		in_obj[0] = in_obj[1] = 1;
		last[0] = last[1] = 0;
		depth = 2;
	} else {
		skip_ws(p);
	}
	for (;;) {
		uint32_t idx, key_start = 0, key_end = 0;
		uint8_t key_escaped = 0;
		struct st_jnode *v;
		unsigned char c;

		/* In an object, a member starts with its key. */
		if (depth && in_obj[depth - 1]) {
			if (depth <= 2 && (p->split || p->second)) {
				if (p->second &&
				    atomic_load_explicit(&p->second->cancel, memory_order_relaxed))
					return fail(p, ST_JE_SYNTAX, "stopped");
				if (depth == 2 && p->split && p->split->state == SPLIT_RUNNING &&
				    stack[1] == p->split->obj && p->i >= p->split->req->at) {
					int r = split_join(p, &depth, last);

					if (r < 0)
						return -1;
					if (r)
						goto after_value;
				}
			}
			if (p->i >= len || p->s[p->i] != '"')
				return fail(p, ST_JE_SYNTAX, "expected a string key");
			key_start = (uint32_t)p->i + 1;
			if (!short_string(p) && scan_string(p, &key_escaped))
				return -1;
			key_end = (uint32_t)p->i - 1;
			if (p->i >= len || p->s[p->i] != ':') {
				skip_ws(p);
				if (p->i >= len || p->s[p->i] != ':')
					return fail(p, ST_JE_SYNTAX, "expected ':'");
			}
			p->i++;
			skip_ws(p);
			if (skip && skip(u, buf, t, stack, depth, buf + key_start, key_end - key_start,
					 key_escaped)) {
				if (skip_value(p, depth, max_depth))
					return -1;
				goto after_value;
			}
		}
		if (p->i >= len)
			return fail(p, ST_JE_SYNTAX, "unexpected end of input");
		c = p->s[p->i];
		switch (c) {
		case '{':
		case '[':
			if (new_node(p, c == '{' ? ST_J_OBJ : ST_J_ARR, &idx))
				return -1;
			break;
		case '"':
			if (new_node(p, ST_J_STR, &idx) ||
			    (!short_string(p) && scan_string(p, &t->v[idx].escaped)))
				return -1;
			break;
		case 't':
			if (new_node(p, ST_J_TRUE, &idx) || literal(p, "true", 4))
				return -1;
			break;
		case 'f':
			if (new_node(p, ST_J_FALSE, &idx) || literal(p, "false", 5))
				return -1;
			break;
		case 'n':
			if (new_node(p, ST_J_NULL, &idx) || literal(p, "null", 4))
				return -1;
			break;
		default:
			if (c != '-' && (c < '0' || c > '9')) {
				if (c == 0xEF && len - p->i >= 3 && p->s[p->i + 1] == 0xBB &&
				    p->s[p->i + 2] == 0xBF)
					return fail(p, ST_JE_SYNTAX, "unexpected byte order mark");
				return fail(p, ST_JE_SYNTAX, "unexpected character");
			}
			if (new_node(p, ST_J_NUM, &idx) || scan_number(p))
				return -1;
		}
		v = &t->v[idx];
		v->key_start = key_start;
		v->key_end = key_end;
		v->key_escaped = key_escaped;
		if (depth) {
			struct st_jnode *par = &t->v[stack[depth - 1]];

			if (par->count++ == 0)
				par->first = idx;
			else
				t->v[last[depth - 1]].next = idx;
			last[depth - 1] = idx;
		}
		if (c == '{' || c == '[') {
			if (depth == max_depth)
				return fail(p, ST_JE_DEPTH, "nesting too deep");
			if ((p->flags & ST_JPARSE_ODD) && key_escaped && odd_node(p, v))
				t->odd = 1;
			in_obj[depth] = c == '{';
			stack[depth++] = idx;
			p->i++;
			skip_ws(p);
			if (p->i < len && p->s[p->i] == (c == '{' ? '}' : ']')) {
				p->i++;
				v->end = (uint32_t)p->i;
				depth--;
			} else {
				if (depth == 2 && c == '{' && p->split &&
				    p->split->state == SPLIT_NONE && in_obj[0])
					split_start(p, idx);
				continue;
			}
		} else {
			v->end = (uint32_t)p->i;
			if ((p->flags & ST_JPARSE_ODD) && odd_node(p, v))
				t->odd = 1;
		}
after_value:
		/* After a value: a comma, or the end of one or more containers. */
		for (;;) {
			skip_ws(p);
			if (!depth) {
				if (p->i != len)
					return fail(p, ST_JE_SYNTAX, "text after the record");
				return 0;
			}
			if (p->i >= len)
				return fail(p, ST_JE_SYNTAX, "unexpected end of input");
			c = p->s[p->i];
			if (c == ',') {
				p->i++;
				skip_ws(p);
				break;
			}
			if (c != (in_obj[depth - 1] ? '}' : ']'))
				return fail(p, ST_JE_SYNTAX, in_obj[depth - 1] ? "expected ',' or '}'"
									  : "expected ',' or ']'");
			if (p->second &&
			    (depth == 1 || (depth == 2 && stack[1] == p->second->base + 1))) {
				/* The first thread closes the long object and the root. */
				p->second->last[depth - 1] = last[depth - 1];
				if (depth == 1) {
					p->second->root_end = p->i;
					return 0;
				}
				p->second->obj_end = p->i++;
				depth--;
				continue;
			}
			p->i++;
			idx = stack[--depth];
			if (depth == 1 && p->split && p->split->state == SPLIT_RUNNING &&
			    idx == p->split->obj)
				split_off(p); /* the guess was not a member's start */
			t->v[idx].end = (uint32_t)p->i;
			if ((p->flags & ST_JPARSE_UNIQUE) && in_obj[depth] && t->v[idx].count > 1 &&
			    unique_object(p, idx))
				return fail(p, ST_JE_NOMEM, "out of memory");
		}
	}
}

static int parse_doc(const char *buf, size_t len, size_t max_depth, st_json_skip_fn skip, void *u,
		     int flags, struct st_json_split *sp, struct st_jtape *t, struct st_jerr *e)
{
	struct parser p = {
		(const unsigned char *)buf, len, 0, t, e, flags, NULL, 0, t->cap, NULL, NULL};
	struct split s;
	int r;

	if (max_depth > ST_JSON_DEPTH_LIMIT)
		max_depth = ST_JSON_DEPTH_LIMIT;
	t->n = 0;
	t->unique = 0;
	t->skipped_odd = 0;
	t->odd = 0;
	t->hole_lo = t->hole_hi = 0;
	memset(e, 0, sizeof(*e));
	if (sp) {
		sp->used = 0;
		memset(&s, 0, sizeof(s));
		s.req = sp;
		s.skip = skip;
		s.max_depth = max_depth;
		p.split = &s;
	}
	r = parse(&p, max_depth, skip, u);
	if (sp) {
		if (s.state == SPLIT_RUNNING)
			split_off(&p);
		sp->used = t->hole_hi != 0;
		st_free(s.q.slot);
	}
	st_free(p.slot);
	if (!r && (flags & ST_JPARSE_UNIQUE))
		t->unique = 1;
	if (flags & ST_JPARSE_ODD)
		t->odd |= t->skipped_odd;
	return r;
}

int st_json_parse_filter(const char *buf, size_t len, size_t max_depth, st_json_skip_fn skip,
			 void *u, int flags, struct st_jtape *t, struct st_jerr *e)
{
	return parse_doc(buf, len, max_depth, skip, u, flags, NULL, t, e);
}

int st_json_parse_split(const char *buf, size_t len, size_t max_depth, st_json_skip_fn skip,
			void *u, int flags, struct st_json_split *sp, struct st_jtape *t,
			struct st_jerr *e)
{
	return parse_doc(buf, len, max_depth, skip, u, flags, sp, t, e);
}

void st_json_tape_release(struct st_jtape *t)
{
	if (t->big)
		st_big_free(t->v);
	else
		st_free(t->v);
	memset(t, 0, sizeof(*t));
}

static size_t put_utf8(char *o, unsigned cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xC0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xE0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		o[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	o[0] = (char)(0xF0 | (cp >> 18));
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	o[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

size_t st_json_unescape(const char *s, size_t n, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned v, lo;

		if (s[i] != '\\') {
			out[o++] = s[i];
			continue;
		}
		switch (s[++i]) {
		case 'b': out[o++] = '\b'; break;
		case 'f': out[o++] = '\f'; break;
		case 'n': out[o++] = '\n'; break;
		case 'r': out[o++] = '\r'; break;
		case 't': out[o++] = '\t'; break;
		case 'u':
			hex4((const unsigned char *)s + i + 1, &v);
			i += 4;
			if (v >= 0xD800 && v <= 0xDBFF) {
				hex4((const unsigned char *)s + i + 3, &lo);
				v = 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00);
				i += 6;
			}
			o += put_utf8(out + o, v);
			break;
		default: out[o++] = s[i]; break;
		}
	}
	out[o] = '\0';
	return o;
}

int st_json_quote(struct st_buf *b, const char *s, size_t n)
{
	static const char hexd[] = "0123456789abcdef";
	size_t run = 0;

	if (st_buf_add(b, "\"", 1))
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[6] = {'\\', 'u', '0', '0', 0, 0};

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		if (st_buf_add(b, s + run, i - run))
			return -1;
		run = i + 1;
		if (c == '"' || c == '\\') {
			esc[1] = (char)c;
			if (st_buf_add(b, esc, 2))
				return -1;
		} else if (c == '\n' || c == '\t' || c == '\r') {
			esc[1] = c == '\n' ? 'n' : c == '\t' ? 't' : 'r';
			if (st_buf_add(b, esc, 2))
				return -1;
		} else {
			esc[4] = hexd[c >> 4];
			esc[5] = hexd[c & 15];
			if (st_buf_add(b, esc, 6))
				return -1;
		}
	}
	if (st_buf_add(b, s + run, n - run) || st_buf_add(b, "\"", 1))
		return -1;
	return 0;
}

/* ---- Reading a parsed text ------------------------------------------------------------ */

#define KEY_STACK 256 /* keys up to this many bytes are unescaped on the stack */

/* Key or string bytes [s, s + n) of a node, unescaped into small (KEY_STACK bytes) or a new
 * buffer (*heap, to be freed): the bytes, with their length in *len; NULL when out of
 * memory. */
static const char *plain(const char *s, size_t n, int escaped, char *small, char **heap,
			 size_t *len)
{
	char *out = small;

	*heap = NULL;
	if (!escaped) {
		*len = n;
		return s;
	}
	if (n + 1 > KEY_STACK && !(out = *heap = st_malloc(n + 1)))
		return NULL;
	*len = st_json_unescape(s, n, out);
	return out;
}

/* For a key with no escapes: whether its length or first byte tells it is not key, which
 * spares most members a call to memcmp (st_json_key_is(), st_json_get()). */
static inline int plain_key_differs(const char *buf, const struct st_jnode *n, const char *key,
				    size_t len)
{
	return n->key_end - n->key_start != len || (len && buf[n->key_start] != key[0]);
}

int st_json_key_is(const char *buf, const struct st_jnode *n, const char *key, size_t len)
{
	char small[KEY_STACK], *heap;
	size_t klen;
	const char *k;
	int eq;

	if (!n->key_escaped)
		return !plain_key_differs(buf, n, key, len) &&
		       !memcmp(buf + n->key_start, key, len);
	if (len > n->key_end - n->key_start) /* unescaping never makes a key longer */
		return 0;
	k = plain(buf + n->key_start, n->key_end - n->key_start, 1, small, &heap, &klen);
	eq = k && klen == len && !memcmp(k, key, len);
	st_free(heap);
	return eq;
}

int st_json_str_is(const char *buf, const struct st_jnode *n, const char *s, size_t len)
{
	char small[KEY_STACK], *heap;
	size_t vlen, raw;
	const char *v;
	int eq;

	if (n->type != ST_J_STR)
		return 0;
	raw = n->end - n->start - 2;
	if (!n->escaped)
		return raw == len && !memcmp(buf + n->start + 1, s, len);
	if (len > raw)
		return 0;
	v = plain(buf + n->start + 1, raw, 1, small, &heap, &vlen);
	eq = v && vlen == len && !memcmp(v, s, len);
	st_free(heap);
	return eq;
}

uint32_t st_json_get(const char *buf, const struct st_jtape *t, uint32_t obj, const char *key)
{
	size_t len = strlen(key);
	uint32_t found = 0;

	if (t->v[obj].type != ST_J_OBJ)
		return 0;
	/* Most members are passed over here with no call; escaped keys take the full
	 * comparison. */
	for (uint32_t i = t->v[obj].first; i; i = t->v[i].next) {
		const struct st_jnode *n = &t->v[i];

		if (!n->key_escaped && plain_key_differs(buf, n, key, len))
			continue;
		if (st_json_key_is(buf, n, key, len)) {
			found = i;
			if (t->unique)
				break;
		}
	}
	return found;
}

/* The hash of member node n's key (unescaped). Returns 0 with *h, or -1 when out of
 * memory. */
static int key_hash(const char *buf, const struct st_jnode *n, uint64_t *h)
{
	char small[KEY_STACK], *heap;
	size_t len;
	const char *k = plain(buf + n->key_start, n->key_end - n->key_start, n->key_escaped, small,
			      &heap, &len);

	if (!k)
		return -1;
	*h = key_bytes_hash(k, len);
	st_free(heap);
	return 0;
}

int st_jindex_init(struct st_jindex *ix, const char *buf, const struct st_jtape *t, uint32_t obj)
{
	size_t slots = 8;

	memset(ix, 0, sizeof(*ix));
	if (t->v[obj].type != ST_J_OBJ)
		return 0;
	while (slots < (size_t)t->v[obj].count * 2)
		slots <<= 1;
	if (!(ix->slot = st_calloc(slots, sizeof(*ix->slot))))
		return -1;
	ix->mask = slots - 1;
	for (uint32_t i = t->v[obj].first; i; i = t->v[i].next) {
		uint64_t h;
		size_t at;

		if (key_hash(buf, &t->v[i], &h)) {
			st_jindex_release(ix);
			return -1;
		}
		/* A later duplicate takes the earlier one's slot: the last one wins. On a tape
		 * whose keys are unique, no key is compared. */
		for (at = h & ix->mask; ix->slot[at]; at = (at + 1) & ix->mask) {
			const struct st_jnode *o = &t->v[ix->slot[at] - 1];
			char small[KEY_STACK], *heap;
			size_t len;
			const char *k;
			int same;

			if (t->unique)
				continue;
			k = plain(buf + o->key_start, o->key_end - o->key_start, o->key_escaped, small,
				  &heap, &len);
			same = k && st_json_key_is(buf, &t->v[i], k, len);
			st_free(heap);
			if (same)
				break;
		}
		ix->slot[at] = i + 1;
	}
	return 0;
}

uint32_t st_jindex_get(const struct st_jindex *ix, const char *buf, const struct st_jtape *t,
		       const char *key, size_t len)
{
	if (!ix->slot)
		return 0;
	for (size_t at = key_bytes_hash(key, len) & ix->mask; ix->slot[at];
	     at = (at + 1) & ix->mask)
		if (st_json_key_is(buf, &t->v[ix->slot[at] - 1], key, len))
			return ix->slot[at] - 1;
	return 0;
}

void st_jindex_release(struct st_jindex *ix)
{
	st_free(ix->slot);
	memset(ix, 0, sizeof(*ix));
}

/* Bytes [s, s + n), unescaped when escaped, in a new string. */
static char *dup_text(const char *s, size_t n, int escaped, size_t *len, int *oom)
{
	char *out = st_malloc(n + 1);
	size_t l;

	if (oom)
		*oom = !out;
	if (!out)
		return NULL;
	if (escaped)
		l = st_json_unescape(s, n, out);
	else {
		memcpy(out, s, n);
		out[n] = '\0';
		l = n;
	}
	if (len)
		*len = l;
	return out;
}

char *st_json_strdup(const char *buf, const struct st_jnode *n, size_t *len, int *oom)
{
	if (n->type != ST_J_STR) {
		if (oom)
			*oom = 0;
		return NULL;
	}
	return dup_text(buf + n->start + 1, n->end - n->start - 2, n->escaped, len, oom);
}

char *st_json_keydup(const char *buf, const struct st_jnode *n, size_t *len, int *oom)
{
	return dup_text(buf + n->key_start, n->key_end - n->key_start, n->key_escaped, len, oom);
}

int st_json_int(const char *buf, const struct st_jnode *n, int64_t *out)
{
	char num[32];
	size_t len = n->end - n->start;
	char *end;
	long long v;

	if (n->type != ST_J_NUM || len >= sizeof(num) ||
	    memchr(buf + n->start, '.', len) || memchr(buf + n->start, 'e', len) ||
	    memchr(buf + n->start, 'E', len))
		return -1;
	memcpy(num, buf + n->start, len);
	num[len] = '\0';
	errno = 0;
	v = strtoll(num, &end, 10);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

int st_json_double(const char *buf, const struct st_jnode *n, double *out)
{
	char small[64], *num = small;
	size_t len = n->end - n->start;
	char *end;
	double v;
	int ret = -1;

	if (n->type != ST_J_NUM || (len >= sizeof(small) && !(num = st_malloc(len + 1))))
		return -1;
	memcpy(num, buf + n->start, len);
	num[len] = '\0';
	errno = 0;
	v = strtod(num, &end);
	if (!*end && !(errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL))) {
		*out = v;
		ret = 0;
	}
	if (num != small)
		st_free(num);
	return ret;
}

/* Two members with one key in object obj: the second of them into *dup. Returns 1 when found, 0 when not, -1 when out of memory. */
static int object_duplicate(const char *buf, const struct st_jtape *t, uint32_t obj,
			    uint32_t *dup)
{
	struct st_jindex ix;
	int found = 0;

	if (t->v[obj].count <= 8) {
		for (uint32_t a = t->v[obj].first; a && !found; a = t->v[a].next)
			for (uint32_t b = t->v[a].next; b && !found; b = t->v[b].next) {
				char small[KEY_STACK], *heap;
				size_t len;
				const struct st_jnode *na = &t->v[a];
				const char *k = plain(buf + na->key_start, na->key_end - na->key_start,
						      na->key_escaped, small, &heap, &len);

				if (!k)
					return -1;
				if (st_json_key_is(buf, &t->v[b], k, len)) {
					*dup = b;
					found = 1;
				}
				st_free(heap);
			}
		return found;
	}
	/* Large: the index keeps one member per key, so a member it does not return for its
	 * own key has a twin. */
	if (st_jindex_init(&ix, buf, t, obj))
		return -1;
	for (uint32_t i = t->v[obj].first; i && !found; i = t->v[i].next) {
		char small[KEY_STACK], *heap;
		size_t len;
		const struct st_jnode *ni = &t->v[i];
		const char *k = plain(buf + ni->key_start, ni->key_end - ni->key_start,
				      ni->key_escaped, small, &heap, &len);

		if (!k) {
			st_jindex_release(&ix);
			return -1;
		}
		if (st_jindex_get(&ix, buf, t, k, len) != i) {
			*dup = st_jindex_get(&ix, buf, t, k, len);
			found = 1;
		}
		st_free(heap);
	}
	st_jindex_release(&ix);
	return found;
}

/* The tape position after i, past the gap of a split parse. */
static size_t tape_next(const struct st_jtape *t, size_t i)
{
	return ++i == t->hole_lo ? t->hole_hi : i;
}

int st_json_find_duplicate(const char *buf, const struct st_jtape *t, uint32_t *dup)
{
	*dup = 0;
	for (size_t i = 0; i < t->n; i = tape_next(t, i)) {
		int r;

		if (t->v[i].type != ST_J_OBJ || t->v[i].count < 2)
			continue;
		if ((r = object_duplicate(buf, t, (uint32_t)i, dup)) != 0)
			return r < 0 ? -1 : 0;
	}
	return 0;
}

/* ---- One member per key, and writing a value back --------------------------------------- */

/* Whether member nodes a and b have one key (unescaped). -1 when out of memory. */
static int same_key(const char *buf, const struct st_jnode *a, const struct st_jnode *b)
{
	char small[KEY_STACK], *heap;
	size_t len;
	const char *k;
	int eq;

	if (!a->key_escaped && !b->key_escaped)
		return a->key_end - a->key_start == b->key_end - b->key_start &&
		       !memcmp(buf + a->key_start, buf + b->key_start, a->key_end - a->key_start);
	k = plain(buf + a->key_start, a->key_end - a->key_start, a->key_escaped, small, &heap,
		  &len);
	if (!k)
		return -1;
	eq = st_json_key_is(buf, b, k, len);
	st_free(heap);
	return eq;
}

/* Scratch of st_json_collapse_duplicates: a hash table of one object's keys. */
struct keytab {
	uint32_t *slot; /* the key's last member + 1, 0 when empty */
	uint8_t *done;	/* the key's member is on the new list */
	size_t cap;
};

/* Fills tab with object obj's keys (slots cleared first): 1 when two members share a key,
 * 0 when not, -1 when out of memory. */
static int keytab_fill(const char *buf, const struct st_jtape *t, uint32_t obj,
		       struct keytab *tab, size_t *mask)
{
	size_t slots = 16;
	int dup = 0;

	while (slots < (size_t)t->v[obj].count * 2)
		slots <<= 1;
	if (slots > tab->cap) {
		uint32_t *s = st_realloc(tab->slot, slots * sizeof(*s));
		uint8_t *d;

		if (!s)
			return -1;
		tab->slot = s;
		if (!(d = st_realloc(tab->done, slots)))
			return -1;
		tab->done = d;
		tab->cap = slots;
	}
	memset(tab->slot, 0, slots * sizeof(*tab->slot));
	memset(tab->done, 0, slots);
	*mask = slots - 1;
	for (uint32_t i = t->v[obj].first; i; i = t->v[i].next) {
		uint64_t h;
		size_t at;

		if (key_hash(buf, &t->v[i], &h))
			return -1;
		for (at = h & *mask; tab->slot[at]; at = (at + 1) & *mask) {
			int same = same_key(buf, &t->v[tab->slot[at] - 1], &t->v[i]);

			if (same < 0)
				return -1;
			if (same) {
				dup = 1;
				break;
			}
		}
		tab->slot[at] = i + 1;
	}
	return dup;
}

/* The slot of member i's key in a filled table. */
static size_t keytab_find(const char *buf, const struct st_jtape *t, const struct keytab *tab,
			  size_t mask, uint32_t i, int *oom)
{
	uint64_t h;
	size_t at;

	*oom = 0;
	if (key_hash(buf, &t->v[i], &h)) {
		*oom = 1;
		return 0;
	}
	for (at = h & mask; tab->slot[at]; at = (at + 1) & mask) {
		int same = same_key(buf, &t->v[tab->slot[at] - 1], &t->v[i]);

		if (same < 0) {
			*oom = 1;
			return 0;
		}
		if (same)
			break;
	}
	return at;
}

long st_json_collapse_range(const char *buf, struct st_jtape *t, size_t from, size_t to)
{
	struct keytab tab = {NULL, NULL, 0};
	uint32_t *mem = NULL;
	size_t nmem = 0, nmem_cap = 0;
	long dropped = 0;

	for (size_t o = from; o < to && o < t->n; o = tape_next(t, o)) {
		struct st_jnode *obj = &t->v[o];
		uint32_t head = 0, tail = 0, count = 0;
		size_t mask;
		int r;

		if (obj->type != ST_J_OBJ || obj->count < 2)
			continue;
		if (obj->count <= 8) { /* small: compare pairs before any table */
			int dup = 0;

			for (uint32_t a = obj->first; a && !dup; a = t->v[a].next)
				for (uint32_t b = t->v[a].next; b && !dup; b = t->v[b].next)
					if ((dup = same_key(buf, &t->v[a], &t->v[b])) < 0)
						goto nomem;
			if (!dup)
				continue;
		}
		if ((r = keytab_fill(buf, t, (uint32_t)o, &tab, &mask)) < 0)
			goto nomem;
		if (!r)
			continue;
		/* Relink: each key at its first member's place, with its last member. The
		 * members in their first order, since relinking changes next. */
		if (obj->count > nmem_cap) {
			uint32_t *nm = st_realloc(mem, (size_t)obj->count * sizeof(*mem));

			if (!nm)
				goto nomem;
			mem = nm;
			nmem_cap = obj->count;
		}
		nmem = 0;
		for (uint32_t i = obj->first; i && nmem < obj->count; i = t->v[i].next)
			mem[nmem++] = i;
		for (size_t k = 0; k < nmem; k++) {
			uint32_t i = mem[k], w;
			int oom;
			size_t at = keytab_find(buf, t, &tab, mask, i, &oom);

			if (oom)
				goto nomem;
			if (tab.done[at]) {
				dropped++;
				continue;
			}
			tab.done[at] = 1;
			w = tab.slot[at] - 1;
			if (tail)
				t->v[tail].next = w;
			else
				head = w;
			tail = w;
			count++;
		}
		t->v[tail].next = 0;
		obj->first = head;
		obj->count = count;
	}
	st_free(tab.slot);
	st_free(tab.done);
	st_free(mem);
	return dropped;
nomem:
	st_free(tab.slot);
	st_free(tab.done);
	st_free(mem);
	return -1;
}

long st_json_collapse_duplicates(const char *buf, struct st_jtape *t)
{
	long dropped = st_json_collapse_range(buf, t, 0, t->n);

	if (dropped >= 0)
		t->unique = 1;
	return dropped;
}

/* Appends the UTF-8 text s[0, n) as a JSON string the way jansson writes one. */
static int dump_string(struct st_buf *b, const char *s, size_t n)
{
	size_t run = 0;

	if (st_buf_add(b, "\"", 1))
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[8];
		size_t elen = 2;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		if (st_buf_add(b, s + run, i - run))
			return -1;
		run = i + 1;
		esc[0] = '\\';
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default:
			snprintf(esc, sizeof(esc), "\\u%04X", (unsigned)c);
			elen = 6;
		}
		if (st_buf_add(b, esc, elen))
			return -1;
	}
	if (st_buf_add(b, s + run, n - run) || st_buf_add(b, "\"", 1))
		return -1;
	return 0;
}

/* Appends the key or string bytes s[0, n) (escaped when escaped) as jansson writes them. */
static int dump_text(struct st_buf *b, const char *s, size_t n, int escaped)
{
	char small[KEY_STACK], *heap;
	size_t len;
	const char *v = plain(s, n, escaped, small, &heap, &len);
	int r;

	if (!v)
		return -1;
	r = dump_string(b, v, len);
	st_free(heap);
	return r;
}

/* Appends number node n as jansson writes the value it reads from the same text. */
static int dump_number(struct st_buf *b, const char *buf, const struct st_jnode *n)
{
	char out[64], *e;
	int64_t iv;
	double d;
	int len;

	if (st_json_int(buf, n, &iv) == 0)
		return st_buf_addf(b, "%lld", (long long)iv);
	if (st_json_double(buf, n, &d))
		d = strtod(buf + n->start, NULL); /* out of range: what strtod makes of it */
	len = snprintf(out, sizeof(out), "%.17g", d);
	if (len < 0 || (size_t)len >= sizeof(out) - 3)
		return -1;
	/* A dot or an exponent, so that it reads back as a real; the exponent without '+'
	 * and leading zeros (as jansson's jsonp_dtostr). */
	if (!strchr(out, '.') && !strchr(out, 'e') && !strchr(out, 'n') && !strchr(out, 'i'))
		memcpy(out + len, ".0", 3);
	if ((e = strchr(out, 'e'))) {
		char *start = e + 1, *end = e + 2;

		if (*start == '-')
			start++;
		while (*end == '0')
			end++;
		if (end != start)
			memmove(start, end, strlen(end) + 1);
	}
	return st_buf_adds(b, out);
}

struct sorted_key {
	const char *k;
	size_t len;
	char *heap;
	uint32_t node;
};

#define SORT_KEYS 16 /* objects of up to this many members are sorted on the stack */

static int by_key(const void *pa, const void *pb)
{
	const struct sorted_key *a = pa, *b = pb;
	size_t min = a->len < b->len ? a->len : b->len;
	int r = memcmp(a->k, b->k, min);

	if (r)
		return r;
	return a->len < b->len ? -1 : a->len > b->len;
}

/* Appends object o (SORT_KEYS at most members, none of whose keys has escapes) with its
 * members in by_key() order, sorted on the stack (insertion sort: few keys). A key without
 * escapes is written as it was read, quotes included. */
static int dump_small_sorted(const char *buf, const struct st_jtape *t, uint32_t o, int flags,
			     struct st_buf *b)
{
	struct sorted_key keys[SORT_KEYS];
	size_t nk = 0;

	for (uint32_t i = t->v[o].first; i && nk < t->v[o].count; i = t->v[i].next) {
		const struct st_jnode *m = &t->v[i];
		struct sorted_key k = {buf + m->key_start, m->key_end - m->key_start, NULL, i};
		size_t at = nk++;

		while (at && by_key(&keys[at - 1], &k) > 0) {
			keys[at] = keys[at - 1];
			at--;
		}
		keys[at] = k;
	}
	if (st_buf_add(b, "{", 1))
		return -1;
	for (size_t k = 0; k < nk; k++)
		if ((k && st_buf_add(b, ",", 1)) ||
		    st_buf_add(b, keys[k].k - 1, keys[k].len + 2) || st_buf_add(b, ":", 1) ||
		    st_json_dump(buf, t, keys[k].node, flags, b))
			return -1;
	return st_buf_add(b, "}", 1);
}

/* Whether object o's keys are all without escapes. */
static int plain_keys(const struct st_jtape *t, uint32_t o)
{
	for (uint32_t i = t->v[o].first; i; i = t->v[i].next)
		if (t->v[i].key_escaped)
			return 0;
	return 1;
}

int st_json_dump(const char *buf, const struct st_jtape *t, uint32_t n, int flags,
		 struct st_buf *b)
{
	const struct st_jnode *v = &t->v[n];
	struct sorted_key *keys;
	size_t nk = 0;
	int ret = -1;

	switch (v->type) {
	case ST_J_STR:
		/* Without escapes its bytes hold no quote, backslash or control character: what
		 * dump_string() writes for them, quotes included. */
		if (!v->escaped)
			return st_buf_add(b, buf + v->start, v->end - v->start);
		return dump_text(b, buf + v->start + 1, v->end - v->start - 2, v->escaped);
	case ST_J_NUM:
		return dump_number(b, buf, v);
	case ST_J_TRUE:
		return st_buf_add(b, "true", 4);
	case ST_J_FALSE:
		return st_buf_add(b, "false", 5);
	case ST_J_NULL:
		return st_buf_add(b, "null", 4);
	case ST_J_ARR:
		if (st_buf_add(b, "[", 1))
			return -1;
		for (uint32_t i = v->first; i; i = t->v[i].next)
			if ((i != v->first && st_buf_add(b, ",", 1)) || st_json_dump(buf, t, i, flags, b))
				return -1;
		return st_buf_add(b, "]", 1);
	default:
		break;
	}
	if ((flags & ST_JDUMP_SORT_KEYS) && v->count && v->count <= SORT_KEYS && plain_keys(t, n))
		return dump_small_sorted(buf, t, n, flags, b);
	if (st_buf_add(b, "{", 1))
		return -1;
	if (!(flags & ST_JDUMP_SORT_KEYS)) {
		for (uint32_t i = v->first; i; i = t->v[i].next) {
			const struct st_jnode *m = &t->v[i];

			if ((i != v->first && st_buf_add(b, ",", 1)) ||
			    (m->key_escaped ? dump_text(b, buf + m->key_start,
							m->key_end - m->key_start, 1)
					    : st_buf_add(b, buf + m->key_start - 1,
							 m->key_end - m->key_start + 2)) ||
			    st_buf_add(b, ":", 1) || st_json_dump(buf, t, i, flags, b))
				return -1;
		}
		return st_buf_add(b, "}", 1);
	}
	if (!v->count)
		return st_buf_add(b, "}", 1);
	if (!(keys = st_calloc(v->count, sizeof(*keys))))
		return -1;
	for (uint32_t i = v->first; i && nk < v->count; i = t->v[i].next) {
		const struct st_jnode *m = &t->v[i];
		char small[KEY_STACK];

		/* Escaped keys get their own copy, so that small is not shared. */
		keys[nk].k = plain(buf + m->key_start, m->key_end - m->key_start, m->key_escaped,
				   small, &keys[nk].heap, &keys[nk].len);
		if (keys[nk].k == small) {
			if (!(keys[nk].heap = st_strndup(small, keys[nk].len)))
				goto out;
			keys[nk].k = keys[nk].heap;
		}
		if (!keys[nk].k)
			goto out;
		keys[nk++].node = i;
	}
	qsort(keys, nk, sizeof(*keys), by_key);
	for (size_t k = 0; k < nk; k++)
		if ((k && st_buf_add(b, ",", 1)) || dump_string(b, keys[k].k, keys[k].len) ||
		    st_buf_add(b, ":", 1) || st_json_dump(buf, t, keys[k].node, flags, b))
			goto out;
	ret = st_buf_add(b, "}", 1);
out:
	for (size_t k = 0; k < v->count; k++)
		st_free(keys[k].heap);
	st_free(keys);
	return ret;
}
