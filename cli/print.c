/* The printing helpers every verb goes through: values from the user or from storage are
 * escaped (common/escape.h) so that no control character reaches a terminal or splits a
 * line, whatever the value holds. Formats are the program's own text and pass unchanged. */
#include "cli.h"

#include <jansson.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Writes len bytes of s escaped with flags to f; with count, writes nothing and returns
 * the escaped length instead. Returns the bytes (to be) written, or -1 on a write error. */
static long put_escaped(FILE *f, const char *s, size_t len, unsigned flags, int count)
{
	char chunk[512];
	long total = 0;
	size_t plain = 0;

	/* the common case, printable ASCII, is written as it is */
	while (plain < len && (unsigned char)s[plain] >= 0x20 && (unsigned char)s[plain] < 0x7F)
		plain++;
	if (plain == len)
		return count || !len || fwrite(s, 1, len, f) == len ? (long)len : -1;
	while (len) {
		size_t used, n = st_escape(s, len, &used, chunk, sizeof(chunk), flags);

		if (!count && n && fwrite(chunk, 1, n, f) != n)
			return -1;
		total += (long)n;
		s += used;
		len -= used;
	}
	return total;
}

void cli_fputs_value(const char *s, FILE *f)
{
	if (s)
		put_escaped(f, s, strlen(s), 0, 0);
}

int cli_fwrite_escaped(const char *s, size_t len, unsigned flags, FILE *f)
{
	return put_escaped(f, s, len, flags, 0) < 0 || ferror(f) ? -1 : 0;
}

/* Prints one %s or %c argument: precision cuts the raw bytes, width pads the escaped
 * text, as printf would pad the raw text. */
static void put_string(FILE *f, const char *s, size_t len, int left, long width)
{
	long w = width > 0 ? put_escaped(f, s, len, 0, 1) : 0;

	for (; !left && w < width; w++)
		fputc(' ', f);
	put_escaped(f, s, len, 0, 0);
	for (; left && w < width; w++)
		fputc(' ', f);
}

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#endif
int cli_vfprintf(FILE *f, const char *fmt, va_list ap)
{
	while (*fmt) {
		const char *pct = strchr(fmt, '%');
		char spec[64];
		size_t sl = 0;
		long width = -1, prec = -1;
		int left = 0;
		char len1 = 0, len2 = 0, conv;

		if (!pct) {
			fputs(fmt, f);
			break;
		}
		fwrite(fmt, 1, (size_t)(pct - fmt), f);
		fmt = pct + 1;
		spec[sl++] = '%';
		while (*fmt && strchr("-+ #0", *fmt)) {
			left |= *fmt == '-';
			spec[sl++] = *fmt++;
		}
		if (*fmt == '*') {
			const int had_minus = left;

			width = va_arg(ap, int);
			if (width < 0)
				left = 1, width = -width;
			fmt++;
			sl += (size_t)snprintf(spec + sl, sizeof(spec) - sl, "%s%ld",
					       left && !had_minus ? "-" : "", width);
		} else {
			if (*fmt >= '0' && *fmt <= '9')
				width = strtol(fmt, NULL, 10);
			while (*fmt >= '0' && *fmt <= '9' && sl < 20)
				spec[sl++] = *fmt++;
		}
		if (*fmt == '.') {
			spec[sl++] = *fmt++;
			if (*fmt == '*') {
				prec = va_arg(ap, int);
				fmt++;
				sl += (size_t)snprintf(spec + sl, sizeof(spec) - sl, "%ld",
						       prec < 0 ? 0 : prec);
			} else {
				prec = strtol(fmt, NULL, 10);
				while (*fmt >= '0' && *fmt <= '9' && sl < 40)
					spec[sl++] = *fmt++;
			}
		}
		if (*fmt && strchr("hlzjtL", *fmt)) {
			len1 = *fmt;
			spec[sl++] = *fmt++;
			if ((len1 == 'h' || len1 == 'l') && *fmt == len1) {
				len2 = *fmt;
				spec[sl++] = *fmt++;
			}
		}
		conv = *fmt;
		if (!conv)
			break;
		fmt++;
		spec[sl++] = conv;
		spec[sl] = '\0';
		switch (conv) {
		case '%':
			fputc('%', f);
			break;
		case 's': {
			const char *s = va_arg(ap, const char *);
			size_t n;

			if (!s)
				s = "(null)";
			n = prec >= 0 ? strnlen(s, (size_t)prec) : strlen(s);
			put_string(f, s, n, left, width);
			break;
		}
		case 'c': {
			char c = (char)va_arg(ap, int);

			put_string(f, &c, 1, left, width);
			break;
		}
		case 'd': case 'i': case 'u': case 'x': case 'X': case 'o':
			if (len1 == 'l' && len2)
				fprintf(f, spec, va_arg(ap, long long));
			else if (len1 == 'l')
				fprintf(f, spec, va_arg(ap, long));
			else if (len1 == 'z')
				fprintf(f, spec, va_arg(ap, size_t));
			else if (len1 == 'j')
				fprintf(f, spec, va_arg(ap, intmax_t));
			else if (len1 == 't')
				fprintf(f, spec, va_arg(ap, ptrdiff_t));
			else
				fprintf(f, spec, va_arg(ap, int));
			break;
		case 'f': case 'F': case 'e': case 'E': case 'g': case 'G': case 'a': case 'A':
			if (len1 == 'L')
				fprintf(f, spec, va_arg(ap, long double));
			else
				fprintf(f, spec, va_arg(ap, double));
			break;
		case 'p':
			fprintf(f, spec, va_arg(ap, void *));
			break;
		default: /* %n and unknown conversions are not supported */
			abort();
		}
	}
	return ferror(f) ? -1 : 0;
}
#if defined(__GNUC__) || defined(__clang__)
#pragma GCC diagnostic pop
#endif

int cli_fprintf(FILE *f, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = cli_vfprintf(f, fmt, ap);
	va_end(ap);
	return r;
}

int cli_printf(const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = cli_vfprintf(stdout, fmt, ap);
	va_end(ap);
	return r;
}

int cli_json_dumpf(const struct json_t *doc, FILE *f, size_t flags)
{
	char *s = json_dumps(doc, flags);

	if (!s)
		return -1;
	put_escaped(f, s, strlen(s), ST_ESC_JSON, 0);
	free(s);
	return ferror(f) ? -1 : 0;
}
