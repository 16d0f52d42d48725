/* Detectors for PII inside free text. One scanner walks the text once and proposes a
 * candidate wherever a value can start (after any run of non-word characters, non-ASCII
 * letters included); each type then weighs its evidence (structure, checksum,
 * libphonenumber, context words) into a score, and findings under the threshold are left
 * alone. */
#include "pii.h"
#include "detect_int.h"
#include "catalog.h"
#include "buf.h"
#include "lazy.h"
#include "phone.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

static const char *const kind_names[PII_KIND_COUNT] = {
	"email", "phone", "card", "ip", "iban", "ssn", "krrn", "url_credentials",
};

static const char *const kind_categories[PII_KIND_COUNT] = {
	"user.contact.email",
	"user.contact.phone_number",
	"user.financial.credit_card",
	"user.device.ip_address",
	"user.financial.bank_account",
	"user.government_id.national_identification_number",
	"user.government_id.national_identification_number",
	"user.authorization.credentials",
};

static const char *const evidence_names[] = {
	"pattern", "checksum", "date", "libphonenumber", "context word", "negative context",
};

const char *pii_kind_name(int kind)
{
	return kind >= 0 && kind < PII_KIND_COUNT ? kind_names[kind] : "?";
}

const char *pii_kind_category(int kind)
{
	return kind >= 0 && kind < PII_KIND_COUNT ? kind_categories[kind] : NULL;
}

const char *pii_evidence_name(unsigned bit)
{
	for (size_t i = 0; i < sizeof(evidence_names) / sizeof(*evidence_names); i++)
		if (bit == 1u << i)
			return evidence_names[i];
	return NULL;
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_upper(char c)
{
	return c >= 'A' && c <= 'Z';
}

static int is_alnum(char c)
{
	return is_digit(c) || is_alpha(c);
}

static int is_word(char c)
{
	return is_alnum(c) || c == '_';
}

static int is_hex(char c)
{
	return is_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

/* A full-width digit (U+FF10..U+FF19) at t[i]: its value, or -1. */
static int fw_digit(const char *t, size_t len, size_t i)
{
	if (i + 2 < len && (unsigned char)t[i] == 0xEF && (unsigned char)t[i + 1] == 0xBC &&
	    (unsigned char)t[i + 2] >= 0x90 && (unsigned char)t[i + 2] <= 0x99)
		return (unsigned char)t[i + 2] - 0x90;
	return -1;
}

/* A digit, ASCII or full-width, at t[i]: its value and byte width in *w, or -1. */
static int digit_at(const char *t, size_t len, size_t i, size_t *w)
{
	int v;

	if (i < len && is_digit(t[i])) {
		*w = 1;
		return t[i] - '0';
	}
	if ((v = fw_digit(t, len, i)) >= 0)
		*w = 3;
	return v;
}

int pii_luhn_ok(const char *d, size_t n)
{
	int sum = 0, dbl = 0;

	for (size_t i = n; i-- > 0;) {
		int v;

		if (!is_digit(d[i]))
			continue;
		v = d[i] - '0';
		if (dbl && (v *= 2) > 9)
			v -= 9;
		sum += v;
		dbl = !dbl;
	}
	return sum % 10 == 0;
}

int pii_iban_ok(const char *s, size_t n)
{
	char buf[40];
	size_t m = 0;
	int rem = 0;

	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '-') {
			if (m >= sizeof(buf) || !is_alnum(s[i]))
				return 0;
			buf[m++] = s[i];
		}
	if (m < 15 || m > 34 || !is_alpha(buf[0]) || !is_alpha(buf[1]) || !is_digit(buf[2]) ||
	    !is_digit(buf[3]))
		return 0;
	/* Move the first four characters to the end, letters become 10..35, mod 97 == 1. */
	for (size_t k = 0; k < m; k++) {
		char c = buf[(k + 4) % m];

		if (is_digit(c)) {
			rem = (rem * 10 + (c - '0')) % 97;
		} else {
			int v = (c | 0x20) - 'a' + 10;

			rem = (rem * 100 + v) % 97;
		}
	}
	return rem == 1;
}

/* The RRN's date and gender/century digit, on 13 digits d: a real day of the century the
 * seventh digit says (9, 0: 1800s; 1, 2, 5, 6: 1900s; 3, 4, 7, 8: 2000s). */
static int krrn_date_ok(const char *d)
{
	static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int yy = (d[0] - '0') * 10 + (d[1] - '0'), month = (d[2] - '0') * 10 + (d[3] - '0');
	int day = (d[4] - '0') * 10 + (d[5] - '0'), g = d[6] - '0', year;

	year = (g == 9 || g == 0 ? 1800 : g == 3 || g == 4 || g == 7 || g == 8 ? 2000 : 1900) + yy;
	if (month < 1 || month > 12 || day < 1 || day > mdays[month - 1])
		return 0;
	if (month == 2 && day == 29 && (year % 4 || (year % 100 == 0 && year % 400)))
		return 0;
	return year <= 2030;
}

static int krrn_check_ok(const char *d)
{
	static const int w[12] = {2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5};
	int sum = 0;

	for (int i = 0; i < 12; i++)
		sum += (d[i] - '0') * w[i];
	return (11 - sum % 11) % 10 == d[12] - '0';
}

/* YYMMDD-GNNNNNC: a plausible date, a gender/century digit 1-8, and the check digit. */
int pii_krrn_ok(const char *s, size_t n)
{
	char d[13];
	int k = 0;

	if (n != 14 || s[6] != '-')
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (i == 6)
			continue;
		if (!is_digit(s[i]))
			return 0;
		d[k++] = s[i];
	}
	if (d[6] < '1' || d[6] > '8')
		return 0;
	return krrn_date_ok(d) && krrn_check_ok(d);
}

/* ---- context words ---------------------------------------------------------------- */

/* Words around a candidate that speak for a type (or against it), lowercase; an ASCII
 * word must start a word in the text (so "ip" is not found in "zip"), and matches as a
 * prefix ("bestell" finds "Bestellnummer"). */
static const char *const ctx_phone[] = {
	"tel", "phone", "call", "mobile", "cell", "fax", "whatsapp", "sms", "text", "ring",
	"telefon", "handy", "rufnummer", "mobil", "anruf", "t\xc3\xa9l", "portable", "appel",
	"joignable", "tel\xc3\xa9" "fono", "celular", "m\xc3\xb3vil", "movil", "llama", "ll\xc3\xa1m", "cel", "telephone",
	"contato", "contacto", "ligue", "liga", "telefone", "zap",
	"\xec\xa0\x84\xed\x99\x94", /* 전화 */
	"\xec\x97\xb0\xeb\x9d\xbd", /* 연락 */
	"\xed\x9c\xb4\xeb\x8c\x80", /* 휴대 */
	"\xed\x95\xb8\xeb\x93\x9c\xed\x8f\xb0", /* 핸드폰 */
	"\xe9\x9b\xbb\xe8\xa9\xb1", /* 電話 */
	"\xe6\x90\xba\xe5\xb8\xaf", /* 携帯 */
	"\xe9\x80\xa3\xe7\xb5\xa1", /* 連絡 */
	"tel\xc3\xa9" "fone", NULL,
};

static const char *const ctx_not_phone[] = {
	"sku", "product", "produkt", "produit", "produto", "producto", "item", "article",
	"artikel", "art.-nr", "part", "model", "modell", "mod\xc3\xa8le", "isbn", "tracking",
	"track", "sendung", "invoice", "rechnung", "factura", "fatura", "facture", "serial",
	"batch", "lot", "order", "bestell", "commande", "pedido", "ref", "code", "c\xc3\xb3" "digo",
	"ean", "upc", "gtin", "barcode", "timestamp", "epoch", "account", "konto", "compte",
	"cuenta", "conta", "version", "build", "zip", "plz", "postcode", "cep", "id ", "id:",
	"id#", "no.", "nr.", "case", "ticket", "referen", "r\xc3\xa9" "f\xc3\xa9" "rence", "cod",
	"catalog", "katalog", "modelo", "p/n", "pn", "part no", "lote", "ean", "jan",
	"\xe5\x9e\x8b\xe7\x95\xaa", /* 型番 */
	"\xed\x92\x88\xeb\xaa\xa9", /* 품목 */
	"\xed\x92\x88\xeb\xb2\x88", /* 품번 */
	"\xec\xa0\x9c\xed\x92\x88", /* 제품 */
	"\xeb\xaa\xa8\xeb\x8d\xb8", /* 모델 */
	"\xec\xa3\xbc\xeb\xac\xb8", /* 주문 */
	"\xec\x83\x81\xed\x92\x88", /* 상품 */
	"\xe6\xb3\xa8\xe6\x96\x87", /* 注文 */
	"\xe5\x93\x81\xe7\x95\xaa", /* 品番 */
	"\xe5\x95\x86\xe5\x93\x81", /* 商品 */
	"\xe8\xbf\xbd\xe8\xb7\xa1", /* 追跡 */
	"\xec\x9a\xb4\xec\x86\xa1\xec\x9e\xa5", /* 운송장 */
	NULL,
};

static const char *const ctx_ssn[] = {
	"ssn", "social security", "soc. sec", "soc sec", "ss#", "ss #", "ss no", "ssa", NULL,
};

static const char *const ctx_krrn[] = {
	"\xec\xa3\xbc\xeb\xaf\xbc", /* 주민 */
	"rrn", "resident registration", "registration no", "resident no", "resident id",
	"\xe4\xbd\x8f\xe6\xb0\x91", /* 住民 */
	"\xeb\x93\xb1\xeb\xa1\x9d\xeb\xb2\x88\xed\x98\xb8", /* 등록번호 */
	NULL,
};

static const char *const ctx_card[] = {
	"card", "visa", "mastercard", "amex", "cc", "credit", "debit", "karte", "carte",
	"tarjeta", "cart\xc3\xa3o", "cartao", "cb ", "pan",
	"\xec\xb9\xb4\xeb\x93\x9c", /* 카드 */
	"\xe3\x82\xab\xe3\x83\xbc\xe3\x83\x89", /* カード */
	NULL,
};

static const char *const ctx_not_card[] = {
	"isbn", "tracking", "track", "sendung", "timestamp", "epoch", "ts=", "ts:", "ean",
	"upc", "gtin", "barcode", "imei", "serial",
	"\xec\x9a\xb4\xec\x86\xa1\xec\x9e\xa5", /* 운송장 */
	"\xe8\xbf\xbd\xe8\xb7\xa1", /* 追跡 */
	NULL,
};

static const char *const ctx_not_ip[] = {
	"version", "vers\xc3\xa3o", "versao", "versi\xc3\xb3n", "ver", "v", "build", "release",
	"firmware", "fw", "revision", "rev", "patch", "update", "sdk", "app", "os", "kernel",
	"package", "pkg", "library", "lib", "plugin", "driver", "upgrade", "mise \xc3\xa0 jour",
	"android", "ios", "windows", "macos", "chrome", "firefox", "safari", "edge", "node",
	"python", "java", "oid", "snmp", "api",
	"\xeb\xb2\x84\xec\xa0\x84", /* 버전 */
	"\xe3\x83\x90\xe3\x83\xbc\xe3\x82\xb8\xe3\x83\xa7\xe3\x83\xb3", /* バージョン */
	"\xe7\x89\x88", /* 版 */
	NULL,
};

/* Whether one of words occurs in t[from, to): ASCII words at the start of a word (and
 * words of up to 3 bytes also at its end, so that "v" is not found in "via" or "V8"), letters
 * compared without case. */
static int has_word(const char *t, size_t len, size_t from, size_t to,
		    const char *const *words)
{
	for (const char *const *w = words; *w; w++) {
		size_t n = strlen(*w);

		for (size_t i = from; i + n <= to; i++) {
			size_t k = 0;

			while (k < n && (t[i + k] == (*w)[k] ||
					 (is_upper(t[i + k]) && (t[i + k] | 0x20) == (*w)[k])))
				k++;
			if (k < n)
				continue;
			if (is_alpha((*w)[0]) && i > 0 && is_alpha(t[i - 1]))
				continue;
			if (n <= 3 && i + n < len && is_alnum(t[i + n]))
				continue;
			return 1;
		}
	}
	return 0;
}

#define CTX_BEFORE 40
#define CTX_AFTER 24
#define CTX_NEAR 20

/* Whether words are near t[s, e): up to CTX_BEFORE bytes before and CTX_AFTER after. */
static int ctx_near(const char *t, size_t len, size_t s, size_t e, const char *const *words)
{
	size_t from = s > CTX_BEFORE ? s - CTX_BEFORE : 0, to = len - e > CTX_AFTER ? e + CTX_AFTER : len;

	return has_word(t, len, from, s, words) || has_word(t, len, e, to, words);
}

/* Whether words are right before t[s]: within CTX_NEAR bytes. */
static int ctx_just_before(const char *t, size_t s, const char *const *words)
{
	return has_word(t, s, s > CTX_NEAR ? s - CTX_NEAR : 0, s, words);
}

/* ---- e-mail addresses and URL credentials ----------------------------------------- */

static int local_char(char c)
{
	return is_alnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}

/* Endings of file names, which "banner@2x.png" has where an address has its TLD. */
static const char *const file_exts[] = {
	"png", "jpg", "jpeg", "gif", "svg", "webp", "bmp", "ico", "tif", "tiff", "heic", "avif",
	"pdf", "txt", "js", "mjs", "css", "json", "html", "htm", "xml", "csv", "gz", "tar", "tgz",
	"mp3", "mp4", "webm", "avi", "wav", "woff", "woff2", "ttf", "otf", "md", "yml", "yaml",
	"exe", "dll", "so", "py", "rb", "go", "rs", "ts", "tsx", "jsx", "java", "php", "log",
	"lock", "map", "docx", "xlsx", "pptx", "doc", "xls", NULL,
};

static int is_file_ext(const char *s, size_t n)
{
	for (const char *const *e = file_exts; *e; e++)
		if (strlen(*e) == n) {
			size_t k = 0;

			while (k < n && (s[k] | 0x20) == (*e)[k])
				k++;
			if (k == n)
				return 1;
		}
	return 0;
}

/* The user information of a URL before the '@' at t[at] ("https://user:pw@host"):
 * its span. Returns 0 when the '@' is not inside a URL's authority. */
static int match_userinfo(const char *t, size_t at, size_t *s, size_t *e)
{
	size_t a = at;

	while (a > 0 && (unsigned char)t[a - 1] > ' ' && !strchr("<>\"'()[]{}`", t[a - 1]) &&
	       at - a < 512)
		a--;
	for (size_t i = a; i + 3 <= at; i++)
		if (t[i] == ':' && t[i + 1] == '/' && t[i + 2] == '/') {
			size_t u = i + 3;

			if (u >= at || memchr(t + u, '/', at - u))
				return 0;
			*s = u;
			*e = at;
			return 1;
		}
	return 0;
}

/* An e-mail address around the '@' at position at. */
static int match_email(const char *t, size_t len, size_t at, size_t *s, size_t *e)
{
	size_t a = at, b = at + 1, last_dot, tld = 0;

	while (a > 0 && local_char(t[a - 1]))
		a--;
	while (a < at && (t[a] == '.' || t[a] == '-' || t[a] == '+'))
		a++;
	if (a == at || at - a > 64)
		return 0;
	while (b < len && (is_alnum(t[b]) || t[b] == '-' || t[b] == '.'))
		b++;
	while (b > at + 1 && (t[b - 1] == '.' || t[b - 1] == '-'))
		b--;
	if (b < len && (t[b] == '_' || t[b] == '@'))
		return 0;
	/* banner@2x.png, icon@3x.webp: a file name, not an address; in "a@example.com.yaml"
	 * the address ends before the file's extension */
	for (int ext = 0; ext < 2; ext++) {
		for (last_dot = b; last_dot > at && t[last_dot - 1] != '.'; last_dot--)
			;
		if (last_dot-- <= at + 2)
			return 0;
		tld = 0;
		for (size_t i = last_dot + 1; i < b; i++)
			tld += is_alpha(t[i]) ? 1 : 100;
		if (tld < 2 || tld > 63)
			return 0;
		if (!is_file_ext(t + last_dot + 1, b - last_dot - 1))
			break;
		if (ext)
			return 0;
		b = last_dot;
	}
	*s = a;
	*e = b;
	return 1;
}

/* ---- IP addresses ------------------------------------------------------------------ */

/* An IPv6 address starting at t[i] (a hex digit or ':'), the longest run that parses. */
static int match_ipv6(const char *t, size_t len, size_t i, size_t *e)
{
	char buf[48];
	size_t j = i, colons = 0, groups = 0, glen = 0, longest = 0;
	unsigned char bin[16];

	while (j < len && (is_hex(t[j]) || t[j] == ':' || t[j] == '.') && j - i < 45) {
		colons += t[j] == ':';
		j++;
	}
	if (colons < 2)
		return 0;
	for (; j > i + 1; j--) {
		if (t[j - 1] == '.' || (t[j - 1] == ':' && t[j - 2] != ':'))
			continue;
		if (j < len && (is_word(t[j]) || t[j] == ':' ||
				(t[j] == '.' && j + 1 < len && is_alnum(t[j + 1]))))
			continue;
		memcpy(buf, t + i, j - i);
		buf[j - i] = '\0';
		if (inet_pton(AF_INET6, buf, bin) == 1)
			break;
	}
	if (j <= i + 1)
		return 0;
	/* "::1", "a::b": too little of an address to be anyone's */
	for (size_t k = i; k <= j; k++) {
		if (k < j && t[k] != ':') {
			glen++;
			continue;
		}
		if (glen) {
			groups++;
			longest = glen > longest ? glen : longest;
		}
		glen = 0;
	}
	if (groups < 3 && !(groups == 2 && longest >= 4))
		return 0;
	*e = j;
	return 1;
}

/* ---- IBAN -------------------------------------------------------------------------- */

/* ISO 13616: the IBAN's length per country. */
static const char iban_lengths[] =
	"AD24AE23AL28AT20AZ28BA20BE16BG22BH22BI27BR29BY28CH21CR22CY28CZ24DE22DJ27DK18DO28"
	"EE20EG29ES24FI18FK18FO18FR27GB22GE22GI23GL18GR27GT28HR21HU28IE22IL23IQ23IS26IT27"
	"JO30KW30KZ20LB28LC32LI21LT20LU20LV21LY25MC27MD24ME22MK19MN20MR27MT31MU30NI28NL18"
	"NO15OM23PK24PL28PS29PT25QA29RO24RS22RU33SA24SC31SD18SE24SI19SK24SM27SO23ST25SV28"
	"TL23TN24TR26UA29VA22VG24XK20YE30";

static int iban_length(char a, char b)
{
	for (const char *p = iban_lengths; *p; p += 4)
		if (p[0] == a && p[1] == b)
			return (p[2] - '0') * 10 + (p[3] - '0');
	return 0;
}

/* An IBAN starting at t[i]: the country's length of letters and digits, in groups of four
 * separated by single spaces or dashes, and mod-97. */
static int match_iban(const char *t, size_t len, size_t i, size_t *e)
{
	size_t j = i, m = 0, want;

	if (len - i < 15 || !is_upper(t[i]) || !is_upper(t[i + 1]) || !is_digit(t[i + 2]) ||
	    !is_digit(t[i + 3]) || !(want = (size_t)iban_length(t[i], t[i + 1])))
		return 0;
	while (j < len && m < want) {
		if (is_alnum(t[j])) {
			j++;
			m++;
		} else if ((t[j] == ' ' || t[j] == '-') && m % 4 == 0 && j + 1 < len &&
			   is_alnum(t[j + 1]) && t[j - 1] != ' ' && t[j - 1] != '-') {
			j++;
		} else {
			break;
		}
	}
	if (m != want || (j < len && (is_word(t[j]) || t[j] == '@')))
		return 0;
	if (!pii_iban_ok(t + i, j - i))
		return 0;
	*e = j;
	return 1;
}

/* ---- numbers: one token of digit groups, then its shape ---------------------------- */

#define NT_GROUPS 12
#define NT_DIGITS 40

struct ntok {
	size_t end;               /* byte after the last digit (or ')') */
	int plus;                 /* written with '+' */
	int ng, nd;               /* groups, digits */
	int glen[NT_GROUPS];
	size_t gend[NT_GROUPS];   /* byte after group k (its ')' included) */
	char sep[NT_GROUPS];      /* sep[k]: what came before group k: ' ', '-', '.', '/', '(' */
	int paren_zero;           /* a "(0)" group after the country code, digit index */
	char d[NT_DIGITS + 1];    /* the digits, ASCII */
};

/* Reads digit groups from t[i] (a digit, '+' or '('): single separators (space, '-', '.',
 * '/', no-break space, full-width hyphen, " - ") between groups, one group in
 * parentheses. Returns 0 when it is not a number. */
static int read_number(const char *t, size_t len, size_t i, struct ntok *n)
{
	size_t j = i, w;
	int in_paren = 0, paren_used = 0;
	char sep = 0;

	memset(n, 0, sizeof(*n));
	n->paren_zero = -1;
	if (t[j] == '+') {
		n->plus = 1;
		j++;
	} else if (len - j >= 3 && !memcmp(t + j, "\xef\xbc\x8b", 3)) { /* full-width plus */
		n->plus = 1;
		j += 3;
	}
	if (j < len && t[j] == '(') {
		in_paren = paren_used = 1;
		sep = '(';
		j++;
	}
	for (;;) {
		int v, g = 0;
		size_t k;

		while ((v = digit_at(t, len, j, &w)) >= 0) {
			if (n->nd >= NT_DIGITS)
				return 0;
			n->d[n->nd++] = (char)('0' + v);
			g++;
			j += w;
		}
		if (!g || n->ng >= NT_GROUPS)
			return 0;
		if (in_paren == 1 && sep == '(' && g == 1 && n->d[n->nd - 1] == '0' && n->plus &&
		    n->ng > 0)
			n->paren_zero = n->nd - 1;
		n->sep[n->ng] = n->ng ? sep : 0;
		n->glen[n->ng] = g;
		n->gend[n->ng++] = j;
		n->end = j;
		/* the separator before the next group */
		k = j;
		sep = 0;
		if (k < len && t[k] == ')' && in_paren) {
			k++;
			in_paren = 0;
			n->end = n->gend[n->ng - 1] = k;
			sep = '(';
			if (k < len && (t[k] == ' ' || t[k] == '-'))
				k++;
		} else if (k < len && in_paren) {
			break;
		} else if (k < len && (t[k] == ' ' || t[k] == '-' || t[k] == '.' || t[k] == '/')) {
			sep = t[k++];
			if (sep == ' ' && len - k >= 2 && t[k] == '-' && t[k + 1] == ' ') {
				sep = '-';
				k += 2;
			}
		} else if (len - k >= 2 && (unsigned char)t[k] == 0xC2 &&
			   (unsigned char)t[k + 1] == 0xA0) {
			sep = ' ';
			k += 2;
		} else if (len - k >= 3 && !memcmp(t + k, "\xef\xbc\x8d", 3)) {
			sep = '-';
			k += 3;
		} else if (!(k < len && t[k] == '(')) {
			break; /* "+49(0)30 ...": a group in parentheses needs no separator before it */
		}
		if (sep != '(' && k + 1 < len && t[k] == '(' && !paren_used &&
		    digit_at(t, len, k + 1, &w) >= 0) {
			paren_used = in_paren = 1;
			k++;
			sep = '(';
		}
		if (digit_at(t, len, k, &w) < 0)
			break;
		j = k;
	}
	if (in_paren || (n->ng == 1 && t[i] == '('))
		return 0; /* "(4111...)": the number is inside, and read from there */
	n->d[n->nd] = '\0';
	return 1;
}

static int all_seps(const struct ntok *n, const char *set)
{
	for (int k = 1; k < n->ng; k++)
		if (!strchr(set, n->sep[k]) || n->sep[k] != n->sep[1])
			return 0;
	return 1;
}

/* A number may not start inside a word or a dotted, dashed or slashed run. */
static int number_start(const char *t, size_t i)
{
	char p;

	if (i == 0)
		return 1;
	p = t[i - 1];
	if (is_word(p) || p == '@' || p == '+' || (i >= 3 && fw_digit(t, i, i - 3) >= 0))
		return 0;
	if ((p == '.' || p == '-' || p == '/') && i >= 2 && is_alnum(t[i - 2]))
		return 0;
	return 1;
}

/* Nothing after t[e] continues the number. */
static int number_end(const char *t, size_t len, size_t e)
{
	if (e >= len)
		return 1;
	if (is_word(t[e]) || t[e] == '@' || fw_digit(t, len, e) >= 0)
		return 0;
	if ((t[e] == '.' || t[e] == '-' || t[e] == '/') && e + 1 < len &&
	    is_alnum(t[e + 1]))
		return 0;
	return 1;
}

struct cand {
	int kind, score;
	unsigned ev;
	size_t end;
};

static void cand_set(struct cand *c, int kind, int score, unsigned ev, size_t end)
{
	if (score > 100)
		score = 100;
	if (score > c->score) {
		c->kind = kind;
		c->score = score;
		c->ev = ev;
		c->end = end;
	}
}

/* Card: issuer ranges (IIN) with their lengths, then Luhn. */
static int card_iin_ok(const char *d, int n)
{
	int p2 = (d[0] - '0') * 10 + (d[1] - '0'), p3 = p2 * 10 + (d[2] - '0');
	int p4 = p3 * 10 + (d[3] - '0'), p6 = p4 * 100 + (d[4] - '0') * 10 + (d[5] - '0');

	if (d[0] == '4')
		return n == 13 || n == 16 || n == 19;                     /* Visa */
	if ((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720))
		return n == 16;                                           /* Mastercard */
	if (p2 == 34 || p2 == 37)
		return n == 15;                                           /* Amex */
	if (p4 == 6011 || (p3 >= 644 && p3 <= 649) || p2 == 65 ||
	    (p6 >= 622126 && p6 <= 622925))
		return n >= 16 && n <= 19;                                /* Discover */
	if (p2 == 62 || p2 == 81)
		return n >= 16 && n <= 19;                                /* UnionPay */
	if (p4 >= 3528 && p4 <= 3589)
		return n >= 16 && n <= 19;                                /* JCB */
	if ((p3 >= 300 && p3 <= 305) || p2 == 36 || p2 == 38 || p2 == 39)
		return n >= 14 && n <= 19;                                /* Diners */
	if (p4 >= 2200 && p4 <= 2204)
		return n >= 16 && n <= 19;                                /* Mir */
	if (p2 == 50 || (p2 >= 56 && p2 <= 69))
		return n >= 12 && n <= 19;                                /* Maestro */
	if (p4 == 9792)
		return n == 16;                                           /* Troy */
	return 0;
}

static void try_card(const char *t, size_t len, size_t s, const struct ntok *n, struct cand *c)
{
	if (n->plus || n->nd < 13 || n->nd > 19 || !all_seps(n, " -"))
		return;
	if (n->ng > 1) {
		if (n->glen[0] != 4)
			return;
		for (int k = 1; k < n->ng; k++)
			if (n->glen[k] > 6 || (n->glen[k] < 4 && (k < n->ng - 1 || n->glen[k] < 2)))
				return;
	}
	if (!card_iin_ok(n->d, n->nd) || !pii_luhn_ok(n->d, (size_t)n->nd))
		return;
	if (ctx_near(t, len, s, n->end, ctx_not_card) ||
	    (n->ng == 1 && n->nd == 13 && ctx_near(t, len, s, n->end, ctx_krrn))) {
		cand_set(c, PII_CARD, 10, PII_EV_PATTERN | PII_EV_CHECKSUM | PII_EV_NEGCTX, n->end);
		return;
	}
	cand_set(c, PII_CARD, 90 + (ctx_near(t, len, s, n->end, ctx_card) ? 10 : 0),
		 PII_EV_PATTERN | PII_EV_CHECKSUM |
			 (ctx_near(t, len, s, n->end, ctx_card) ? PII_EV_CONTEXT : 0),
		 n->end);
}

/* US SSN: 3-2-4 digits (dashes, spaces, or none with a context word), no area 000, 666 or
 * 900-999, no group 00, no serial 0000. */
static void try_ssn(const char *t, size_t len, size_t s, const struct ntok *n, struct cand *c)
{
	const char *d = n->d;
	int grouped = n->ng == 3 && n->glen[0] == 3 && n->glen[1] == 2 && n->glen[2] == 4 &&
		      all_seps(n, "- ");
	int ctx, score;

	if (n->plus || !(grouped || (n->ng == 1 && n->nd == 9)))
		return;
	if (!memcmp(d, "000", 3) || !memcmp(d, "666", 3) || d[0] == '9' || !memcmp(d + 3, "00", 2) ||
	    !memcmp(d + 5, "0000", 4))
		return;
	ctx = ctx_near(t, len, s, n->end, ctx_ssn);
	score = !grouped ? 40 : n->sep[1] == '-' ? 80 : 60;
	cand_set(c, PII_SSN, score + (ctx ? 35 : 0), PII_EV_PATTERN | (ctx ? PII_EV_CONTEXT : 0),
		 n->end);
}

/* Korean RRN: YYMMDD-GNNNNNN (a hyphen, a space or nothing between): the date and the
 * gender/century digit first, the check digit (absent since October 2020) and the
 * context as evidence. */
static void try_krrn(const char *t, size_t len, size_t s, const struct ntok *n, struct cand *c)
{
	int split = n->ng == 2 && n->glen[0] == 6 && n->glen[1] == 7 && all_seps(n, "- ");
	int ctx, sum, score;

	if (n->plus || !(split || (n->ng == 1 && n->nd == 13)) || !krrn_date_ok(n->d))
		return;
	sum = krrn_check_ok(n->d);
	ctx = ctx_near(t, len, s, n->end, ctx_krrn);
	score = !split ? 30 + (sum ? 15 : 0) + (ctx ? 35 : 0)
		       : (n->sep[1] == '-' ? 70 : 55) + (sum ? 15 : 0) + (ctx ? 25 : 0);
	cand_set(c, PII_KRRN, score,
		 PII_EV_PATTERN | PII_EV_DATE | (sum ? PII_EV_CHECKSUM : 0) | (ctx ? PII_EV_CONTEXT : 0),
		 n->end);
}

/* A date written with separators (2026-03-01, 01.03.2026, 12/05/1990): never PII here. */
static int is_date(const struct ntok *n)
{
	if (n->ng != 3 || !all_seps(n, "-./"))
		return 0;
	return (n->glen[0] == 4 && n->glen[1] <= 2 && n->glen[2] <= 2) ||
	       (n->glen[0] <= 2 && n->glen[1] <= 2 && (n->glen[2] == 4 || n->glen[2] == 2));
}

static int isbn10_ok(const char *d)
{
	int sum = 0;

	for (int i = 0; i < 10; i++)
		sum += (10 - i) * (d[i] - '0');
	return sum % 11 == 0;
}

static int phone_valid(const char *num, const struct pii_detect_opts *o);

/* Phone: a cheap shape filter, then libphonenumber for the regions. A number libphonenumber
 * only finds of a possible length must have a phone's shape and be the whole token. */
static void try_phone(const char *t, size_t len, size_t s, const struct ntok *n, int whole,
		      const struct pii_detect_opts *o, struct cand *c)
{
	char num[NT_DIGITS + 2];
	int intl = n->plus || (n->nd > 2 && n->d[0] == '0' && n->d[1] == '0');
	int plain = n->ng == 1 && !n->plus, ctx, score, m = 0, v;

	if (n->nd < 7 || n->nd > (intl && !n->plus ? 17 : 15) || n->glen[n->ng - 1] < 2)
		return;
	if (all_seps(n, ".") && n->ng > 1)
		for (int k = 0; k < n->ng; k++)
			if (n->glen[k] < 2)
				return;
	if (n->ng == 2 && n->glen[0] == 4 && n->glen[1] == 4 && n->sep[1] == '-' &&
	    (n->d[0] == '1' || n->d[0] == '2'))
		return; /* 1990-2000: a range of years */
	ctx = ctx_near(t, len, s, n->end, ctx_phone);
	if (plain && n->d[0] != '0' && !ctx)
		return;
	if (!intl && !plain && n->d[0] != '0' && n->glen[n->ng - 1] < 4)
		return; /* without a trunk 0 (US, MX, BR): the number ends in 4 digits or more */
	if (!n->plus && !plain && n->glen[0] > 5)
		return; /* an area code has at most 5 digits (with its trunk 0) */
	if (!ctx && !n->plus && ((s > 0 && t[s - 1] == '#') || ctx_just_before(t, s, ctx_not_phone)))
		return;
	if (intl) {
		num[m++] = '+';
		for (int k = n->plus ? 0 : 2; k < n->nd; k++)
			if (k != n->paren_zero)
				num[m++] = n->d[k];
	} else {
		memcpy(num, n->d, (size_t)n->nd);
		m = n->nd;
	}
	num[m] = '\0';
	v = phone_valid(num, o);
	if (v == 2 && whole && (intl || (!plain && n->nd >= 9 && n->nd <= 12))) {
		/* a phone's shape, of a possible length, in a range the metadata does not know */
		cand_set(c, PII_PHONE, (intl ? 65 : 60) + (ctx ? 20 : 0),
			 PII_EV_PATTERN | (ctx ? PII_EV_CONTEXT : 0), n->end);
		return;
	}
	if (v != 1)
		return;
	if (intl)
		score = 90;
	else if (!plain)
		score = 80;
	else
		score = n->nd == 10 && isbn10_ok(n->d) ? 45 : 60;
	cand_set(c, PII_PHONE, score + (ctx ? 20 : 0),
		 PII_EV_PATTERN | PII_EV_PHONELIB | (ctx ? PII_EV_CONTEXT : 0), n->end);
}

/* The first groups of n, up to group k (excluded): what is left of a token when its tail
 * is another value ("0171/8391518 3728-6239-9483-349"). */
static void ntok_cut(struct ntok *n, int k)
{
	int nd = 0;

	for (int g = 0; g < k; g++)
		nd += n->glen[g];
	n->ng = k;
	n->nd = nd;
	n->d[nd] = '\0';
	n->end = n->gend[k - 1];
	if (n->paren_zero >= nd)
		n->paren_zero = -1;
}

static void classify_number(const char *t, size_t len, size_t s, struct ntok *n, int whole,
			    const struct pii_detect_opts *o, struct cand *c);

/* A number starting at t[s]: the whole token, else its first groups up to a space. Sets
 * *skip to where the scanner goes on when nothing is found: past the token's groups up to
 * its first space, so that a value after it ("room 12 4111 1111 1111 1111") is still
 * read, but no digits inside a dashed or dotted run are; past all of it when it is longer
 * than any value (a tracking number "9400 1000 0000 0000 0000 00"). */
static void match_number(const char *t, size_t len, size_t s, const struct pii_detect_opts *o,
			 struct cand *c, size_t *skip)
{
	struct ntok n;
	int head;

	*skip = 0;
	if (!read_number(t, len, s, &n))
		return;
	for (head = 1; head < n.ng && n.sep[head] != ' '; head++)
		;
	*skip = n.plus || t[s] == '(' || n.nd > 19 ? n.end : n.gend[head - 1];
	classify_number(t, len, s, &n, 1, o, c);
	for (int k = n.ng - 1; c->score <= 0 && k >= 1; k--) {
		if (n.sep[k] != ' ')
			continue;
		ntok_cut(&n, k);
		if (n.nd < 7)
			break;
		classify_number(t, len, s, &n, 0, o, c);
	}
}

/* A phone's extension after t[e] ("x123", " ext. 123", " ext 123"): where it ends, or 0. */
static size_t phone_ext(const char *t, size_t len, size_t e)
{
	size_t k = e;

	if (k < len && (t[k] == 'x' || t[k] == 'X')) {
		k++;
	} else if (len - k >= 4 && t[k] == ' ' && (t[k + 1] | 0x20) == 'e' &&
		   (t[k + 2] | 0x20) == 'x' && (t[k + 3] | 0x20) == 't') {
		k += 4;
		k += k < len && t[k] == '.';
		k += k < len && t[k] == ' ';
	} else {
		return 0;
	}
	if (k >= len || !is_digit(t[k]))
		return 0;
	while (k < len && is_digit(t[k]) && k - e < 12)
		k++;
	return number_end(t, len, k) ? k : 0;
}

/* One token (whole: not cut short): IPv4, then by its groups SSN, RRN, card or phone. */
static void classify_number(const char *t, size_t len, size_t s, struct ntok *n0, int whole,
			    const struct pii_detect_opts *o, struct cand *c)
{
	struct ntok n = *n0;
	size_t ext = phone_ext(t, len, n.end);

	if (ext) { /* only a phone has an extension, and it is part of the span */
		try_phone(t, len, s, &n, whole, o, c);
		if (c->score > 0)
			c->end = ext;
		return;
	}
	if (!number_end(t, len, n.end)) {
		/* an IPv4 address before its port ("10.0.0.1:8080") ends at the ':' */
		if (!(n.end < len && t[n.end] == ':'))
			return;
	}
	/* an IPv4 network in CIDR notation ("10.0.0.0/8"): the address, without its prefix */
	if (n.ng == 5 && !n.plus && n.sep[1] == '.' && n.sep[2] == '.' && n.sep[3] == '.' &&
	    n.sep[4] == '/' && n.glen[4] <= 2) {
		const char *p = n.d + n.nd - n.glen[4];
		int bits = n.glen[4] == 1 ? p[0] - '0' : (p[0] - '0') * 10 + (p[1] - '0');

		if (bits <= 32) {
			n.nd -= n.glen[4];
			n.d[n.nd] = '\0';
			n.ng = 4;
			n.end = n.gend[3];
		}
	}
	if (n.ng >= 3 && all_seps(&n, ".") && !n.plus) {
		char buf[20];
		unsigned char bin[4];
		size_t m = 0, at = 0;

		for (int k = 0; k < n.ng; k++)
			if (n.glen[k] == 1 && n.ng != 4)
				return; /* 1.2.3.4.5: a version, and never a phone */
		for (int k = 0; k < 4; k++) {
			if (n.ng != 4)
				goto dotted;
			if (n.glen[k] > 3)
				goto dotted;
			if (k)
				buf[m++] = '.';
			memcpy(buf + m, n.d + at, (size_t)n.glen[k]);
			m += (size_t)n.glen[k];
			at += (size_t)n.glen[k];
		}
		buf[m] = '\0';
		if (inet_pton(AF_INET, buf, bin) != 1)
			return;
		if (ctx_just_before(t, s, ctx_not_ip))
			cand_set(c, PII_IP, 10, PII_EV_PATTERN | PII_EV_NEGCTX, n.end);
		else
			cand_set(c, PII_IP, 90, PII_EV_PATTERN, n.end);
		return;
	}
dotted:
	if (n.end < len && t[n.end] == ':')
		return;
	if (is_date(&n))
		return;
	try_ssn(t, len, s, &n, c);
	try_krrn(t, len, s, &n, c);
	try_card(t, len, s, &n, c);
	if (c->score < PII_SCORE_THRESHOLD)
		try_phone(t, len, s, &n, whole, o, c);
}

/* ---- libphonenumber, loaded on first use ------------------------------------------ */

static int (*phone_fn)(const char *, const char *);
static pthread_once_t phone_once = PTHREAD_ONCE_INIT;

/* Whether this program runs from the build tree (tests, benchmarks): it loads the module
 * built next to it; an installed steward loads only the installed one. */
static int in_build_root(void)
{
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	size_t r = strlen(PII_BUILD_ROOT);

	return n > 0 && (size_t)n > r && !memcmp(exe, PII_BUILD_ROOT, r) && exe[r] == '/';
}

static const struct st_lazy_sym phone_syms[] = {{"pii_phone_valid", (void **)&phone_fn}};
static struct st_lazy phone_build =
	ST_LAZY_INIT(PII_PHONE_MODULE_BUILD, "phone numbers", "libphonenumber8", phone_syms);
static struct st_lazy phone_installed =
	ST_LAZY_INIT(PII_PHONE_MODULE, "phone numbers", "libphonenumber8", phone_syms);

/* Without the module (libphonenumber not installed), phone_fn stays NULL: no error. */
static void phone_load(void)
{
	struct st_error ignored = ST_ERROR_INIT;

	st_lazy_load(in_build_root() ? &phone_build : &phone_installed, &ignored);
}

/* Whether list (two-letter regions separated by ',', as pii_detect_regions() makes it) has
 * region. */
static int region_listed(const char *list, const char *region)
{
	for (const char *p = list; p[0] && p[1]; p += p[2] ? 3 : 2)
		if (p[0] == region[0] && p[1] == region[1])
			return 1;
	return 0;
}

/* pii_phone_valid() of the module for o's regions, the record's own first; without the
 * module (not installed), 2: the shape alone decides, as for a number of a possible
 * length. */
static int phone_valid(const char *num, const struct pii_detect_opts *o)
{
	char both[PII_REGIONS_LEN + 3];
	const char *r = o->regions ? o->regions : PII_PHONE_REGIONS;

	pthread_once(&phone_once, phone_load);
	if (!phone_fn)
		return 2;
	if (o->region[0] && !region_listed(r, o->region) && strlen(r) + 4 <= sizeof(both)) {
		memcpy(both, o->region, 2);
		both[2] = ',';
		memcpy(both + 3, r, strlen(r) + 1);
		r = both;
	}
	return phone_fn(num, r);
}

const char *pii_builtin_regions(void)
{
	return PII_PHONE_REGIONS;
}

int pii_region_code(const char *s, size_t n, char out[3])
{
	return catalog_region_code(s, n, out);
}

int pii_detect_regions(const char *declared, const char *workspace, char *out, size_t n)
{
	char ws[3];
	size_t at = 0;

	if (n < 3)
		return -1;
	out[0] = '\0';
	if (!workspace || pii_region_code(workspace, strlen(workspace), ws))
		ws[0] = '\0'; /* steward.yaml's own check is pii.default_country's calling code */
	for (int pass = 0; pass < 3; pass++) {
		const char *p = pass == 2 ? PII_PHONE_REGIONS : pass ? ws : declared ? declared : "";

		while (*p) {
			size_t k = strcspn(p, ",");
			char r[3];

			if (pii_region_code(p, k, r))
				return -1;
			p += k + (p[k] == ',');
			if (region_listed(out, r))
				continue;
			if (at + (at ? 3 : 2) >= n)
				return -1;
			if (at)
				out[at++] = ',';
			memcpy(out + at, r, 3);
			at += 2;
		}
	}
	return 0;
}

/* ---- the scanner ------------------------------------------------------------------- */

/* Whether the word starting at t[i] runs into an '@' through characters an address's local
 * part may hold: then the address is found at its '@', not a number inside it. */
static int runs_into_at(const char *t, size_t len, size_t i)
{
	while (i < len && local_char(t[i]))
		i++;
	return i < len && t[i] == '@';
}

/* The bytes that pii_detect_may_find() looks for: '@', ':', '0'-'9' and 0xEF. */
static const unsigned char may_find[256] = {
	[':'] = 1, ['@'] = 1, ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1,
	['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1, [0xEF] = 1,
};

int pii_detect_may_find(const char *text, size_t len)
{
	const unsigned char *t = (const unsigned char *)text;
	unsigned hit = 0;
	size_t i = 0;

	/* No branch on the data: free text is short, and mostly holds none of them. */
	for (; len - i >= 4; i += 4)
		hit |= may_find[t[i]] | may_find[t[i + 1]] | may_find[t[i + 2]] | may_find[t[i + 3]];
	for (; i < len; i++)
		hit |= may_find[t[i]];
	return hit != 0;
}

size_t pii_detect_with(const char *t, size_t len, const struct pii_detect_opts *o,
		       struct pii_match *out, size_t max)
{
	static const struct pii_detect_opts defaults = {0, NULL, ""};
	size_t found = 0, i = 0, last_end = 0;
	int min_score;

	if (!pii_detect_may_find(t, len))
		return 0;
	o = o ? o : &defaults;
	min_score = o->min_score > 0 ? o->min_score : PII_SCORE_THRESHOLD;

	while (i < len) {
		unsigned char c = (unsigned char)t[i];
		struct cand m = {-1, 0, 0, 0};
		size_t s = i, skip = 0;

		if (c == '@') {
			size_t es, ee;

			if (match_userinfo(t, i, &es, &ee))
				s = es, m = (struct cand){PII_URL_CRED, 90, PII_EV_PATTERN, ee};
			else if (match_email(t, len, i, &es, &ee))
				s = es, m = (struct cand){PII_EMAIL, 95, PII_EV_PATTERN, ee};
		} else if (c < 0x80 && !is_alnum((char)c) && c != '+' && c != '(' && c != ':') {
			i++;
			continue;
		} else if (c >= 0x80 && fw_digit(t, len, i) < 0 &&
			   !(len - i >= 3 && !memcmp(t + i, "\xef\xbc\x8b", 3))) {
			i++;
			continue;
		} else if (i > 0 && (is_word(t[i - 1]) || (c == ':' && t[i - 1] == ':'))) {
			i++; /* inside a word: not a start */
			continue;
		} else if (c < 0x80 && local_char((char)c) && runs_into_at(t, len, i)) {
			while (t[i] != '@')
				i++;
			continue;
		} else {
			size_t e;

			if ((is_hex((char)c) || c == ':') && (i == 0 || t[i - 1] != '.') &&
			    match_ipv6(t, len, i, &e))
				m = (struct cand){PII_IP, 90, PII_EV_PATTERN, e};
			else if (c != ':' && !is_alpha((char)c) && number_start(t, i))
				match_number(t, len, i, o, &m, &skip);
			else if (is_upper((char)c) && match_iban(t, len, i, &e))
				m = (struct cand){PII_IBAN, 95, PII_EV_PATTERN | PII_EV_CHECKSUM, e};
		}
		if (m.score <= 0) {
			/* the rest of a word is no start; anything else is looked at again */
			i = skip > i ? skip : i + (c >= 0x80 ? 3 : 1);
			continue;
		}
		if (s < last_end) { /* never two findings over the same bytes */
			i++;
			continue;
		}
		last_end = m.end;
		if (m.score >= min_score) {
			if (found < max)
				out[found] = (struct pii_match){m.kind, s, m.end, m.score, m.ev};
			found++;
		}
		i = m.end > i ? m.end : i + 1;
	}
	return found;
}

size_t pii_detect_scored(const char *t, size_t len, int min_score, struct pii_match *out,
			 size_t max)
{
	struct pii_detect_opts o = {min_score > 0 ? min_score : 1, NULL, ""};

	return pii_detect_with(t, len, &o, out, max);
}

size_t pii_detect(const char *t, size_t len, struct pii_match *out, size_t max)
{
	return pii_detect_with(t, len, NULL, out, max);
}

char *pii_redact(const char *text, size_t len, size_t *found)
{
	struct pii_match m[64];
	struct st_buf out;
	size_t at = 0, n, done = 0;

	*found = 0;
	st_buf_init(&out, len + 64 * 16 + 1);
	do {
		n = pii_detect(text + at, len - at, m, 64);
		if (!n)
			break;
		*found += n < 64 ? n : 64;
		for (size_t i = 0; i < n && i < 64; i++) {
			if (st_buf_add(&out, text + done, at + m[i].start - done) ||
			    st_buf_addf(&out, "<%s>", pii_kind_name(m[i].kind)))
				goto oom;
			done = at + m[i].end;
		}
		at = done; /* more than 64: go on after the last one replaced */
	} while (n > 64);
	if (!*found) {
		st_buf_release(&out);
		return NULL;
	}
	if (st_buf_add(&out, text + done, len - done))
		goto oom;
	return st_buf_detach(&out);
oom:
	st_buf_release(&out);
	return NULL;
}

/* ---- field rules: personal data by a field's name and type ---- */

enum { TY_TEXT = 1, TY_NUMBER = 2, TY_DATE = 4 };

static const struct {
	const char *names; /* normalised names, separated by '|' */
	unsigned types;
	struct pii_field_rule r;
} field_rules[] = {
	{"email|emailaddress|mail|mailaddress|useremail|customeremail|contactemail", TY_TEXT,
	 {"email", "direct", "user.contact.email"}},
	{"phone|phonenumber|mobile|mobilenumber|mobilephone|telephone|msisdn|cellphone", TY_TEXT | TY_NUMBER,
	 {"phone", "direct", "user.contact.phone_number"}},
	{"ip|ipaddress|ipaddr|clientip|remoteip|sourceip|userip", TY_TEXT,
	 {"ip_address", "indirect", "user.device.ip_address"}},
	{"ssn|socialsecuritynumber|nationalid|nationalidnumber|taxid", TY_TEXT | TY_NUMBER,
	 {"government_id", "sensitive", "user.government_id"}},
	{"cardnumber|creditcard|creditcardnumber|ccnumber|pan", TY_TEXT | TY_NUMBER,
	 {"card_number", "sensitive", "user.financial.credit_card"}},
	{"iban|bankaccount|accountnumber", TY_TEXT,
	 {"iban", "sensitive", "user.financial.bank_account"}},
	{"firstname|lastname|fullname|surname|givenname|familyname|customername",
	 TY_TEXT, {"person_name", "direct", "user.name"}},
	{"birthdate|dateofbirth|dob|birthday", TY_TEXT | TY_DATE,
	 {"date_of_birth", "indirect", "user.demographic.date_of_birth"}},
	{"address|streetaddress|homeaddress|street|postcode|postalcode|zipcode|zip", TY_TEXT,
	 {"postal_address", "direct", "user.contact.address"}},
};

static unsigned type_family(const char *type)
{
	char t[64];
	size_t n = 0;

	for (; type && *type && n + 1 < sizeof(t); type++)
		t[n++] = (char)(*type >= 'A' && *type <= 'Z' ? *type + 32 : *type);
	t[n] = '\0';
	if (strstr(t, "char") || strstr(t, "string") || strstr(t, "text") || strstr(t, "clob") ||
	    strstr(t, "json") || strstr(t, "inet") || strstr(t, "uuid"))
		return TY_TEXT;
	if (strstr(t, "date") || strstr(t, "time"))
		return TY_DATE;
	if (strstr(t, "int") || strstr(t, "num") || strstr(t, "dec") || strstr(t, "long"))
		return TY_NUMBER;
	return 0;
}

const struct pii_field_rule *pii_field_rule_match(const char *name, const char *type)
{
	const char *last = strrchr(name, '.');
	char norm[64];
	size_t n = 0;
	unsigned fam = type ? type_family(type) : TY_TEXT | TY_NUMBER | TY_DATE;

	for (const char *p = last ? last + 1 : name; *p; p++) {
		char c = *p;

		if (c == '_' || c == '-' || c == ' ')
			continue;
		if (n + 1 >= sizeof(norm))
			return NULL;
		norm[n++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	norm[n] = '\0';
	if (!n)
		return NULL;
	for (size_t i = 0; i < sizeof(field_rules) / sizeof(*field_rules); i++) {
		const char *w = field_rules[i].names;

		if (!(field_rules[i].types & fam))
			continue;
		while (*w) {
			size_t len = strcspn(w, "|");

			if (len == n && !memcmp(w, norm, n))
				return &field_rules[i].r;
			w += len + (w[len] == '|');
		}
	}
	return NULL;
}
