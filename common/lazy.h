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

/* For a table's X-macro list of functions (FUNCS(X, t) calls X(t, f) for each f): the table's
 * member for f, typed as f is, and f's entry in its symbol list. */
#define ST_LAZY_SLOT(t, f) __typeof__(f) *f;
#define ST_LAZY_SYM(t, f) {#f, (void **)&(t).f},

/* Defines the table `struct name name`, filled from file by name##_load(), whose contract
 * its header gives (e.g. audit/lazy_pq.h). For a .c file that defines the header's IMPL
 * macro, so that the header's call-routing macros are off. */
#define ST_LAZY_DEFINE(name, funcs, file, purpose, package)                                  \
	struct name name;                                                                    \
	static const struct st_lazy_sym name##_syms[] = {funcs(ST_LAZY_SYM, name)};          \
	static struct st_lazy name##_lib = ST_LAZY_INIT(file, purpose, package, name##_syms); \
	int name##_load(struct st_error *err)                                                \
	{                                                                                    \
		return st_lazy_load(&name##_lib, err);                                       \
	}

/* Loads lib once per process (later calls return the first outcome at once; thread-safe) and
 * fills every slot. Returns 0, or -1 with err: "cannot load 'libpq.so.5', which PostgreSQL
 * targets need (Debian package libpq5): <dlerror>". The library stays loaded. */
int st_lazy_load(struct st_lazy *lib, struct st_error *err);

#endif
