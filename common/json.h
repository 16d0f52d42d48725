/* A strict RFC 8259 JSON reader: it validates the whole text (grammar, UTF-8, escapes,
 * depth) and records each value's byte span on a flat tape, with no allocation per value.
 * The pre-ingest hook copies untouched values through and rewrites only the ones it
 * transforms; the dbt and OpenLineage readers walk large documents with the lookups below. */
#ifndef ST_JSON_H
#define ST_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

enum st_jtype { ST_J_OBJ, ST_J_ARR, ST_J_STR, ST_J_NUM, ST_J_TRUE, ST_J_FALSE,
		 ST_J_NULL };

struct st_jnode {
	uint8_t type;
	uint8_t escaped;     /* the string value has backslash escapes */
	uint8_t key_escaped; /* the member key has backslash escapes */
	uint32_t start, end; /* value bytes [start, end), quotes included for strings */
	uint32_t key_start, key_end; /* member key bytes, quotes excluded; equal when none */
	uint32_t next;       /* next sibling on the tape, 0 for none */
	uint32_t first;      /* first child of a container, 0 for none */
	uint32_t count;      /* children of a container */
};

struct st_jtape {
	struct st_jnode *v;
	size_t n, cap;
	int unique; /* every object holds each key once (st_json_collapse_duplicates) */
	int big;    /* v is an st_big_alloc() buffer (a large document's tape) */
	int skipped_odd; /* a value st_json_parse_filter() skipped holds a \u0000 escape (in a
			  * string or a key), a whole number outside int64 or a number that
			  * overflows a double: what a reader of every value may refuse */
	int odd;	  /* with ST_JPARSE_ODD: such a value is on the tape (a member's key
			   * included) or was skipped */
	size_t hole_lo, hole_hi; /* nodes [hole_lo, hole_hi) are no value's (a tape from
				  * st_json_parse_split()); equal when there are none */
};

enum st_jerr_code { ST_JE_SYNTAX = 1, ST_JE_UTF8, ST_JE_ESCAPE, ST_JE_DEPTH, ST_JE_NOMEM };

struct st_jerr {
	int code;
	size_t offset;   /* byte where the problem was found */
	const char *msg; /* static text */
};

#define ST_JSON_MAX_DEPTH 64
#define ST_JSON_DEPTH_LIMIT 2048 /* jansson's JSON_PARSER_MAX_DEPTH */

/* Whether byte c is JSON's white space: ' ', '\t', '\n', '\r' (one test of a byte above ' '). */
static inline int st_json_is_ws(unsigned char c)
{
	return c <= ' ' &&
	       ((((1ULL << ' ') | (1ULL << '\t') | (1ULL << '\n') | (1ULL << '\r')) >> c) & 1);
}

/* Parses len bytes (one JSON text; trailing white space allowed) onto tape, which is
 * reset first and reused across calls. Node 0 is the root. Returns 0, or -1 with e. */
int st_json_parse(const char *buf, size_t len, struct st_jtape *tape, struct st_jerr *e);
/* As st_json_parse(), with containers nested up to max_depth deep (at most
 * ST_JSON_DEPTH_LIMIT; a larger max_depth means that). For readers that take the documents
 * jansson takes. */
int st_json_parse_depth(const char *buf, size_t len, size_t max_depth, struct st_jtape *tape,
			struct st_jerr *e);
/* Whether st_json_parse_filter() leaves the value of an object member off the tape: key
 * (len bytes as written, escaped when key_escaped) is the member's, depth the number of
 * containers open around it (1 for the root object's members) and path[0, depth) their
 * nodes on t, the root first. */
typedef int (*st_json_skip_fn)(void *u, const char *buf, const struct st_jtape *t,
			       const uint32_t *path, size_t depth, const char *key, size_t len,
			       int key_escaped);
#define ST_JPARSE_UNIQUE 1 /* each object's keys made unique as it closes, as
			    * st_json_collapse_duplicates() makes them; t->unique set */
#define ST_JPARSE_ODD 2	   /* t->odd set (see struct st_jtape) */
/* As st_json_parse_depth(), leaving off the tape (and out of their object's count) the
 * members whose value skip (NULL: none) picks: their text is still checked as strictly,
 * with t->skipped_odd set as said above. flags: ST_JPARSE_* or 0. For readers of large
 * documents that use a part of them. */
int st_json_parse_filter(const char *buf, size_t len, size_t max_depth, st_json_skip_fn skip,
			 void *u, int flags, struct st_jtape *t, struct st_jerr *e);
/* Where st_json_parse_split() may hand one long object's later members to a second
 * thread. */
struct st_json_split {
	const char *key; /* the root object's member whose value is the long object */
	size_t key_len;
	size_t at; /* a guess: the byte where one of its members starts (the opening
		    * quote of its key, just after a comma) */
	void *u;   /* skip's data on the second thread */
	int used;  /* set: the guess held, and the second thread parsed from at */
};
/* As st_json_parse_filter(), with the members of sp->key's object from sp->at on parsed on
 * a second thread while this one parses up to there: for a large document whose bulk is
 * one object (a dbt manifest's nodes). The guess is checked: unless this thread reaches at
 * as the start of a member of that object, it parses those members itself. Either way the
 * values, their links and their order on the tape are the same, and so is the result, the
 * error included; the second thread's nodes sit above a gap (t->hole_lo, t->hole_hi) that
 * st_json_find_duplicate() and st_json_collapse_duplicates() pass over. skip is called on
 * both threads, each with its own u; on the second, t and path hold the second thread's
 * nodes, with stand-ins for the root and the long object (their keys, not their members),
 * so that a skip should look at keys and depth only. Only a tape reserved for the whole
 * document (st_json_tape_reserve()) is split: the second thread's nodes need room above the
 * first's that cannot move. A wrong guess inside a long array or a deep value costs a wait:
 * the second thread stops at the next member of the root or of the long object. */
int st_json_parse_split(const char *buf, size_t len, size_t max_depth, st_json_skip_fn skip,
			void *u, int flags, struct st_json_split *sp, struct st_jtape *t,
			struct st_jerr *e);
/* The scanners of st_json_parse(), for readers that walk a text themselves: the index just
 * past the string whose opening quote is buf[at] (*escaped set when it has backslash
 * escapes), or past the number that starts at buf[at]; 0 when the parser would refuse it
 * (bad UTF-8, control character, bad escape, unterminated, bad number grammar). */
size_t st_json_string_end(const char *buf, size_t len, size_t at, uint8_t *escaped);
size_t st_json_number_end(const char *buf, size_t len, size_t at);
/* Makes room for at least nodes nodes on the tape before a parse, so that a large
 * document's tape is one mapping from the start (whose pages a caller may fault in ahead
 * of the parser, on another thread: t->v, t->cap nodes). Returns 0, or -1 when out of
 * memory. */
int st_json_tape_reserve(struct st_jtape *t, size_t nodes);
/* Frees the tape's memory. */
void st_json_tape_release(struct st_jtape *tape);
/* Decodes the JSON string body s[0, n) (no quotes; escapes already validated) as UTF-8
 * into out, which needs n + 1 bytes. Returns the decoded length. */
size_t st_json_unescape(const char *s, size_t n, char *out);
/* Appends s[0, n) as a JSON string, quotes included, escaping what JSON requires. Returns
 * 0, or -1 when the buffer's bound is reached. */
int st_json_quote(struct st_buf *b, const char *s, size_t n);

/* ---- Reading a parsed text (buf is the text the tape was made from) ------------------ */

/* Member key of object obj, unescaped (key_len bytes), or 0 when none. Linear in the
 * object's members, so the last of duplicate keys is found (as jansson keeps the last;
 * on a tape whose keys are unique, the walk stops at the key); index a large object
 * instead (st_jindex). */
uint32_t st_json_get(const char *buf, const struct st_jtape *t, uint32_t obj, const char *key);

/* A hash index of one object's members by key, for objects with many members (a dbt
 * manifest's nodes). */
struct st_jindex {
	uint32_t *slot; /* node index + 1, 0 for an empty slot */
	size_t mask;    /* slots - 1 (a power of two) */
};

/* Indexes object obj. Returns 0, or -1 when out of memory. Release with
 * st_jindex_release(). */
int st_jindex_init(struct st_jindex *ix, const char *buf, const struct st_jtape *t, uint32_t obj);
/* The member named key (len bytes, unescaped), or 0 when none (the last of duplicates). */
uint32_t st_jindex_get(const struct st_jindex *ix, const char *buf, const struct st_jtape *t,
		       const char *key, size_t len);
/* Frees the index. */
void st_jindex_release(struct st_jindex *ix);

/* Whether member node n's key is key (len bytes, unescaped). */
int st_json_key_is(const char *buf, const struct st_jnode *n, const char *key, size_t len);
/* Whether string node n's value is s (len bytes, unescaped). 0 for a node that is not a
 * string. */
int st_json_str_is(const char *buf, const struct st_jnode *n, const char *s, size_t len);

/* String node n's value, unescaped, in a new NUL-terminated string (st_free() it), its
 * length in *len when len is not NULL. NULL when n is not a string or memory runs out
 * (*oom says which when not NULL). A value with a NUL (\u0000) is cut there by C string
 * functions: check *len against strlen() where that matters. */
char *st_json_strdup(const char *buf, const struct st_jnode *n, size_t *len, int *oom);
/* Member key of node n, unescaped, the same way. */
char *st_json_keydup(const char *buf, const struct st_jnode *n, size_t *len, int *oom);

/* Number node n as a whole number in *out: 0, or -1 when n is not a number, has a
 * fraction or exponent, or is out of range. */
int st_json_int(const char *buf, const struct st_jnode *n, int64_t *out);
/* Number node n as a double in *out: 0, or -1 when n is not a number or overflows. */
int st_json_double(const char *buf, const struct st_jnode *n, double *out);

/* The first member or element of container c, then the next after node i; 0 at the end.
 * for (uint32_t i = st_json_first(t, c); i; i = st_json_next(t, i)) */
static inline uint32_t st_json_first(const struct st_jtape *t, uint32_t c)
{
	return t->v[c].first;
}
static inline uint32_t st_json_next(const struct st_jtape *t, uint32_t i)
{
	return t->v[i].next;
}

/* The first object on the tape with two members of one key: 0 when there is none, else
 * the index of the second of them. Returns -1 when out of memory. */
int st_json_find_duplicate(const char *buf, const struct st_jtape *t, uint32_t *dup);

/* Makes every object hold each key once, as jansson does when it loads a text: at the
 * place of the key's first member, with the value of its last; the other members are
 * unlinked (they stay on the tape, out of reach of st_json_first/next) and the object's
 * count drops; st_json_get() then stops at the key it looks for. Returns how many members
 * were unlinked, or -1 when out of memory. */
long st_json_collapse_duplicates(const char *buf, struct st_jtape *t);
/* The same for the objects at tape positions [from, to) only, leaving t->unique to the
 * caller, who sets it once every object is done. An object's work touches only its members'
 * links and its own first and count, so that ranges which do not overlap may be done at once
 * on threads. Returns how many members were unlinked, or -1 when out of memory. */
long st_json_collapse_range(const char *buf, struct st_jtape *t, size_t from, size_t to);

#define ST_JDUMP_SORT_KEYS 1 /* st_json_dump: object members in byte order of their keys */

/* Appends node n as compact JSON text: the bytes jansson's json_dumps() writes, with
 * JSON_COMPACT | JSON_ENCODE_ANY (and JSON_SORT_KEYS with ST_JDUMP_SORT_KEYS), for the
 * value it reads from the same text. Strings are written again: \" \\ \b \f \n \r \t,
 * other control characters as \u00XX (upper-case hex), everything else as it is (UTF-8,
 * '/'); whole numbers as %lld (-0 is 0); other numbers as %.17g with ".0" added when that
 * has no dot or exponent, and the exponent without '+' or leading zeros. Objects are
 * written member by member: collapse duplicate keys first. Returns 0, or -1 when out of
 * memory or at the buffer's bound (b then holds part of the text). */
int st_json_dump(const char *buf, const struct st_jtape *t, uint32_t n, int flags,
		 struct st_buf *b);

#ifdef STEWARD_TEST_BUILD
/* Test builds only: the slots that this thread's look-ups of the keys of objects over 64
 * members stepped past while ST_JPARSE_UNIQUE checked them (a test of their hash). */
extern _Thread_local unsigned long long st_json_key_probes;
#endif

#endif
