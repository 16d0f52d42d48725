/* The error object and the diagnostics list. */
#include "error.h"
#include "alloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void st_error_init(struct st_error *e)
{
	e->code = ST_OK;
	e->file[0] = '\0';
	e->line = e->col = 0;
	e->msg[0] = '\0';
}

static void set_location(struct st_error *e, const char *file, unsigned line, unsigned col)
{
	if (file)
		snprintf(e->file, sizeof(e->file), "%s", file);
	else
		e->file[0] = '\0';
	e->line = line;
	e->col = col;
}

int st_error_set(struct st_error *e, int code, const char *fmt, ...)
{
	va_list ap;

	e->code = code;
	set_location(e, NULL, 0, 0);
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -1;
}

int st_error_set_at(struct st_error *e, int code, const char *file, unsigned line, unsigned col,
		    const char *fmt, ...)
{
	va_list ap;

	e->code = code;
	set_location(e, file, line, col);
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -1;
}

int st_error_oom(struct st_error *e)
{
	return st_error_set(e, ST_E_SYSTEM, "out of memory");
}

void st_error_prefix(struct st_error *e, const char *fmt, ...)
{
	char ctx[512], old[sizeof(e->msg)];
	size_t clen, olen;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ctx, sizeof(ctx), fmt, ap);
	va_end(ap);
	memcpy(old, e->msg, sizeof(old));
	clen = strlen(ctx);
	olen = strlen(old);
	/* "ctx: old", cut to fit; the context is never longer than half the buffer. */
	if (clen + 2 + olen >= sizeof(e->msg))
		olen = sizeof(e->msg) - clen - 3;
	memcpy(e->msg, ctx, clen);
	memcpy(e->msg + clen, ": ", 2);
	memcpy(e->msg + clen + 2, old, olen);
	e->msg[clen + 2 + olen] = '\0';
}

void st_error_format(const struct st_error *e, char *out, size_t n)
{
	if (!n)
		return;
	if (!e->file[0])
		snprintf(out, n, "%s", e->msg);
	else if (e->line && e->col)
		snprintf(out, n, "%s:%u:%u: %s", e->file, e->line, e->col, e->msg);
	else if (e->line)
		snprintf(out, n, "%s:%u: %s", e->file, e->line, e->msg);
	else
		snprintf(out, n, "%s: %s", e->file, e->msg);
}

void st_diags_init(struct st_diags *d, size_t max)
{
	memset(d, 0, sizeof(*d));
	d->max = max ? max : 10000;
}

int st_diags_add(struct st_diags *d, int severity, const char *file, unsigned line, unsigned col,
		 const char *fmt, ...)
{
	char msg[1024];
	struct st_diag *x;
	va_list ap;

	if (severity == ST_SEV_ERROR)
		d->nerrors++;
	else
		d->nwarnings++;
	if (d->n >= d->max)
		return 0;
	if (st_grow(&d->v, &d->cap, d->n + 1, sizeof(*d->v)))
		return -1;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	x = &d->v[d->n];
	x->severity = severity;
	x->line = line;
	x->col = col;
	x->file = st_strdup(file ? file : "");
	x->msg = st_strdup(msg);
	if (!x->file || !x->msg) {
		st_free(x->file);
		st_free(x->msg);
		return -1;
	}
	d->n++;
	return 0;
}

void st_diags_release(struct st_diags *d)
{
	for (size_t i = 0; i < d->n; i++) {
		st_free(d->v[i].file);
		st_free(d->v[i].msg);
	}
	st_free(d->v);
	st_diags_init(d, d->max);
}
