/* Normalizers: canonical e-mail, E.164 phone and IP address text, so that equivalent inputs
 * give the same pseudonym. */
#include "pii.h"
#include "norm_int.h"
#include "utf8.h"

#include <arpa/inet.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include <string.h>

int pii_norm_parse(const char *name)
{
	if (!strcmp(name, "none"))
		return PII_NORM_NONE;
	if (!strcmp(name, "email"))
		return PII_NORM_EMAIL;
	if (!strcmp(name, "phone"))
		return PII_NORM_PHONE;
	if (!strcmp(name, "ip"))
		return PII_NORM_IP;
	return -1;
}

int pii_norm_for_category(const char *category)
{
	if (!category)
		return PII_NORM_NONE;
	if (!strcmp(category, "user.contact.email"))
		return PII_NORM_EMAIL;
	if (!strcmp(category, "user.contact.phone_number") ||
	    !strcmp(category, "user.contact.fax_number"))
		return PII_NORM_PHONE;
	if (!strcmp(category, "user.device.ip_address"))
		return PII_NORM_IP;
	return PII_NORM_NONE;
}

static int is_space(char c)
{
	/* ' ', or '\t' '\n' '\v' '\f' '\r', which are 9 to 13. */
	return c == ' ' || (unsigned char)(c - '\t') <= '\r' - '\t';
}

static void trim(const char **s, size_t *len)
{
	while (*len && is_space(**s)) {
		(*s)++;
		(*len)--;
	}
	while (*len && is_space((*s)[*len - 1]))
		(*len)--;
}

/* The index of the first ASCII capital or white space in v[0, len), or len. */
static size_t upper_or_space(const char *v, size_t len)
{
	size_t i = 0;

#ifdef __SSE2__
	/* Sixteen bytes at a time: c - 'A' <= 25 or c - '\t' <= 4 (unsigned), or c == ' '. */
	for (; len - i >= 16; i += 16) {
		__m128i c = _mm_loadu_si128((const __m128i *)(const void *)(v + i));
		__m128i up = _mm_sub_epi8(c, _mm_set1_epi8('A')), ws = _mm_sub_epi8(c, _mm_set1_epi8('\t'));
		unsigned hit = (unsigned)_mm_movemask_epi8(_mm_or_si128(
			_mm_or_si128(_mm_cmpeq_epi8(_mm_min_epu8(up, _mm_set1_epi8(25)), up),
				     _mm_cmpeq_epi8(_mm_min_epu8(ws, _mm_set1_epi8(4)), ws)),
			_mm_cmpeq_epi8(c, _mm_set1_epi8(' '))));

		if (hit)
			return i + (size_t)__builtin_ctz(hit);
	}
#endif
	for (; i < len && !(v[i] >= 'A' && v[i] <= 'Z') && !is_space(v[i]); i++)
		;
	return i;
}

/* With res, an address with no capital letter is its own normal form: *res points at it
 * (trimmed) and nothing is written; else *res is out. */
static int norm_email(const char *v, size_t len, char *out, const char **res)
{
	const char *at;
	size_t i = 0;

	trim(&v, &len);
	at = len ? memchr(v, '@', len) : NULL;
	if (!at || at == v || at == v + len - 1 || len >= PII_NORM_MAX)
		return -1;
	if (res) {
		i = upper_or_space(v, len);
		if (i == len) {
			*res = v;
			return (int)len;
		}
		*res = out;
		memcpy(out, v, i);
	}
	for (; i < len; i++) {
		char c = v[i];

		if (is_space(c))
			return -1;
		out[i] = c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
	}
	out[len] = '\0';
	return (int)len;
}

/* ITU-T E.164 calling codes for the countries a default is most often set to. */
static const struct {
	const char *iso2, *code;
} calling_codes[] = {
	{"AR", "54"}, {"AT", "43"}, {"AU", "61"},  {"BE", "32"}, {"BR", "55"}, {"CA", "1"},
	{"CH", "41"}, {"CL", "56"}, {"CN", "86"},  {"CO", "57"}, {"CZ", "420"}, {"DE", "49"},
	{"DK", "45"}, {"EG", "20"}, {"ES", "34"},  {"FI", "358"}, {"FR", "33"}, {"GB", "44"},
	{"GR", "30"}, {"HK", "852"}, {"HU", "36"}, {"ID", "62"}, {"IE", "353"}, {"IL", "972"},
	{"IN", "91"}, {"IT", "39"}, {"JP", "81"},  {"KR", "82"}, {"MX", "52"}, {"MY", "60"},
	{"NG", "234"}, {"NL", "31"}, {"NO", "47"}, {"NZ", "64"}, {"PH", "63"}, {"PK", "92"},
	{"PL", "48"}, {"PT", "351"}, {"RO", "40"}, {"RU", "7"},  {"SA", "966"}, {"SE", "46"},
	{"SG", "65"}, {"TH", "66"}, {"TR", "90"},  {"TW", "886"}, {"UA", "380"}, {"US", "1"},
	{"VN", "84"}, {"ZA", "27"},
};

const char *pii_country_calling_code(const char *iso2)
{
	for (size_t i = 0; i < sizeof(calling_codes) / sizeof(*calling_codes); i++)
		if (iso2 && (iso2[0] | 0x20) == (calling_codes[i].iso2[0] | 0x20) &&
		    (iso2[1] | 0x20) == (calling_codes[i].iso2[1] | 0x20) && !iso2[2])
			return calling_codes[i].code;
	return NULL;
}

/* Accepts digits with the separators people write (space, -, ., /, parentheses), an
 * optional leading + or 00, and a national number with its trunk 0 when a default
 * country code is given. */
static int norm_phone(const char *v, size_t len, const char *cc, char *out)
{
	char digits[32];
	size_t nd = 0, i = 0, o = 0;
	int intl = 0;

	trim(&v, &len);
	if (len && v[0] == '+') {
		intl = 1;
		i = 1;
	}
	for (; i < len; i++) {
		char c = v[i];

		if (c >= '0' && c <= '9') {
			if (nd >= sizeof(digits))
				return -1;
			digits[nd++] = c;
		} else if (!(c == ' ' || c == '-' || c == '.' || c == '/' || c == '(' || c == ')')) {
			return -1;
		}
	}
	if (!intl && nd > 2 && digits[0] == '0' && digits[1] == '0') {
		intl = 1;
		memmove(digits, digits + 2, nd - 2);
		nd -= 2;
	}
	out[o++] = '+';
	if (!intl) {
		size_t skip = nd && digits[0] == '0' ? 1 : 0; /* the national trunk prefix */

		if (!cc || !*cc)
			return -1;
		for (const char *p = cc; *p; p++)
			out[o++] = *p;
		memmove(digits, digits + skip, nd - skip);
		nd -= skip;
	}
	if (o - 1 + nd < 8 || o - 1 + nd > 15 || (intl && nd && digits[0] == '0'))
		return -1;
	memcpy(out + o, digits, nd);
	o += nd;
	out[o] = '\0';
	return (int)o;
}

/* Dotted decimal without printf, which is slow on the ingest hot path. */
static int format_ipv4(const unsigned char *b, char *out)
{
	int o = 0;

	for (int i = 0; i < 4; i++) {
		unsigned v = b[i];

		if (i)
			out[o++] = '.';
		if (v >= 100)
			out[o++] = (char)('0' + v / 100);
		if (v >= 10)
			out[o++] = (char)('0' + v / 10 % 10);
		out[o++] = (char)('0' + v % 10);
	}
	out[o] = '\0';
	return o;
}

/* The run of zero groups that RFC 5952 writes as "::": the longest of two or more, the first
 * on a tie. Returns its first group, or -1 when there is none; *len is its length. */
static int zero_run(const unsigned g[8], int *len)
{
	int best = -1, bestlen = 1;

	for (int i = 0; i < 8;) {
		int j = i;

		while (j < 8 && !g[j])
			j++;
		if (j - i > bestlen) {
			best = i;
			bestlen = j - i;
		}
		i = j == i ? i + 1 : j;
	}
	*len = bestlen;
	return best;
}

/* RFC 5952 text: lowercase hex without leading zeros, zero_run() written as "::". No
 * printf: this is on the ingest hot path. */
static int format_ipv6(const unsigned char *b, char *out)
{
	static const char hex[] = "0123456789abcdef";
	unsigned g[8];
	int best, bestlen, o = 0;

	for (int i = 0; i < 8; i++)
		g[i] = (unsigned)b[2 * i] << 8 | b[2 * i + 1];
	best = zero_run(g, &bestlen);
	for (int i = 0, sep = 0; i < 8; i++) {
		if (i == best) {
			out[o++] = ':';
			out[o++] = ':';
			i += bestlen - 1;
			sep = 0;
			continue;
		}
		if (sep)
			out[o++] = ':';
		sep = 1;
		for (int shift = 12, started = 0; shift >= 0; shift -= 4) {
			unsigned d = (g[i] >> shift) & 15;

			if (d || started || !shift) {
				out[o++] = hex[d];
				started = 1;
			}
		}
	}
	out[o] = '\0';
	return o;
}

/* The value of a lowercase hex digit, or 16 for any other byte. */
static unsigned hex_lower(char c)
{
	unsigned d = (unsigned)(unsigned char)c - '0', x = (unsigned)(unsigned char)c - 'a';

	return d <= 9 ? d : x <= 5 ? x + 10 : 16;
}

#ifdef __SSE2__
/* The 16 bytes at p: bit k of *hex, byte k is a lowercase hex digit; of *zero, a '0'; of the
 * result, a ':'. */
static inline unsigned ipv6_16(const char *p, unsigned *hex, unsigned *zero)
{
	__m128i c = _mm_loadu_si128((const __m128i *)(const void *)p);
	__m128i d = _mm_sub_epi8(c, _mm_set1_epi8('0')), x = _mm_sub_epi8(c, _mm_set1_epi8('a'));

	*hex = (unsigned)_mm_movemask_epi8(
		_mm_or_si128(_mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(9)), d),
			     _mm_cmpeq_epi8(_mm_min_epu8(x, _mm_set1_epi8(5)), x)));
	*zero = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(c, _mm_set1_epi8('0')));
	return (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(c, _mm_set1_epi8(':')));
}

/* The set bits of x. */
static inline unsigned bits64(uint64_t x)
{
	x -= (x >> 1) & 0x5555555555555555ULL;
	x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
	x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
	return (unsigned)((x * 0x0101010101010101ULL) >> 56);
}

/* 1 when s (16 to 39 bytes) is an IPv6 address in the form canonical_ipv6() takes that
 * has no zero group written out: lowercase hex groups of one to four digits, none starting
 * with '0', between a first and a last digit; either eight groups, or at most six with one
 * "::" (then the only run of zero groups, as zero_run() puts it, and the first group is
 * not 0, so not ::ffff:0:0/96). 0 when canonical_ipv6() must look. By three 16-byte
 * loads within s (the middle one where the length puts it) and masks, with no branch on
 * the text, whose digits and groups vary from address to address. */
static int plain_ipv6(const char *s, size_t n)
{
	size_t mid = n < 32 ? n - 16 : 16, last = n - 16;
	unsigned h[3], z[3];
	uint64_t col, hex, zero, start, dbl, five, ncol, gap;

	col = ipv6_16(s, &h[0], &z[0]);
	col |= (uint64_t)ipv6_16(s + mid, &h[1], &z[1]) << mid;
	col |= (uint64_t)ipv6_16(s + last, &h[2], &z[2]) << last;
	hex = h[0] | (uint64_t)h[1] << mid | (uint64_t)h[2] << last;
	zero = z[0] | (uint64_t)z[1] << mid | (uint64_t)z[2] << last;
	start = hex & ~(hex << 1);    /* each group's first digit */
	dbl = col & (col >> 1);       /* each "::", at its first ':' */
	five = hex & (hex >> 1) & (hex >> 2) & (hex >> 3) & (hex >> 4);
	ncol = bits64(col);
	gap = dbl != 0;
	return (int)(((hex | col) == (UINT64_C(1) << n) - 1) & (hex & 1) & ((hex >> (n - 1)) & 1) &
		     (five == 0) & ((start & zero) == 0) & ((dbl & (col >> 2)) == 0) &
		     ((dbl & (dbl - 1)) == 0) & (gap ? ncol <= 6 : ncol == 7));
}
#endif

/* Whether s (n bytes) is an IPv6 address as format_ipv6() writes it, which norm_ip() then
 * takes where it is: lowercase hex groups without leading zeros, "::" exactly where
 * zero_run() puts it, no dotted tail, and not ::ffff:0:0/96 (which is written as IPv4).
 * Anything else, valid or not, is left to inet_pton(). */
static int canonical_ipv6(const char *s, size_t n)
{
	unsigned g[8] = {0}, head[8];
	int ng = 0, gap = -1, best, bestlen;
	size_t i = 0;

	if (n < 2 || n > 39)
		return 0;
#ifdef __SSE2__
	if (n >= 16 && plain_ipv6(s, n))
		return 1;
#endif
	if (s[0] == ':') {
		if (s[1] != ':')
			return 0;
		gap = 0;
		i = 2;
	}
	while (i < n) {
		unsigned v = 0, d;
		size_t k = 0;

		while (k < 4 && i + k < n && (d = hex_lower(s[i + k])) < 16)
			v = v << 4 | d, k++;
		if (!k || (k > 1 && s[i] == '0') || ng == 8)
			return 0;
		head[ng++] = v;
		i += k;
		if (i == n)
			break;
		if (s[i] != ':' || ++i == n)
			return 0; /* a fifth digit, a dot, a capital, or a ':' at the end */
		if (s[i] == ':') {
			if (gap >= 0)
				return 0;
			gap = ng;
			i++;
		}
	}
	if (gap < 0 ? ng != 8 : ng > 6)
		return 0;
	/* The groups in place: those after the gap go to the end. */
	for (int k = 0; k < ng; k++)
		g[gap < 0 || k < gap ? k : 8 - ng + k] = head[k];
	best = zero_run(g, &bestlen);
	if (gap < 0 ? best >= 0 : best != gap || bestlen != 8 - ng)
		return 0;
	return !(!g[0] && !g[1] && !g[2] && !g[3] && !g[4] && g[5] == 0xffff);
}

/* Whether s (n bytes) is an IPv4 address as format_ipv4() writes it: four decimal octets up
 * to 255, without leading zeros. inet_pton() takes each such text, and reads it back as it
 * is written. */
#ifdef __SSE2__
/* With SSE2 the test has no branch on the text (the octets' lengths vary from address to
 * address, which a branch per digit would guess wrong): maps of the bytes that are digits,
 * dots, zeros and below '2', '5' and '6', and each rule as arithmetic on them. */
static int canonical_ipv4(const char *s, size_t n)
{
	uint64_t lo, hi;
	unsigned dig, dot, zero, lt2, eq2, lt5, eq5, lt6, start, run3, ok, d;
	__m128i v, c;

	if (n < 7 || n > 15)
		return 0;
	/* s[0, n) as two words, zero after, by loads that stay within s (SSE2: little-endian) */
	if (n >= 8) {
		memcpy(&lo, s, 8);
		memcpy(&hi, s + n - 8, 8);
		hi = (hi >> (8 * (15 - n))) >> 8; /* s[8, n) */
	} else {
		unsigned char b[8] = {0};

		memcpy(b, s, 7);
		memcpy(&lo, b, 8);
		hi = 0;
	}
	v = _mm_set_epi64x((long long)hi, (long long)lo);
	c = _mm_sub_epi8(v, _mm_set1_epi8('0'));
	dig = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(c, _mm_set1_epi8(9)), c));
	dot = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('.')));
	zero = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('0')));
	lt2 = (unsigned)_mm_movemask_epi8(_mm_cmplt_epi8(v, _mm_set1_epi8('2')));
	eq2 = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('2')));
	lt5 = (unsigned)_mm_movemask_epi8(_mm_cmplt_epi8(v, _mm_set1_epi8('5')));
	eq5 = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('5')));
	lt6 = (unsigned)_mm_movemask_epi8(_mm_cmplt_epi8(v, _mm_set1_epi8('6')));
	start = dig & ~(dig << 1); /* each octet's first digit */
	run3 = start & (dig >> 1) & (dig >> 2); /* each octet of three digits */
	d = dot & (dot - 1);
	d &= d - 1; /* with the two lowest dots cleared: the third dot alone */
	/* every byte a digit or a dot (the zeros after s are neither), a digit first and
	 * last, no dots side by side, three dots, no octet of four digits or with a leading
	 * zero, and each of three digits at most 255 */
	ok = ((dig | dot) == (1u << n) - 1) & dig & (dig >> (n - 1)) & ((dot & (dot >> 1)) == 0) &
	     (d != 0) & ((d & (d - 1)) == 0) & ((dig & (dig >> 1) & (dig >> 2) & (dig >> 3)) == 0) &
	     ((zero & start & (dig >> 1)) == 0) &
	     ((run3 & ~(lt2 | (eq2 & ((lt5 >> 1) | ((eq5 >> 1) & (lt6 >> 2)))))) == 0);
	return (int)(ok & 1);
}
#else
static int canonical_ipv4(const char *s, size_t n)
{
	size_t i = 0;

	if (n < 7 || n > 15)
		return 0;
	for (int k = 0; k < 4; k++) {
		unsigned v, c;

		if (k && (i >= n || s[i++] != '.'))
			return 0;
		/* One to three digits, no leading zero, at most 255. */
		if (i >= n || (v = (unsigned)(unsigned char)s[i] - '0') > 9)
			return 0;
		i++;
		if (i < n && (c = (unsigned)(unsigned char)s[i] - '0') <= 9) {
			if (!v)
				return 0;
			v = v * 10 + c;
			i++;
			if (i < n && (c = (unsigned)(unsigned char)s[i] - '0') <= 9) {
				v = v * 10 + c;
				i++;
				if (v > 255 || (i < n && (unsigned)(unsigned char)s[i] - '0' <= 9))
					return 0;
			}
		}
	}
	return i == n;
}
#endif

int pii_ip_is_normal(const char *value, size_t len)
{
	return canonical_ipv4(value, len) || canonical_ipv6(value, len);
}

/* With res, an address already in its normal form is taken where it is: *res points
 * at it (trimmed) and nothing is written; else *res is out. */
static int norm_ip(const char *v, size_t len, char *out, const char **res)
{
	unsigned char bin[16];
	char buf[64];

	trim(&v, &len);
	if (!len || len >= sizeof(buf))
		return -1;
	/* Most addresses come already in their normal form. */
	if (pii_ip_is_normal(v, len)) {
		if (res) {
			*res = v;
			return (int)len;
		}
		memcpy(out, v, len);
		out[len] = '\0';
		return (int)len;
	}
	memcpy(buf, v, len);
	buf[len] = '\0';
	if (inet_pton(AF_INET, buf, bin) == 1)
		return format_ipv4(bin, out);
	if (inet_pton(AF_INET6, buf, bin) != 1)
		return -1;
	/* ::ffff:a.b.c.d is the IPv4 address a.b.c.d. */
	if (!memcmp(bin, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12))
		return format_ipv4(bin + 12, out);
	return format_ipv6(bin, out);
}

int pii_normalize(int norm, const char *value, size_t len, const char *country_code,
		  char *out)
{
	switch (norm) {
	case PII_NORM_EMAIL:
		return norm_email(value, len, out, NULL);
	case PII_NORM_PHONE:
		return norm_phone(value, len, country_code, out);
	case PII_NORM_IP:
		return norm_ip(value, len, out, NULL);
	default:
		if (len >= PII_NORM_MAX)
			return -1;
		memcpy(out, value, len);
		out[len] = '\0';
		return (int)len;
	}
}

int pii_normalize_view(int norm, const char *value, size_t len, const char *country_code,
		       char *out, const char **res)
{
	*res = out;
	switch (norm) {
	case PII_NORM_EMAIL:
		return norm_email(value, len, out, res);
	case PII_NORM_IP:
		return norm_ip(value, len, out, res);
	default:
		return pii_normalize(norm, value, len, country_code, out);
	}
}

const char *pii_norm_noun(int norm)
{
	switch (norm) {
	case PII_NORM_EMAIL:
		return "e-mail address";
	case PII_NORM_PHONE:
		return "phone number";
	case PII_NORM_IP:
		return "IP address";
	default:
		return "value";
	}
}

int pii_subject_check(const char *value, size_t len, struct st_error *err)
{
	const unsigned char *u = (const unsigned char *)value;
	unsigned line, col;

	if (!len)
		return st_error_set(err, ST_E_INVALID, "it is empty");
	if (len > PII_SUBJECT_MAX)
		return st_error_set(err, ST_E_INVALID, "it is longer than %d bytes",
				    PII_SUBJECT_MAX);
	for (size_t i = 0; i < len; i++) {
		if (!u[i])
			return st_error_set(err, ST_E_INVALID, "it holds a NUL byte (byte %zu)",
					    i + 1);
		if (u[i] < 0x20 || u[i] == 0x7F || (u[i] == 0xC2 && i + 1 < len &&
						      u[i + 1] >= 0x80 && u[i + 1] <= 0x9F))
			return st_error_set(err, ST_E_INVALID,
					    "it holds a control character (byte %zu)", i + 1);
	}
	if (st_utf8_check(u, len, &line, &col))
		return st_error_set(err, ST_E_INVALID, "it is not valid UTF-8 (character %u)",
				    col);
	return 0;
}
