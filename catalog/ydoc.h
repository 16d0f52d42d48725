/* A small YAML composer over libyaml's event parser: documents become node trees that keep
 * their 1-based line and column. Aliases share the anchored node; expansion is bounded. */
#ifndef CATALOG_YDOC_H
#define CATALOG_YDOC_H

#include <stddef.h>
#include <yaml.h>

#include "error.h"

enum catalog_ytype { CATALOG_Y_SCALAR, CATALOG_Y_SEQ, CATALOG_Y_MAP };

/* What a scalar resolves to under the YAML 1.1 core rules libyaml users expect. */
enum catalog_yscalar { CATALOG_YS_NULL, CATALOG_YS_BOOL, CATALOG_YS_INT, CATALOG_YS_FLOAT,
		       CATALOG_YS_STR };

struct catalog_ynode {
	int type;
	int quoted;         /* scalar written quoted or as a block: always a string */
	int kind;           /* scalars: enum catalog_yscalar, resolved once when composed */
	unsigned line, col; /* 1-based */
	char *value;        /* scalars: NUL-terminated text */
	size_t len;
	struct catalog_ynode **kids; /* sequences: items; mappings: key, value, key, value... */
	size_t n;                    /* sequences: items; mappings: pairs */
	size_t cap;
	size_t weight; /* nodes in the subtree once aliases are expanded */
};

/* Limits. Documented in docs/descriptor-format.md and tested. */
#define CATALOG_YAML_MAX_EXPANSION 100000 /* nodes per document, aliases expanded */
#define CATALOG_YAML_MAX_DEPTH 64

struct catalog_yarena;

struct catalog_ydoc {
	struct catalog_ynode *root; /* NULL for an empty document */
	unsigned line, col;         /* where the document starts */
	struct catalog_yarena *arena;
};

struct catalog_yparser {
	yaml_parser_t parser;
	const char *file;
	int inited, started, done, failed;
	yaml_event_t *fast; /* the whole stream from catalog_yfast_scan(), or NULL: libyaml */
	size_t nfast, ifast, fast_cap;
};

/* Starts parsing len bytes of data (not copied: it must outlive the parser). file names the
 * source in errors. Returns 0, or -1 with err set. Release with catalog_yparser_release(). */
int catalog_yparser_init(struct catalog_yparser *p, const char *file, const unsigned char *data,
			 size_t len, struct st_error *err);
/* catalog_yparser_init() of bytes that catalog_yfast_plain() accepted, with what it
 * returned (the caller checked them already). */
int catalog_yparser_init_plain(struct catalog_yparser *p, const char *file,
			       const unsigned char *data, size_t len, int plain,
			       struct st_error *err);
/* Composes the next document into *doc (owned by the caller: catalog_ydoc_free()). Problems
 * that do not stop parsing, such as duplicate keys, go to diags. Returns 1 with a document,
 * 0 at the end of the stream, or -1 with err located when the stream cannot be read on. */
int catalog_yparser_next(struct catalog_yparser *p, struct catalog_ydoc **doc,
			 struct st_diags *diags, struct st_error *err);
/* Frees the parser. Safe on a parser whose init failed. */
void catalog_yparser_release(struct catalog_yparser *p);
/* Frees a document and all its nodes. NULL is fine. */
void catalog_ydoc_free(struct catalog_ydoc *doc);

/* The fast path for plain block YAML (yfast.c): scans len bytes into the events libyaml
 * would give for them, in *events (grown as needed; *cap is its capacity, the caller frees
 * it with st_free). Scalar values point into data, which must outlive the events; they
 * must not be given to yaml_event_delete(). Returns 1 with *n events, 0 when the input is
 * not something it is sure of (then libyaml must parse it), or -1 when out of memory. */
int catalog_yfast_scan(const unsigned char *data, size_t len, yaml_event_t **events, size_t *n,
		       size_t *cap);
/* Whether len bytes are what the fast path reads as plain text: newlines and printable
 * characters in well-formed UTF-8 (so they are valid UTF-8), no tabs, carriage returns,
 * byte-order marks or other controls. 2 when they are, all ASCII; 1 when they are, not all
 * ASCII; 0 when they are not. */
int catalog_yfast_plain(const unsigned char *data, size_t len);
/* catalog_yfast_scan() of bytes for which catalog_yfast_plain() returned plain (1 or 2),
 * without checking them again. */
int catalog_yfast_scan_plain(const unsigned char *data, size_t len, int plain,
			     yaml_event_t **events, size_t *n, size_t *cap);

/* Classifies a scalar: quoted scalars are strings; plain ones may be null, bool, int, float. */
int catalog_yscalar_kind(const struct catalog_ynode *n);
/* Looks up key in a mapping; returns the value node or NULL. */
struct catalog_ynode *catalog_ymap_get(const struct catalog_ynode *map, const char *key);
/* For a boolean scalar, stores 1 or 0 in *out and returns 0; returns -1 if it is not one. */
int catalog_yscalar_bool(const struct catalog_ynode *n, int *out);

#endif
