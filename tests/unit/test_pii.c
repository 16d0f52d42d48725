/* Unit tests for pii/: published BLAKE2b keyed vectors, steward's own pseudonym vectors
 * (also in docs/pseudonyms.md), normalizers, transforms and detectors with valid and
 * invalid checksums. */
#include "blake2b.h"
#include "harness.h"
#include "norm_int.h"
#include "pii.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

static void hex(const unsigned char *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

static void test_blake2b_kat(void)
{
	unsigned char key[64], in[255], out[64];
	char h[129];

	for (int i = 0; i < 64; i++)
		key[i] = (unsigned char)i;
	for (int i = 0; i < 255; i++)
		in[i] = (unsigned char)i;
	/* BLAKE2 reference test vectors (testvectors/blake2b-kat.txt), keyed mode. */
	crypto_generichash(out, 64, in, 0, key, 64);
	hex(out, 64, h);
	CHECK_STR(h, "10ebb67700b1868efb4417987acf4690ae9d972fb7a590c2f02871799aaa4786"
		     "b5e996e8f0f4eb981fc214b005f42d2ff4233499391653df7aefcbc13fc51568");
	crypto_generichash(out, 64, in, 1, key, 64);
	hex(out, 64, h);
	CHECK_STR(h, "961f6dd1e4dd30f63901690c512e78e4b45e4742ed197c3c5e45c549fd25f2e4"
		     "187b0bc9fe30492b16b0d0bc4ef9b0f34c7003fac09a5ef1532e69430234cebd");
	crypto_generichash(out, 64, in, 255, key, 64);
	hex(out, 64, h);
	CHECK_STR(h, "142709d62e28fcccd0af97fad0f8465b971e82201dc51070faa0372aa43e9248"
		     "4be1c1e73ba10906d5d1853db6a4106e0a7bf9800d373d6dee2d46d62ef2a461");
}

/* The cached-key BLAKE2b agrees with libsodium's for every length around block edges. */
static void test_b2b_matches_libsodium(void)
{
	unsigned char key[64], msg[400], a[64], b[64];
	size_t bad = 0, runs = 0;

	randombytes_buf(msg, sizeof(msg));
	for (size_t keylen = 1; keylen <= 64; keylen += 21)
		for (size_t outlen = 1; outlen <= 64; outlen += 17)
			for (size_t n = 0; n <= 300; n++) {
				struct pii_b2b s;

				randombytes_buf(key, keylen);
				pii_b2b_init(&s, key, keylen, outlen);
				pii_b2b_digest(&s, msg, n, a);
				crypto_generichash(b, outlen, msg, n, key, keylen);
				bad += memcmp(a, b, outlen) != 0;
				runs++;
			}
	printf("# %zu digests compared\n", runs);
	CHECK(bad == 0);
}

static void test_vectors(void)
{
	static const struct {
		const char *category, *value, *want;
	} v[] = {
		{"user.contact.email", "a@b.com", "k1:iRF48oXGPfxOI-10nmq6porn"},
		{"user.contact.email", "jiho.kim@example.com", "k1:ovWMN67COzrbbGWz2EHCyPkl"},
		{"user.name", "jiho.kim@example.com", "k1:bPsZCRwKxkPwBI-JK42164_k"},
		{"user.contact.phone_number", "+821012345678", "k1:VLHkGeRgKb7PdIJ84gCXxLbZ"},
		{"user.device.ip_address", "2001:db8::1", "k1:KuTdoW1F1789ZN09g4VfhAnf"},
		{"user.unique_id", "12345", "k1:Ee_PsER5_1T6aN9pCZtq9ePM"},
		{"user.unique_id", "", "k1:xg18_5OzWMgzyRzOZxQ-Qjei"},
	};
	unsigned char secret[PII_KEY_BYTES];
	struct pii_key key = {"k1", 1, PII_KEY_CURRENT, "", secret};
	struct st_error err = ST_ERROR_INIT;
	struct pii_pseudonymizer *h = NULL;
	char out[PII_PSEUDONYM_MAX];

	for (int i = 0; i < PII_KEY_BYTES; i++)
		secret[i] = (unsigned char)i;
	CHECK(pii_pseudonymizer_new(&h, &key, &err) == 0);
	for (size_t i = 0; i < sizeof(v) / sizeof(*v); i++) {
		CHECK(pii_pseudonym(h, v[i].category, v[i].value, strlen(v[i].value), out, &err) ==
		      27);
		CHECK_STR(out, v[i].want);
	}
	pii_pseudonymizer_free(h);
}

static void check_norm(int kind, const char *in, const char *cc, const char *want)
{
	char out[PII_NORM_MAX], vout[PII_NORM_MAX];
	const char *res;
	int n = pii_normalize(kind, in, strlen(in), cc, out);
	int vn = pii_normalize_view(kind, in, strlen(in), cc, vout, &res);

	/* The pseudonymizer's form, which may point into in, gives the same bytes. */
	t_check(vn == n && (n < 0 || !memcmp(res, out, (size_t)n)), in, __FILE__, __LINE__);
	if (!want) {
		if (!t_check(n < 0, in, __FILE__, __LINE__))
			printf("#   normalized to '%s'\n", out);
		return;
	}
	if (n < 0)
		snprintf(out, sizeof(out), "(rejected)");
	t_streq(out, want, in, __FILE__, __LINE__);
}

static void test_normalizers(void)
{
	check_norm(PII_NORM_EMAIL, "  Jiho.Kim@Example.COM\n", NULL, "jiho.kim@example.com");
	check_norm(PII_NORM_EMAIL, "jiho.kim@example.com", NULL, "jiho.kim@example.com");
	check_norm(PII_NORM_EMAIL, "no-at-sign", NULL, NULL);
	check_norm(PII_NORM_EMAIL, "a b@c.d", NULL, NULL);
	check_norm(PII_NORM_EMAIL, " lowercase.and.long@example.org ", NULL,
		   "lowercase.and.long@example.org");
	check_norm(PII_NORM_EMAIL, "lowercase.and.long@example.Org", NULL,
		   "lowercase.and.long@example.org");
	check_norm(PII_NORM_EMAIL, "lowercase.and.long@exa\tmple.org", NULL, NULL);
	check_norm(PII_NORM_EMAIL, "lowercase.and.long@exa mple.org", NULL, NULL);
	check_norm(PII_NORM_EMAIL, "Lowercase.and.long@exa mple.org", NULL, NULL);
	check_norm(PII_NORM_EMAIL, "l@\xc3\xa9x.Z", NULL, "l@\xc3\xa9x.z");
	check_norm(PII_NORM_EMAIL, "@example.com", NULL, NULL);
	check_norm(PII_NORM_PHONE, "+82 10-1234-5678", "82", "+821012345678");
	check_norm(PII_NORM_PHONE, "010-1234-5678", "82", "+821012345678");
	check_norm(PII_NORM_PHONE, "0082 10 1234 5678", "1", "+821012345678");
	check_norm(PII_NORM_PHONE, "+1 (415) 555-0100", "82", "+14155550100");
	check_norm(PII_NORM_PHONE, "(415) 555-0100", "1", "+14155550100");
	check_norm(PII_NORM_PHONE, "010-1234-5678", NULL, NULL);
	check_norm(PII_NORM_PHONE, "+82 10-CALL-ME", "82", NULL);
	check_norm(PII_NORM_PHONE, "+1234", "82", NULL);
	check_norm(PII_NORM_IP, " 192.168.001.1", NULL, NULL);
	check_norm(PII_NORM_IP, "192.168.1.1", NULL, "192.168.1.1");
	check_norm(PII_NORM_IP, "2001:0DB8:0000:0000:0000:0000:0000:0001", NULL, "2001:db8::1");
	check_norm(PII_NORM_IP, "2001:db8::1", NULL, "2001:db8::1");
	check_norm(PII_NORM_IP, "::ffff:10.0.0.1", NULL, "10.0.0.1");
	check_norm(PII_NORM_IP, "300.1.1.1", NULL, NULL);
	CHECK(pii_norm_for_category("user.contact.email") == PII_NORM_EMAIL);
	CHECK(pii_norm_for_category("user.name") == PII_NORM_NONE);
	CHECK_STR(pii_country_calling_code("kr"), "82");
	CHECK(pii_country_calling_code("XX") == NULL);
}

/* An IP address text and its normal form (NULL: not an address). */
struct ip_case {
	const char *in, *want;
};

static void check_ips(const struct ip_case *t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		check_norm(PII_NORM_IP, t[i].in, NULL, t[i].want);
}

/* The IPv6 formatter agrees with inet_ntop (RFC 5952) on addresses with zero runs of every
 * length and place. IPv4-compatible ::a.b.c.d is left out: inet_ntop writes it dotted. */
static void test_ipv6_format(void)
{
	unsigned char bin[16];
	char text[64], want[64], alt[64], got[PII_NORM_MAX];
	const char *res;
	size_t bad = 0, runs = 0;
	int n;

	for (int i = 0; i < 20000; i++) {
		randombytes_buf(bin, sizeof(bin));
		for (int g = 0; g < 8; g++)
			if (randombytes_uniform(3) == 0)
				bin[2 * g] = bin[2 * g + 1] = 0;
		if (randombytes_uniform(4) == 0)
			bin[2 * randombytes_uniform(8)] = 0; /* short groups */
		if (!memcmp(bin, "\0\0\0\0\0\0\0\0\0\0", 10) &&
		    ((bin[10] == 0 && bin[11] == 0) || (bin[10] == 0xff && bin[11] == 0xff)))
			continue;
		inet_ntop(AF_INET6, bin, want, sizeof(want));
		/* Feed an uncompressed spelling so the normalizer does the work. */
		snprintf(text, sizeof(text), "%x:%x:%x:%x:%x:%x:%x:%x", bin[0] << 8 | bin[1],
			 bin[2] << 8 | bin[3], bin[4] << 8 | bin[5], bin[6] << 8 | bin[7],
			 bin[8] << 8 | bin[9], bin[10] << 8 | bin[11], bin[12] << 8 | bin[13],
			 bin[14] << 8 | bin[15]);
		if (pii_normalize(PII_NORM_IP, text, strlen(text), NULL, got) < 0 || strcmp(got, want)) {
			if (!bad++)
				printf("#   %s: got %s, want %s\n", text, got, want);
		}
		/* The normal form itself is taken where it is, and gives the same text. */
		n = pii_normalize_view(PII_NORM_IP, want, strlen(want), NULL, got, &res);
		if (n != (int)strlen(want) || res != want) {
			if (!bad++)
				printf("#   %s: not taken in place\n", want);
		}
		/* Other spellings of it, which inet_pton() takes, are not. */
		for (int v = 0; v < 3; v++) {
			size_t m = strlen(want);

			memcpy(alt, want, m + 1);
			if (v == 0) /* a capital */
				for (size_t k = 0; k < m; k++)
					alt[k] = (char)toupper((unsigned char)alt[k]);
			else if (v == 1 && strlen(strrchr(want, ':')) < 5) /* a leading zero */
				snprintf(alt, sizeof(alt), "%.*s0%s", (int)(strrchr(want, ':') + 1 - want),
					 want, strrchr(want, ':') + 1);
			else /* uncompressed, as text */
				memcpy(alt, text, strlen(text) + 1);
			if (!strcmp(alt, want) || strlen(alt) >= PII_NORM_MAX)
				continue;
			n = pii_normalize_view(PII_NORM_IP, alt, strlen(alt), NULL, got, &res);
			if (n < 0 || res != got || strcmp(got, want)) {
				if (!bad++)
					printf("#   %s: got %s, want %s\n", alt, n < 0 ? "an error" : res, want);
			}
		}
		runs++;
	}
	printf("# %zu addresses compared\n", runs);
	CHECK(bad == 0);
	/* Valid spellings that are not the normal form, the shortest forms, and texts that are no
	 * address. */
	static const struct ip_case narrow[] = {
		{"1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"},
		{"1::2:3:4:5:6:7", "1:0:2:3:4:5:6:7"},
		{"1:0::2", "1::2"},
		{"1::0:2", "1::2"},
		{"1:0:0:2::3", "1:0:0:2::3"},
		{"1::2:0:0:3", "1::2:0:0:3"},
		{"1:0:0:2::3:4", "1::2:0:0:3:4"},
		{"::ffff:a00:1", "10.0.0.1"},
		{"::ffff:0:0", "0.0.0.0"},
		{"::1", "::1"},
		{"1::", "1::"},
		{" 2001:db8::1\t", "2001:db8::1"},
		{"::1.2.3.4", "::102:304"},
		{"1:::2", NULL},
		{"1::2::3", NULL},
		{"::1:", NULL},
		{":1::2", NULL},
		{"12345::1", NULL},
		{"1:2:3:4:5:6:7:8:9", NULL},
		{"1:2:3:4:5:6:7", NULL},
		{"g::1", NULL},
		{"::", "::"},
		{"1:0:0:2:0:0:0:3", "1:0:0:2::3"},
		{"1:0:0:2:3:0:0:4", "1::2:3:0:0:4"},
		{"1:2:3:4:5:6:7:0", "1:2:3:4:5:6:7:0"},
	};

	check_ips(narrow, sizeof(narrow) / sizeof(*narrow));
	/* 16 bytes and more, which canonical_ipv6() first checks by masks */
	static const struct ip_case wide[] = {
		{"2001:db8:5a1:8d8b::26a6", "2001:db8:5a1:8d8b::26a6"},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2:3:4:5:6"},
		{"2001:db8::1:2:3:4:5", "2001:db8:0:1:2:3:4:5"},
		{"2001:db8:1:2:3:4:5:6:7", NULL},
		{"2001:db8:1:2:3:4:5::", "2001:db8:1:2:3:4:5:0"},
		{"abcd:ef01:2345:6789:abcd:ef01:2345:6789", "abcd:ef01:2345:6789:abcd:ef01:2345:6789"},
		{"abcd:ef01:2345:6789:abcd:ef01:2345:06789", NULL},
		{"abcd:ef01:2345:6789:abcd:ef01:2345:0789", "abcd:ef01:2345:6789:abcd:ef01:2345:789"},
		{"2001:db8:5a1:8d8b:::26a6", NULL},
		{"2001:db8::8d8b::26a6", NULL},
		{"2001:db8:5a1:8d8b::26A6", "2001:db8:5a1:8d8b::26a6"},
		{"2001:db8:5a1:8d8b:0:0:0:1", "2001:db8:5a1:8d8b::1"},
		{"2001:db8:5a1:8d8b::1.2.3.4", "2001:db8:5a1:8d8b::102:304"},
		{":2001:db8:5a1:8d8b::26a6", NULL},
		{"2001:db8:5a1:8d8b::26a6:", NULL},
		{"2001:db8:5a1:8d8b:26a6g::", NULL},
	};

	check_ips(wide, sizeof(wide) / sizeof(*wide));
}

static void test_transforms(void)
{
	char out[64];

	CHECK(pii_mask("4111111111111111", 16, out, sizeof(out)) == 16);
	CHECK_STR(out, "************1111");
	CHECK(pii_mask("1234567", 7, out, sizeof(out)) == 7);
	CHECK_STR(out, "*******");
	CHECK(pii_mask("카드번호12345678", strlen("카드번호12345678"), out, sizeof(out)) > 0);
	CHECK_STR(out, "********5678");
	CHECK(pii_mask("4111111111111111", 16, out, 8) == -1);
	CHECK(pii_truncate(PII_TRUNC_DATE, "1987-05-12", 10, out, sizeof(out)) == 4);
	CHECK_STR(out, "1987");
	CHECK(pii_truncate(PII_TRUNC_DATE, "2026-03-01T10:00:00Z", 20, out, sizeof(out)) == 4);
	CHECK(pii_truncate(PII_TRUNC_DATE, "May 1987", 8, out, sizeof(out)) == -1);
	CHECK(pii_truncate(PII_TRUNC_IP, "203.0.113.77", 12, out, sizeof(out)) > 0);
	CHECK_STR(out, "203.0.113.0/24");
	CHECK(pii_truncate(PII_TRUNC_IP, "2001:db8:abcd:12:34::1", 22, out, sizeof(out)) > 0);
	CHECK_STR(out, "2001:db8:abcd::/48");
	CHECK(pii_truncate(PII_TRUNC_COORD, "37.566535", 9, out, sizeof(out)) == 5);
	CHECK_STR(out, "37.56");
	CHECK(pii_truncate(PII_TRUNC_COORD, "-122.4194", 9, out, sizeof(out)) == 7);
	CHECK_STR(out, "-122.41");
	CHECK(pii_truncate(PII_TRUNC_COORD, "north", 5, out, sizeof(out)) == -1);
	CHECK(pii_transform_parse("mask") == PII_T_MASK);
	CHECK(pii_transform_parse("scramble") == -1);
}

/* Detects in text and compares "kind:matched text" lists. */
static void check_detect(const char *text, const char *want)
{
	struct pii_match m[8];
	char got[512] = "";
	size_t n = pii_detect(text, strlen(text), m, 8), off = 0;

	for (size_t i = 0; i < n && i < 8; i++)
		off += (size_t)snprintf(got + off, sizeof(got) - off, "%s%s:%.*s", i ? " " : "",
					pii_kind_name(m[i].kind), (int)(m[i].end - m[i].start),
					text + m[i].start);
	t_streq(got, want, text, __FILE__, __LINE__);
}

static void test_detectors(void)
{
	check_detect("python for data science", "");
	check_detect("contact me at Jiho.Kim@example.com please", "email:Jiho.Kim@example.com");
	check_detect("mail a@b.c or x@y.co.kr.", "email:x@y.co.kr");
	check_detect("call +82 10-1234-5678 or 010-9876-5432", "phone:+82 10-1234-5678 phone:010-9876-5432");
	check_detect("card 4111 1111 1111 1111 ok", "card:4111 1111 1111 1111");
	check_detect("card 4111111111111112 bad luhn", "");
	check_detect("amex 378282246310005", "card:378282246310005");
	check_detect("from 203.0.113.9 and 2001:db8::1", "ip:203.0.113.9 ip:2001:db8::1");
	check_detect("version 1.2.3.4.5 and 999.1.1.1", "");
	check_detect("IBAN GB82 WEST 1234 5698 7654 32 thanks", "iban:GB82 WEST 1234 5698 7654 32");
	check_detect("IBAN GB82WEST12345698765433", "");
	check_detect("DE89370400440532013000", "iban:DE89370400440532013000");
	check_detect("ssn 123-45-6789", "ssn:123-45-6789");
	check_detect("ssn 666-45-6789 000-12-3456 123-00-4567", "");
	check_detect("rrn 900101-1234568", "krrn:900101-1234568");
	/* the check digit is evidence only: numbers issued since October 2020 have none */
	check_detect("rrn 900101-1234567", "krrn:900101-1234567");
	check_detect("rrn 901301-1234567", "");
	check_detect("order 12345 on 2026-03-01", "");
	CHECK(pii_luhn_ok("4111111111111111", 16));
	CHECK(!pii_luhn_ok("4111111111111112", 16));
	CHECK(pii_iban_ok("GB82WEST12345698765432", 22));
	CHECK(!pii_iban_ok("GB82WEST12345698765433", 22));
	CHECK(pii_krrn_ok("900101-1234568", 14));
	CHECK(!pii_krrn_ok("901301-1234568", 14));
	CHECK_STR(pii_kind_category(PII_CARD), "user.financial.credit_card");
}

/* The detectors' field rules: name (last path element, case, '_', '-' and spaces ignored)
 * and type family together. */
static void test_field_rules(void)
{
	const struct pii_field_rule *r;

	r = pii_field_rule_match("contact.Email_Address", "VARCHAR(255)");
	CHECK(r && !strcmp(r->rule, "email") && !strcmp(r->cls, "direct") &&
	      !strcmp(r->category, "user.contact.email"));
	r = pii_field_rule_match("phone-number", "BIGINT");
	CHECK(r && !strcmp(r->rule, "phone"));
	r = pii_field_rule_match("date_of_birth", "DATE");
	CHECK(r && !strcmp(r->category, "user.demographic.date_of_birth"));
	r = pii_field_rule_match("ip_address", NULL);
	CHECK(r && !strcmp(r->cls, "indirect"));
	CHECK(pii_field_rule_match("email", "BOOLEAN") == NULL);     /* a flag, not an address */
	CHECK(pii_field_rule_match("first_name", "INTEGER") == NULL); /* wrong type */
	CHECK(pii_field_rule_match("email_count", "BIGINT") == NULL); /* the whole name counts */
	CHECK(pii_field_rule_match("zipper", "STRING") == NULL);
	CHECK(pii_field_rule_match("", "STRING") == NULL);
}

/* IPv4 text that is already in its normal form is copied, not parsed: the normalizer must
 * still say what inet_pton() says of every spelling (leading zeros, octets over 255, too few
 * or too many parts, stray characters). */
static void test_ipv4_forms(void)
{
	static const char *const parts[] = {"0", "1", "9", "10", "99", "100", "199", "255", "256",
					    "300", "999", "1000", "00", "01", "001", "010", "0255",
					    "", "a", "-1", "+1", " 1"};
	const size_t np = sizeof(parts) / sizeof(*parts);
	char text[64], want[PII_NORM_MAX], got[PII_NORM_MAX];
	size_t bad = 0, runs = 0;

	for (int i = 0; i < 20000; i++) {
		unsigned char bin[4];
		int k = 2 + (int)randombytes_uniform(4), n = 0, w, r;

		for (int j = 0; j < k; j++)
			n += snprintf(text + n, sizeof(text) - (size_t)n, "%s%s", j ? "." : "",
				      parts[randombytes_uniform((uint32_t)np)]);
		if (randombytes_uniform(8) == 0)
			n += snprintf(text + n, sizeof(text) - (size_t)n, "%s",
				      randombytes_uniform(2) ? " " : ".");
		w = inet_pton(AF_INET, text[0] == ' ' ? text + 1 : text, bin) == 1;
		/* trailing white space is trimmed; inet_pton() does not trim */
		if (!w && n && text[n - 1] == ' ') {
			text[n - 1] = '\0';
			w = inet_pton(AF_INET, text[0] == ' ' ? text + 1 : text, bin) == 1;
			text[n - 1] = ' ';
		}
		if (w)
			snprintf(want, sizeof(want), "%u.%u.%u.%u", bin[0], bin[1], bin[2], bin[3]);
		r = pii_normalize(PII_NORM_IP, text, (size_t)n, NULL, got) >= 0;
		if (r != w || (w && strcmp(got, want))) {
			if (!bad++)
				printf("#   '%s': got %s, want %s\n", text, r ? got : "an error",
				       w ? want : "an error");
		}
		runs++;
	}
	printf("# %zu IPv4 spellings compared with inet_pton\n", runs);
	CHECK(bad == 0);
	check_norm(PII_NORM_IP, "0.0.0.0", NULL, "0.0.0.0");
	check_norm(PII_NORM_IP, "255.255.255.255", NULL, "255.255.255.255");
	check_norm(PII_NORM_IP, "1.2.3.04", NULL, NULL);
	check_norm(PII_NORM_IP, "1.2.3", NULL, NULL);
	check_norm(PII_NORM_IP, "1.2.3.4.5", NULL, NULL);
	/* the branch-free check of the normal form: each length from 7 to 15, each octet's
	 * length, the edges of 255 and of leading zeros */
	static const struct ip_case edges[] = {
		{"1.2.3.4", "1.2.3.4"},
		{"1.2.3.45", "1.2.3.45"},
		{"12.3.4.5", "12.3.4.5"},
		{"1.234.5.6", "1.234.5.6"},
		{"1.2.255.4", "1.2.255.4"},
		{"199.2.3.255", "199.2.3.255"},
		{"255.255.255.25", "255.255.255.25"},
		{"10.0.100.9", "10.0.100.9"},
		{"1.2.3.256", NULL},
		{"256.2.3.4", NULL},
		{"1.260.3.4", NULL},
		{"1.2.3.4.", NULL},
		{".1.2.3.4", NULL},
		{"1..2.3", NULL},
		{"1.2.3.", NULL},
		{"1.2.3.4a", NULL},
		{"01.2.3.4", NULL},
		{"1.2.3.0", "1.2.3.0"},
		{"1.2.3.00", NULL},
		{"1.2.3.1000", NULL},
		{"1.2.3.4 ", "1.2.3.4"},
		{"123.123.123.123", "123.123.123.123"},
	};

	check_ips(edges, sizeof(edges) / sizeof(*edges));
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	test_blake2b_kat();
	test_b2b_matches_libsodium();
	test_vectors();
	test_normalizers();
	test_ipv6_format();
	test_ipv4_forms();
	test_transforms();
	test_detectors();
	test_field_rules();
	return t_done();
}
