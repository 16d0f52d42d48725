/* Private to audit/report*.c: the report model, sections of facts and tables, that
 * report.c builds and report_render.c renders. Not part of the audit library's interface. */
#ifndef AUDIT_REPORT_INT_H
#define AUDIT_REPORT_INT_H

#include <stddef.h>
#include <stdint.h>

#define MAX_FACTS 16
#define MAX_TABLES 4

enum { V_NULL, V_INT, V_REAL, V_TEXT };

struct value {
	int type;
	int64_t i;
	double r;
	char *s; /* V_TEXT: clean UTF-8 (see clean_text()), owned */
};

struct column {
	const char *key, *label;
	int num; /* numbers: right-aligned */
};

struct table {
	const char *key, *title;
	const struct column *cols;
	size_t ncols, nrows, cap; /* cap counts rows */
	struct value *cells;	  /* nrows * ncols, row by row */
};

struct fact {
	const char *key, *label;
	struct value v;
};

struct section {
	const char *key, *title, *note;
	struct fact facts[MAX_FACTS];
	size_t nfacts;
	struct table tables[MAX_TABLES];
	size_t ntables;
};

enum { SEC_HEADER, SEC_ACCESS, SEC_DENIED, SEC_INGEST, SEC_REQUESTS, SEC_MAP, SEC_CHAIN, NSEC };

struct audit_report {
	char period[8];
	char generator[64]; /* "steward VERSION" */
	struct section sec[NSEC];
	struct fact spill; /* where a fact past MAX_FACTS goes; sets overflow */
	int oom, overflow;
};

#endif
