/* A strict RFC 8259 JSON reader for one record at a time: it validates the whole text
 * (grammar, UTF-8, escapes, depth) and records each value's byte span on a flat tape, so
 * the pre-ingest hook can copy untouched values through and rewrite only the ones it
 * transforms. Internal to pii/. */
#ifndef PII_JSON_H
#define PII_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

enum pii_jtype { PII_J_OBJ, PII_J_ARR, PII_J_STR, PII_J_NUM, PII_J_TRUE, PII_J_FALSE,
		 PII_J_NULL };

struct pii_jnode {
	uint8_t type;
	uint8_t escaped;     /* the string value has backslash escapes */
	uint8_t key_escaped; /* the member key has backslash escapes */
	uint32_t start, end; /* value bytes [start, end), quotes included for strings */
	uint32_t key_start, key_end; /* member key bytes, quotes excluded; equal when none */
	uint32_t next;       /* next sibling on the tape, 0 for none */
	uint32_t first;      /* first child of a container, 0 for none */
	uint32_t count;      /* children of a container */
};

struct pii_jtape {
	struct pii_jnode *v;
	size_t n, cap;
};

enum pii_jerr_code { PII_JE_SYNTAX = 1, PII_JE_UTF8, PII_JE_ESCAPE, PII_JE_DEPTH, PII_JE_NOMEM };

struct pii_jerr {
	int code;
	size_t offset;   /* byte where the problem was found */
	const char *msg; /* static text */
};

#define PII_JSON_MAX_DEPTH 64

/* Parses len bytes (one JSON text; trailing white space allowed) onto tape, which is
 * reset first and reused across calls. Node 0 is the root. Returns 0, or -1 with e. */
int pii_json_parse(const char *buf, size_t len, struct pii_jtape *tape, struct pii_jerr *e);
/* Frees the tape's memory. */
void pii_json_tape_release(struct pii_jtape *tape);
/* Decodes the JSON string body s[0, n) (no quotes; escapes already validated) as UTF-8
 * into out, which needs n + 1 bytes. Returns the decoded length. */
size_t pii_json_unescape(const char *s, size_t n, char *out);
/* Appends s[0, n) as a JSON string, quotes included, escaping what JSON requires. Returns
 * 0, or -1 when the buffer's bound is reached. */
int pii_json_quote(struct st_buf *b, const char *s, size_t n);

#endif
