/* Loads an optional library on first use and resolves its symbols into a table of function
 * pointers (see lazy.h); the one place steward calls dlopen(). */
#include "lazy.h"

#include <dlfcn.h>
#include <stdio.h>

int st_lazy_load(struct st_lazy *lib, struct st_error *err)
{
	void *h = NULL;
	int ret;

	pthread_mutex_lock(&lib->mu);
	if (lib->state)
		goto out;
	/* RTLD_NOW: a missing symbol is found here, not at some later call */
	if (!(h = dlopen(lib->file, RTLD_NOW | RTLD_LOCAL))) {
		const char *why = dlerror();

		snprintf(lib->why, sizeof(lib->why), "%s", why ? why : "unknown error");
		lib->state = -1;
		goto out;
	}
	for (size_t i = 0; i < lib->nsyms; i++) {
		dlerror();
		*lib->syms[i].slot = dlsym(h, lib->syms[i].name);
		if (!*lib->syms[i].slot) {
			snprintf(lib->why, sizeof(lib->why), "it has no symbol '%s'",
				 lib->syms[i].name);
			lib->state = -1;
			goto out;
		}
	}
	lib->state = 1;
out:
	ret = lib->state;
	pthread_mutex_unlock(&lib->mu);
	if (ret > 0)
		return 0;
	return st_error_set(err, ST_E_SYSTEM, "cannot load '%s', which %s need (Debian package %s): %s",
			    lib->file, lib->purpose, lib->package, lib->why);
}
