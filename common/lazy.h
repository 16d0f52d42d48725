/* Optional libraries loaded on first use (dlopen): a command that needs no HTTP, PostgreSQL,
 * Kafka, web server or Graphviz does not pay for mapping and relocating those libraries and
 * the forty they pull in. Each user has a header (e.g. audit/lazy_pq.h) with its table. */
#ifndef ST_LAZY_H
#define ST_LAZY_H

#include "error.h"

#include <pthread.h>
#include <stddef.h>

/* One symbol to resolve: its name and where its address goes (a function pointer, written
 * through void ** as POSIX's dlsym() page does). */
struct st_lazy_sym {
	const char *name;
	void **slot;
};

/* One library: its file (a soname such as "libpq.so.5", or an absolute path), what needs it
 * and which Debian package has it (for the error), and its symbols. The rest is state. */
struct st_lazy {
	const char *file;
	const char *purpose; /* e.g. "PostgreSQL targets" */
	const char *package; /* e.g. "libpq5" */
	const struct st_lazy_sym *syms;
	size_t nsyms;
	pthread_mutex_t mu;
	int state; /* 0 not tried, 1 loaded, -1 failed (why says why) */
	char why[400];
};

#define ST_LAZY_INIT(file, purpose, package, syms)                                           \
	{ (file), (purpose), (package), (syms), sizeof(syms) / sizeof(*(syms)),              \
	  PTHREAD_MUTEX_INITIALIZER, 0, "" }

/* Loads lib once per process (later calls return the first outcome at once; thread-safe) and
 * fills every slot. Returns 0, or -1 with err: "cannot load 'libpq.so.5', which PostgreSQL
 * targets need (Debian package libpq5): <dlerror>". The library stays loaded. */
int st_lazy_load(struct st_lazy *lib, struct st_error *err);

#endif
