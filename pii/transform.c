/* Transforms other than hashing: mask (keep the last 4) and truncate (date to year, IP to
 * network, coordinate to 2 decimals). */
#include "pii.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

int pii_transform_parse(const char *name)
{
	static const char *const names[] = {"keep", "hash", "drop", "mask", "truncate"};

	for (int i = 0; i < (int)(sizeof(names) / sizeof(*names)); i++)
		if (!strcmp(name, names[i]))
			return i;
	return -1;
}

int pii_mask(const char *v, size_t len, char *out, size_t outn)
{
	size_t chars = 0, seen = 0, o = 0;

	for (size_t i = 0; i < len; i++)
		chars += ((unsigned char)v[i] & 0xC0) != 0x80;
	for (size_t i = 0; i < len; i++) {
		int start = ((unsigned char)v[i] & 0xC0) != 0x80;

		if (start)
			seen++;
		if (chars >= 8 && seen > chars - 4) {
			if (o + 1 >= outn)
				return -1;
			out[o++] = v[i];
		} else if (start) {
			if (o + 1 >= outn)
				return -1;
			out[o++] = '*';
		}
	}
	if (o >= outn)
		return -1;
	out[o] = '\0';
	return (int)o;
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int trunc_date(const char *v, size_t len, char *out, size_t outn)
{
	/* YYYY-MM-DD, optionally followed by a time: the year is all that is kept. */
	if (len < 10 || !is_digit(v[0]) || !is_digit(v[1]) || !is_digit(v[2]) || !is_digit(v[3]) ||
	    v[4] != '-' || !is_digit(v[5]) || !is_digit(v[6]) || v[7] != '-' || !is_digit(v[8]) ||
	    !is_digit(v[9]) || (len > 10 && v[10] != 'T' && v[10] != ' ') || outn < 5)
		return -1;
	memcpy(out, v, 4);
	out[4] = '\0';
	return 4;
}

static int trunc_ip(const char *v, size_t len, char *out, size_t outn)
{
	char norm[PII_NORM_MAX], text[INET6_ADDRSTRLEN];
	unsigned char bin[16];
	int n = pii_normalize(PII_NORM_IP, v, len, NULL, norm);

	if (n < 0)
		return -1;
	if (inet_pton(AF_INET, norm, bin) == 1) {
		bin[3] = 0;
		if (!inet_ntop(AF_INET, bin, text, sizeof(text)))
			return -1;
		n = snprintf(out, outn, "%s/24", text);
	} else {
		if (inet_pton(AF_INET6, norm, bin) != 1)
			return -1;
		memset(bin + 6, 0, 10);
		if (!inet_ntop(AF_INET6, bin, text, sizeof(text)))
			return -1;
		n = snprintf(out, outn, "%s/48", text);
	}
	return n < 0 || (size_t)n >= outn ? -1 : n;
}

static int trunc_coord(const char *v, size_t len, char *out, size_t outn)
{
	size_t i = 0, dot = 0, end;

	if (len && (v[0] == '-' || v[0] == '+'))
		i = 1;
	if (i >= len || !is_digit(v[i]))
		return -1;
	for (; i < len; i++) {
		if (v[i] == '.' && !dot)
			dot = i;
		else if (!is_digit(v[i]))
			return -1;
	}
	end = dot ? (dot + 3 < len ? dot + 3 : len) : len;
	if (end + 1 > outn)
		return -1;
	memcpy(out, v, end);
	out[end] = '\0';
	return (int)end;
}

int pii_truncate(int kind, const char *value, size_t len, char *out, size_t outn)
{
	switch (kind) {
	case PII_TRUNC_DATE:
		return trunc_date(value, len, out, outn);
	case PII_TRUNC_IP:
		return trunc_ip(value, len, out, outn);
	case PII_TRUNC_COORD:
		return trunc_coord(value, len, out, outn);
	default:
		return -1;
	}
}
