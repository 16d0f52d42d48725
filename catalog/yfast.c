/* A fast path in front of libyaml for the plain block YAML that most descriptors are: it
 * turns a whole file into the events libyaml would give, or declines, and libyaml parses the
 * file instead. It declines anything it is not sure of (quotes, block scalars, anchors, tags,
 * tabs, multi-line plain scalars, errors...), so libyaml stays the one reader of hard cases
 * and the one source of YAML errors. tests/unit/test_yfast.c compares the two. */
#include "ydoc.h"
#include "alloc.h"

#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define KEY_MAX 1000 /* libyaml gives up on implicit keys of 1024 characters */

/* The scan state. Every function returns 1 to go on, 0 to decline, -1 when out of memory. */
struct fs {
	const unsigned char *s;
	size_t n, i;
	size_t ls;	   /* where the current line starts */
	unsigned line;	   /* 0-based, as libyaml's marks */
	size_t cpos, ccol; /* a byte of the current line and its column, to count on from */
	int ascii;	   /* every byte is ASCII: a column is a byte offset */
	yaml_event_t *ev;
	size_t nev, cap;
};

#define TRY(x)                                                                                     \
	do {                                                                                       \
		int r_ = (x);                                                                      \
		if (r_ <= 0)                                                                       \
			return r_;                                                                 \
	} while (0)

static int at(const struct fs *f, size_t i)
{
	return i < f->n ? f->s[i] : '\n';
}

static int eol(const struct fs *f, size_t i)
{
	return i >= f->n || f->s[i] == '\n';
}

/* The column of byte j of the current line, in characters as libyaml counts. Marks come
 * in order, so it counts on from the last one (a long line stays linear). */
static size_t column(struct fs *f, size_t j)
{
	if (f->ascii)
		return j - f->ls;
	if (f->cpos < f->ls || f->cpos > j) {
		f->cpos = f->ls;
		f->ccol = 0;
	}
	for (; f->cpos < j; f->cpos++)
		f->ccol += (f->s[f->cpos] & 0xC0) != 0x80;
	return f->ccol;
}

static int emit(struct fs *f, yaml_event_type_t type, size_t pos, size_t len)
{
	yaml_event_t *e;

	if (f->nev == f->cap && st_grow(&f->ev, &f->cap, f->nev + 1, sizeof(*f->ev)))
		return -1;
	e = &f->ev[f->nev++];
	memset(e, 0, sizeof(*e));
	e->type = type;
	e->start_mark.line = f->line;
	e->start_mark.column = column(f, pos);
	if (type == YAML_SCALAR_EVENT) {
		e->data.scalar.value = (yaml_char_t *)(f->s + pos);
		e->data.scalar.length = len;
		e->data.scalar.plain_implicit = 1;
		e->data.scalar.style = YAML_PLAIN_SCALAR_STYLE;
	} else if (type == YAML_MAPPING_START_EVENT) {
		e->data.mapping_start.implicit = 1;
		e->data.mapping_start.style = YAML_BLOCK_MAPPING_STYLE;
	} else if (type == YAML_SEQUENCE_START_EVENT) {
		e->data.sequence_start.implicit = 1;
		e->data.sequence_start.style = YAML_BLOCK_SEQUENCE_STYLE;
	}
	return 1;
}

/* Only newlines and printable characters that libyaml reads as such: no tabs, carriage
 * returns or other controls, no C1 controls or NEL, no LS, PS or byte-order marks, no
 * U+FFFE/U+FFFF, and well-formed UTF-8. Returns 2 when they are all ASCII, 1 when some are
 * not, 0 when they are not plain. */
static int plain_bytes(const unsigned char *s, size_t n)
{
	int ret = 2;

	for (size_t i = 0; i < n;) {
		unsigned c;
		size_t k;

#ifdef __SSE2__
		/* Sixteen bytes at a time while they are printable ASCII or newlines: as signed
		 * bytes, controls and everything from 0x80 are below 0x20. */
		while (i + 16 <= n) {
			__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
			__m128i odd = _mm_or_si128(
				_mm_andnot_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\n')),
						 _mm_cmplt_epi8(v, _mm_set1_epi8(0x20))),
				_mm_cmpeq_epi8(v, _mm_set1_epi8(0x7F)));

			if (_mm_movemask_epi8(odd))
				break;
			i += 16;
		}
		if (i >= n)
			break;
#endif
		c = s[i];

		if (c < 0x80) {
			if ((c < 0x20 && c != '\n') || c == 0x7F)
				return 0;
			i++;
			continue;
		}
		ret = 1;
		if (c >= 0xC3 && c <= 0xDF)
			k = 1;
		else if (c == 0xC2)
			k = (i + 1 < n && s[i + 1] >= 0xA0) ? 1 : 0;
		else if (c >= 0xE0 && c <= 0xEF)
			k = 2;
		else if (c >= 0xF0 && c <= 0xF4)
			k = 3;
		else
			return 0;
		if (!k || i + k >= n)
			return 0;
		for (size_t j = 1; j <= k; j++)
			if ((s[i + j] & 0xC0) != 0x80)
				return 0;
		if ((c == 0xE0 && s[i + 1] < 0xA0) || (c == 0xED && s[i + 1] >= 0xA0) ||
		    (c == 0xF0 && s[i + 1] < 0x90) || (c == 0xF4 && s[i + 1] >= 0x90) ||
		    (c == 0xE2 && s[i + 1] == 0x80 && (s[i + 2] == 0xA8 || s[i + 2] == 0xA9)) ||
		    (c == 0xEF && s[i + 1] == 0xBB && s[i + 2] == 0xBF) ||
		    (c == 0xEF && s[i + 1] == 0xBF && s[i + 2] >= 0xBE))
			return 0;
		i += k + 1;
	}
	return ret;
}

/* Bytes that may start a plain scalar here: no YAML indicator, and nothing that could read
 * as a document marker, a number sign or a sequence entry. */
static int plain_start(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '/' || c == '(' || c == '$' || c == '+' || c == '=' || c >= 0x80;
}

static int key_byte(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-' || c == '.' || c == '/';
}

/* Skips spaces, then an optional comment, up to the end of the line (not past it). Declines
 * anything else. A comment needs a space before it. */
static int rest_of_line(struct fs *f)
{
	while (at(f, f->i) == ' ')
		f->i++;
	if (at(f, f->i) == '#') {
		if (f->i == f->ls || f->s[f->i - 1] != ' ')
			return 0;
		while (!eol(f, f->i))
			f->i++;
	}
	return eol(f, f->i) ? 1 : 0;
}

/* Moves to the start of the next line that has content (not blank, not only a comment).
 * Sets *indent to its indentation, or to -1 at the end of the input. */
static void next_content(struct fs *f, long *indent)
{
	for (;;) {
		size_t j;

		if (f->i < f->n && f->s[f->i] == '\n') {
			f->i++;
			f->line++;
			f->ls = f->i;
		}
		if (f->i >= f->n) {
			*indent = -1;
			return;
		}
		for (j = f->i; j < f->n && f->s[j] == ' '; j++)
			;
		if (j < f->n && f->s[j] != '\n' && f->s[j] != '#') {
			*indent = (long)(j - f->i);
			f->i = j;
			return;
		}
		while (j < f->n && f->s[j] != '\n')
			j++;
		f->i = j;
	}
}

/* A plain scalar in block context that ends on this line (at a comment or the line's end),
 * without ": " or a trailing ':', which libyaml would read as a key or reject. */
static int block_plain(struct fs *f)
{
	size_t start = f->i, end;

	if (!plain_start(at(f, f->i)) && !(at(f, f->i) == '-' && plain_start(at(f, f->i + 1))) &&
	    !(at(f, f->i) == '.' && plain_start(at(f, f->i + 1))))
		return 0;
	for (end = f->i; !eol(f, f->i); f->i++) {
		int c = f->s[f->i];

		if (c == ':' && (at(f, f->i + 1) == ' ' || eol(f, f->i + 1)))
			return 0;
		if (c == '#' && f->s[f->i - 1] == ' ')
			break;
		if (c != ' ')
			end = f->i + 1;
	}
	return emit(f, YAML_SCALAR_EVENT, start, end - start);
}

/* What a byte is to flow_plain(): 0 for most, which the scalar goes on over. */
enum { FP_SPACE = 1, FP_END, FP_COLON, FP_BAD };
static const unsigned char flow_byte[256] = {
	[' '] = FP_SPACE, ['\n'] = FP_END, [','] = FP_END,  [']'] = FP_END,  ['}'] = FP_END,
	[':'] = FP_COLON, ['['] = FP_BAD,   ['{'] = FP_BAD,  ['#'] = FP_BAD,  ['"'] = FP_BAD,
	['\''] = FP_BAD,
};

/* A plain scalar inside a flow collection: ends at ',', ']' or '}' (or ': ' for a flow
 * mapping's key). */
static int flow_plain(struct fs *f, int is_key)
{
	size_t start = f->i, end;

	if (!plain_start(at(f, f->i)) && !(at(f, f->i) == '-' && plain_start(at(f, f->i + 1))) &&
	    !(at(f, f->i) == '.' && plain_start(at(f, f->i + 1))))
		return 0;
	for (end = f->i; f->i < f->n; f->i++) {
		int k = flow_byte[f->s[f->i]];

		if (!k) {
			end = f->i + 1;
			continue;
		}
		if (k == FP_SPACE)
			continue;
		if (k == FP_END)
			break; /* the line's end, or ',', ']' or '}' */
		if (k == FP_COLON && is_key && at(f, f->i + 1) == ' ')
			break;
		return 0; /* ':' elsewhere, '[', '{', '#' or a quote */
	}
	if (eol(f, f->i) || (is_key && end - start > KEY_MAX))
		return 0;
	return emit(f, YAML_SCALAR_EVENT, start, end - start);
}

static int flow_node(struct fs *f, int depth);

/* [a, b] or {k: v, k: v} on one line, f->i at the bracket. */
static int flow_collection(struct fs *f, int depth)
{
	int map = at(f, f->i) == '{';
	int close = map ? '}' : ']';

	if (depth > 16)
		return 0;
	TRY(emit(f, map ? YAML_MAPPING_START_EVENT : YAML_SEQUENCE_START_EVENT, f->i, 0));
	if (map)
		f->ev[f->nev - 1].data.mapping_start.style = YAML_FLOW_MAPPING_STYLE;
	else
		f->ev[f->nev - 1].data.sequence_start.style = YAML_FLOW_SEQUENCE_STYLE;
	f->i++;
	while (at(f, f->i) == ' ')
		f->i++;
	if (at(f, f->i) != close) {
		for (;;) {
			if (map) {
				TRY(flow_plain(f, 1));
				if (at(f, f->i) != ':' || at(f, f->i + 1) != ' ')
					return 0;
				f->i += 2;
				while (at(f, f->i) == ' ')
					f->i++;
			}
			TRY(flow_node(f, depth + 1));
			while (at(f, f->i) == ' ')
				f->i++;
			if (at(f, f->i) == close)
				break;
			if (at(f, f->i) != ',' || at(f, f->i + 1) != ' ')
				return 0;
			f->i += 2;
			while (at(f, f->i) == ' ')
				f->i++;
		}
	}
	TRY(emit(f, map ? YAML_MAPPING_END_EVENT : YAML_SEQUENCE_END_EVENT, f->i, 0));
	f->i++;
	return 1;
}

static int flow_node(struct fs *f, int depth)
{
	int c = at(f, f->i);

	if (c == '[' || c == '{')
		return flow_collection(f, depth);
	return flow_plain(f, 0);
}

/* Whether the line at f->i starts with a key: key bytes, then ':' and a space or the end of
 * the line. Sets *len to the key's length. */
static int is_key(const struct fs *f, size_t *len)
{
	size_t j = f->i;

	if (!((at(f, j) >= 'a' && at(f, j) <= 'z') || (at(f, j) >= 'A' && at(f, j) <= 'Z') ||
	      (at(f, j) >= '0' && at(f, j) <= '9') || at(f, j) == '_'))
		return 0;
	while (j < f->n && key_byte(f->s[j]) && j - f->i < KEY_MAX)
		j++;
	if (at(f, j) != ':' || !(at(f, j + 1) == ' ' || eol(f, j + 1)))
		return 0;
	*len = j - f->i;
	return 1;
}

static int block_mapping(struct fs *f, long indent, int depth, long *next);
static int block_sequence(struct fs *f, long indent, int depth, long *next);

static int is_entry(const struct fs *f)
{
	return at(f, f->i) == '-' && at(f, f->i + 1) == ' ';
}

/* The value of a key or an entry, starting on the current line at f->i (after the
 * indicator and its spaces) or on the lines after. indent is the parent's; *next gets the
 * indentation of the first content line after the value (-1 at the end). */
static int block_value(struct fs *f, long indent, int depth, int seq_parent, long *next)
{
	long m;
	int c = at(f, f->i);

	if (depth > 32)
		return 0;
	if (!eol(f, f->i) && c != '#') {
		size_t len;

		if (c == '[' || c == '{') {
			TRY(flow_collection(f, 0));
			TRY(rest_of_line(f));
		} else if (seq_parent && is_key(f, &len)) {
			/* - key: value ... : a mapping indented at the key's column */
			return block_mapping(f, (long)column(f, f->i), depth + 1, next);
		} else {
			TRY(block_plain(f));
			TRY(rest_of_line(f));
		}
		next_content(f, next);
		/* A more indented line would continue a plain scalar or be an error. */
		return *next > indent ? 0 : 1;
	}
	TRY(rest_of_line(f));
	next_content(f, &m);
	if (m > indent) {
		if (is_entry(f))
			return block_sequence(f, m, depth + 1, next);
		if (is_key(f, &(size_t){0}))
			return block_mapping(f, m, depth + 1, next);
		return 0;
	}
	if (m == indent && !seq_parent && is_entry(f))
		return block_sequence(f, m, depth + 1, next); /* key:\n- a: the entries may align */
	return 0; /* an empty value: libyaml's null scalar */
}

/* A block mapping whose keys sit at column indent; f->i at the first key. */
static int block_mapping(struct fs *f, long indent, int depth, long *next)
{
	long m;

	TRY(emit(f, YAML_MAPPING_START_EVENT, f->i, 0));
	for (;;) {
		size_t len;

		if (!is_key(f, &len))
			return 0;
		TRY(emit(f, YAML_SCALAR_EVENT, f->i, len));
		f->i += len + 1;
		while (at(f, f->i) == ' ')
			f->i++;
		TRY(block_value(f, indent, depth, 0, &m));
		if (m < indent)
			break;
		if (m > indent)
			return 0;
		if (indent == 0 && f->i + 3 <= f->n &&
		    (!memcmp(f->s + f->i, "---", 3) || !memcmp(f->s + f->i, "...", 3)))
			break;
	}
	*next = m;
	return emit(f, YAML_MAPPING_END_EVENT, f->i, 0);
}

/* A block sequence whose '-' sit at column indent; f->i at the first '-'. */
static int block_sequence(struct fs *f, long indent, int depth, long *next)
{
	long m;

	TRY(emit(f, YAML_SEQUENCE_START_EVENT, f->i, 0));
	for (;;) {
		if (!is_entry(f))
			return 0;
		f->i += 2;
		while (at(f, f->i) == ' ')
			f->i++;
		if (eol(f, f->i) || at(f, f->i) == '#' || is_entry(f) || at(f, f->i) == '-')
			return 0;
		TRY(block_value(f, indent, depth, 1, &m));
		if (m != indent || !is_entry(f))
			break;
	}
	*next = m;
	return emit(f, YAML_SEQUENCE_END_EVENT, f->i, 0);
}

static int stream(struct fs *f)
{
	long m;

	TRY(emit(f, YAML_STREAM_START_EVENT, 0, 0));
	next_content(f, &m);
	if (m < 0)
		return 0; /* no document: leave it to libyaml */
	while (m >= 0) {
		size_t doc_start = f->i;
		unsigned doc_line = f->line;
		int explicit_start = m == 0 && f->i + 3 <= f->n && !memcmp(f->s + f->i, "---", 3);

		if (m != 0)
			return 0;
		if (explicit_start) {
			f->i += 3;
			if (!eol(f, f->i))
				return 0;
			next_content(f, &m);
			if (m != 0)
				return 0;
		}
		if (f->i + 3 <= f->n &&
		    (!memcmp(f->s + f->i, "---", 3) || !memcmp(f->s + f->i, "...", 3)))
			return 0;
		{
			/* At column 0 of the '---' line or of the first key's. */
			unsigned line = f->line;
			size_t ls = f->ls;

			f->line = doc_line;
			f->ls = doc_start;
			TRY(emit(f, YAML_DOCUMENT_START_EVENT, doc_start, 0));
			f->ev[f->nev - 1].data.document_start.implicit = !explicit_start;
			f->line = line;
			f->ls = ls;
		}
		TRY(block_mapping(f, 0, 0, &m));
		TRY(emit(f, YAML_DOCUMENT_END_EVENT, f->i, 0));
		f->ev[f->nev - 1].data.document_end.implicit = 1;
		if (m == 0 && f->i + 3 <= f->n && !memcmp(f->s + f->i, "...", 3))
			return 0;
	}
	return emit(f, YAML_STREAM_END_EVENT, f->i, 0);
}

int catalog_yfast_plain(const unsigned char *data, size_t len)
{
	return plain_bytes(data, len);
}

/* catalog_yfast_scan(), with plain: what plain_bytes() said of the bytes, or 0 (unknown). */
static int scan(const unsigned char *data, size_t len, int plain, yaml_event_t **events,
		size_t *n, size_t *cap)
{
	struct fs f;
	int r;

	memset(&f, 0, sizeof(f));
	f.s = data;
	f.n = len;
	f.ev = *events;
	f.cap = *cap;
	/* About an event for every 8 bytes of a descriptor: one allocation instead of one
	 * per doubling (bounded: a large file grows as before). */
	if (!plain)
		plain = plain_bytes(data, len);
	f.ascii = plain == 2;
	if (!f.cap && st_grow(&f.ev, &f.cap, len / 8 + 16 < 8192 ? len / 8 + 16 : 8192,
			      sizeof(*f.ev)))
		r = -1;
	else
		r = plain ? stream(&f) : 0;
	*events = f.ev;
	*cap = f.cap;
	*n = r > 0 ? f.nev : 0;
	return r;
}

int catalog_yfast_scan(const unsigned char *data, size_t len, yaml_event_t **events, size_t *n,
		       size_t *cap)
{
	return scan(data, len, 0, events, n, cap);
}

int catalog_yfast_scan_plain(const unsigned char *data, size_t len, int plain,
			     yaml_event_t **events, size_t *n, size_t *cap)
{
	return scan(data, len, plain == 2 ? 2 : 1, events, n, cap);
}
