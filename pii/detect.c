/* Detectors for PII inside free text. Each candidate is validated (Luhn, mod-97, RRN
 * checksum, address parsers) so that ordinary numbers and words are left alone. */
#include "pii.h"
#include "buf.h"

#include <arpa/inet.h>
#include <string.h>

static const char *const kind_names[PII_KIND_COUNT] = {
	"email", "phone", "card", "ip", "iban", "ssn", "krrn",
};

static const char *const kind_categories[PII_KIND_COUNT] = {
	"user.contact.email",
	"user.contact.phone_number",
	"user.financial.credit_card",
	"user.device.ip_address",
	"user.financial.bank_account",
	"user.government_id.national_identification_number",
	"user.government_id.national_identification_number",
};

const char *pii_kind_name(int kind)
{
	return kind >= 0 && kind < PII_KIND_COUNT ? kind_names[kind] : "?";
}

const char *pii_kind_category(int kind)
{
	return kind >= 0 && kind < PII_KIND_COUNT ? kind_categories[kind] : NULL;
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_alnum(char c)
{
	return is_digit(c) || is_alpha(c);
}

static int is_hex(char c)
{
	return is_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
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
		if (s[i] != ' ') {
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

/* YYMMDD-GNNNNNC: a plausible date, a gender/century digit 1-8, and the check digit. */
int pii_krrn_ok(const char *s, size_t n)
{
	static const int w[12] = {2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5};
	int d[13], k = 0, sum = 0, month, day;

	if (n != 14 || s[6] != '-')
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (i == 6)
			continue;
		if (!is_digit(s[i]))
			return 0;
		d[k++] = s[i] - '0';
	}
	month = d[2] * 10 + d[3];
	day = d[4] * 10 + d[5];
	if (month < 1 || month > 12 || day < 1 || day > 31 || d[6] < 1 || d[6] > 8)
		return 0;
	for (int i = 0; i < 12; i++)
		sum += d[i] * w[i];
	return (11 - sum % 11) % 10 == d[12];
}

/* Characters that may surround a match without making it part of a longer token. */
static int boundary_before(const char *t, size_t i)
{
	return i == 0 || !(is_alnum(t[i - 1]) || t[i - 1] == '_');
}

/* A number may not start inside a dotted or dashed run (a version, a date, an id). */
static int number_boundary_before(const char *t, size_t i)
{
	return i == 0 || !(is_alnum(t[i - 1]) || t[i - 1] == '_' || t[i - 1] == '.' ||
			   t[i - 1] == '-' || t[i - 1] == '/');
}

static int boundary_after(const char *t, size_t len, size_t i)
{
	return i >= len || !(is_alnum(t[i]) || t[i] == '_');
}

static int local_char(char c)
{
	return is_alnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}

/* An e-mail address around the '@' at position at. */
static int match_email(const char *t, size_t len, size_t at, size_t *s, size_t *e)
{
	size_t a = at, b = at + 1, last_dot, tld = 0;

	while (a > 0 && local_char(t[a - 1]))
		a--;
	while (a < at && t[a] == '.')
		a++;
	if (a == at)
		return 0;
	while (b < len && (is_alnum(t[b]) || t[b] == '-' || t[b] == '.'))
		b++;
	while (b > at + 1 && (t[b - 1] == '.' || t[b - 1] == '-'))
		b--;
	for (last_dot = b; last_dot > at && t[last_dot - 1] != '.'; last_dot--)
		;
	if (last_dot-- <= at + 2)
		return 0;
	for (size_t i = last_dot + 1; i < b; i++)
		tld += is_alpha(t[i]) ? 1 : 100;
	if (tld < 2 || tld > 63)
		return 0;
	*s = a;
	*e = b;
	return 1;
}

/* Digits with single spaces or dashes between groups, starting at i. Returns the end and
 * the digit count; stops before a separator not followed by a digit. */
static size_t digit_run(const char *t, size_t len, size_t i, size_t *ndigits, int seps)
{
	size_t n = 0;

	while (i < len) {
		if (is_digit(t[i])) {
			n++;
			i++;
		} else if (seps && (t[i] == ' ' || t[i] == '-') && i + 1 < len && is_digit(t[i + 1]) &&
			   n) {
			i++;
		} else {
			break;
		}
	}
	*ndigits = n;
	return i;
}

static int match_ipv4(const char *t, size_t len, size_t i, size_t *e)
{
	char buf[16];
	size_t j = i, m;
	unsigned char bin[4];

	while (j < len && (is_digit(t[j]) || t[j] == '.') && j - i < 15)
		j++;
	while (j > i && t[j - 1] == '.')
		j--;
	m = j - i;
	if (m < 7 || !boundary_after(t, len, j) || (j < len && t[j] == '.'))
		return 0;
	memcpy(buf, t + i, m);
	buf[m] = '\0';
	if (inet_pton(AF_INET, buf, bin) != 1)
		return 0;
	*e = j;
	return 1;
}

static int match_ipv6(const char *t, size_t len, size_t i, size_t *e)
{
	char buf[64];
	size_t j = i, colons = 0;
	unsigned char bin[16];

	while (j < len && (is_hex(t[j]) || t[j] == ':' || t[j] == '.') && j - i < 45) {
		colons += t[j] == ':';
		j++;
	}
	while (j > i && t[j - 1] == '.')
		j--;
	if (colons < 2 || !boundary_after(t, len, j))
		return 0;
	memcpy(buf, t + i, j - i);
	buf[j - i] = '\0';
	if (inet_pton(AF_INET6, buf, bin) != 1)
		return 0;
	*e = j;
	return 1;
}

static int match_ssn(const char *t, size_t len, size_t i, size_t *e)
{
	const char *p = t + i;
	int area, group, serial;

	if (len - i < 11 || p[3] != '-' || p[6] != '-' || !boundary_after(t, len, i + 11))
		return 0;
	for (int k = 0; k < 11; k++)
		if (k != 3 && k != 6 && !is_digit(p[k]))
			return 0;
	area = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
	group = (p[4] - '0') * 10 + (p[5] - '0');
	serial = (p[7] - '0') * 1000 + (p[8] - '0') * 100 + (p[9] - '0') * 10 + (p[10] - '0');
	if (area == 0 || area == 666 || area >= 900 || group == 0 || serial == 0)
		return 0;
	*e = i + 11;
	return 1;
}

static int match_iban(const char *t, size_t len, size_t i, size_t *e)
{
	size_t j = i + 4, m = 4;

	if (len - i < 15 || !is_alpha(t[i]) || !is_alpha(t[i + 1]) || !is_digit(t[i + 2]) ||
	    !is_digit(t[i + 3]) || t[i] < 'A' || t[i] > 'Z' || t[i + 1] < 'A' || t[i + 1] > 'Z')
		return 0;
	while (j < len && m < 34) {
		if (is_alnum(t[j])) {
			j++;
			m++;
		} else if (t[j] == ' ' && j + 1 < len && is_alnum(t[j + 1]) && (j - i) % 5 == 4) {
			j++; /* printed in groups of four */
		} else {
			break;
		}
	}
	if (!boundary_after(t, len, j))
		return 0;
	/* The longest prefix that checks out, so a following word is not swallowed. */
	for (size_t end = j; end >= i + 15; end--) {
		if (t[end - 1] == ' ' || !boundary_after(t, len, end))
			continue;
		if (pii_iban_ok(t + i, end - i)) {
			*e = end;
			return 1;
		}
	}
	return 0;
}

/* International (+, 8-15 digits) or national with a trunk 0 (9-11 digits, grouped). */
static int match_phone(const char *t, size_t len, size_t i, size_t *e)
{
	size_t j = i, n = 0, groups = 1;
	int intl = t[i] == '+', paren = 0;

	if (intl)
		j++;
	while (j < len) {
		char c = t[j];

		if (is_digit(c)) {
			n++;
			j++;
		} else if ((c == ' ' || c == '-' || c == '.') && j + 1 < len &&
			   (is_digit(t[j + 1]) || t[j + 1] == '(') && n) {
			groups++;
			j++;
		} else if (c == '(' && !paren && j + 1 < len && is_digit(t[j + 1])) {
			paren = 1;
			j++;
		} else if (c == ')' && paren == 1) {
			paren = 2;
			j++;
		} else {
			break;
		}
	}
	if (!boundary_after(t, len, j) || paren == 1)
		return 0;
	if (intl ? (n < 8 || n > 15) : (t[i] != '0' || n < 9 || n > 11 || groups < 2))
		return 0;
	*e = j;
	return 1;
}

size_t pii_detect(const char *t, size_t len, struct pii_match *out, size_t max)
{
	size_t found = 0, i = 0;

	while (i < len) {
		size_t s = i, e = 0, nd;
		int kind = -1;
		char c = t[i];

		if (c == '@') {
			size_t es, ee;

			if (match_email(t, len, i, &es, &ee)) {
				s = es;
				e = ee;
				kind = PII_EMAIL;
			}
		} else if (!boundary_before(t, i) && c != '+') {
			i++;
			continue;
		} else if (is_digit(c) && !number_boundary_before(t, i)) {
			i++;
			continue;
		} else if (is_digit(c)) {
			if (match_ssn(t, len, i, &e))
				kind = PII_SSN;
			else if (len - i >= 14 && pii_krrn_ok(t + i, 14) && boundary_after(t, len, i + 14))
				kind = PII_KRRN, e = i + 14;
			else if (match_ipv4(t, len, i, &e))
				kind = PII_IP;
			else if (match_ipv6(t, len, i, &e))
				kind = PII_IP;
			else {
				size_t end = digit_run(t, len, i, &nd, 1);

				if (nd >= 13 && nd <= 19 && boundary_after(t, len, end) &&
				    pii_luhn_ok(t + i, end - i))
					kind = PII_CARD, e = end;
				else if (match_phone(t, len, i, &e))
					kind = PII_PHONE;
			}
		} else if (c == '+' || c == '(') {
			if (match_phone(t, len, i, &e))
				kind = PII_PHONE;
		} else if (is_hex(c) || c == ':') {
			if (match_ipv6(t, len, i, &e))
				kind = PII_IP;
			else if (match_iban(t, len, i, &e))
				kind = PII_IBAN;
		} else if (is_alpha(c) && match_iban(t, len, i, &e)) {
			kind = PII_IBAN;
		}
		if (kind < 0) {
			/* Skip the rest of this token so its tail is not read as a new start. */
			i++;
			while (i < len && (is_alnum(t[i]) || t[i] == '_'))
				i++;
			continue;
		}
		if (kind == PII_EMAIL && found && found <= max && out[found - 1].end > s)
			found--; /* the local part held a match (e.g. digits): the address wins */
		if (found < max)
			out[found] = (struct pii_match){kind, s, e};
		found++;
		i = e;
	}
	return found;
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
