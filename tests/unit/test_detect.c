/* Unit tests for the free-text scanner (pii/detect.c): a value is found after any run of
 * non-word characters and next to Korean or Japanese text, covers its whole span (digit
 * groups, IBAN groups, IPv6 with "::"), and the look-alikes of each type are refused. */
#include "harness.h"
#include "pii.h"
#include "detect_int.h"

#include <stdio.h>
#include <string.h>

/* Detects in text and compares "kind:matched text" lists (findings at the threshold). */
static void check(const char *text, const char *want, int line)
{
	struct pii_match m[8];
	char got[512] = "";
	size_t n = pii_detect(text, strlen(text), m, 8), off = 0;

	for (size_t i = 0; i < n && i < 8; i++)
		off += (size_t)snprintf(got + off, sizeof(got) - off, "%s%s:%.*s", i ? " " : "",
					pii_kind_name(m[i].kind), (int)(m[i].end - m[i].start),
					text + m[i].start);
	t_streq(got, want, text, __FILE__, line);
}
#define CHECK_DETECT(text, want) check(text, want, __LINE__)

/* The same value after each kind of separator run, and glued to CJK text. */
static void test_contexts(void)
{
	static const struct {
		const char *kind, *value;
	} v[] = {
		{"card", "4783418940608309"},
		{"card", "4783 4189 4060 8309"},
		{"iban", "DE89370400440532013000"},
		{"iban", "DE89 3704 0044 0532 0130 00"},
		{"ip", "136.139.128.99"},
		{"ip", "2001:db8::8a2e:370:7334"},
		{"krrn", "760113-1145561"},
		{"ssn", "128-13-6738"},
		{"phone", "+82 10-1234-5678"},
		{"email", "jiho.kim@example.co.kr"},
	};
	static const char *const around[][2] = {
		{"", ""},           {"value: ", " ok"},       {"a, ", ", b"},
		{"(", ")"},         {"x / ", " / y"},         {"SSN = ", "."},
		{"\"", "\""},       {"[", "]"},               {"x -- ", " --"},
		{"\xec\xa3\xbc\xeb\xaf\xbc\xeb\xb2\x88\xed\x98\xb8 ", " \xec\x9d\xb4\xea\xb3\xa0"},
		{"\xec\xa3\xbc\xeb\xaf\xbc\xeb\xb2\x88\xed\x98\xb8", "\xec\x9d\xb4\xea\xb3\xa0"},
		{"\xe3\x82\xab\xe3\x83\xbc\xe3\x83\x89", "\xe3\x81\xa7"},
		{"\xe9\x9b\xbb\xe8\xa9\xb1\xef\xbc\x9a", "\xe3\x81\xbe\xe3\x81\xa7\xe3\x80\x82"},
	};

	for (size_t i = 0; i < sizeof(v) / sizeof(*v); i++)
		for (size_t k = 0; k < sizeof(around) / sizeof(*around); k++) {
			char text[160], want[80];

			snprintf(text, sizeof(text), "%s%s%s", around[k][0], v[i].value, around[k][1]);
			snprintf(want, sizeof(want), "%s:%s", v[i].kind, v[i].value);
			check(text, want, __LINE__);
		}
}

static void test_spans(void)
{
	/* an IPv4 address at the end of a sentence, with a port */
	CHECK_DETECT("My IP is 136.139.128.99.", "ip:136.139.128.99");
	CHECK_DETECT("host 10.1.2.3:8080 down", "ip:10.1.2.3");
	/* CIDR: the address without its prefix length; no prefix over 32, no second slash */
	CHECK_DETECT("allow 10.20.30.40/24 only", "ip:10.20.30.40");
	CHECK_DETECT("net 192.168.0.0/16.", "ip:192.168.0.0");
	CHECK_DETECT("bad 10.1.2.3/33 here", "");
	CHECK_DETECT("odd 1.2.3.4/5/6 here", "");
	/* IPv6: "::" inside, at the start, at the end, in brackets */
	CHECK_DETECT("from fe80::1ff:fe23:4567:890a, then", "ip:fe80::1ff:fe23:4567:890a");
	CHECK_DETECT("[2001:db8::1]:443", "ip:2001:db8::1");
	CHECK_DETECT("net 2001:db8:abcd:12::", "ip:2001:db8:abcd:12::");
	CHECK_DETECT("mapped ::ffff:192.0.2.128 ok", "ip:::ffff:192.0.2.128");
	/* grouped numbers, whole */
	CHECK_DETECT("IBAN FR76 3000 6000 0112 3456 7890 189 merci",
		     "iban:FR76 3000 6000 0112 3456 7890 189");
	CHECK_DETECT("IBAN GB82-WEST-1234-5698-7654-32", "iban:GB82-WEST-1234-5698-7654-32");
	CHECK_DETECT("card 4111-1111-1111-1111 exp 12/29", "card:4111-1111-1111-1111");
	CHECK_DETECT("amex 3782 822463 10005.", "card:3782 822463 10005");
	/* the IBAN's tail is not a phone */
	CHECK_DETECT("NL91 ABNA 0417 1643 00", "iban:NL91 ABNA 0417 1643 00");
	/* two values side by side */
	CHECK_DETECT("4111111111111111,4012888888881881", "card:4111111111111111 card:4012888888881881");
}

static void test_phones(void)
{
	CHECK_DETECT("Tel. (030) 1234567", "phone:(030) 1234567");
	CHECK_DETECT("appelez le 0612345678", "phone:0612345678");
	CHECK_DETECT("06 12 34 56 78", "phone:06 12 34 56 78");
	CHECK_DETECT("06.12.34.56.78", "phone:06.12.34.56.78");
	CHECK_DETECT("ruf an: 0049 30 1234567", "phone:0049 30 1234567");
	CHECK_DETECT("Handy 0171/1234567", "phone:0171/1234567");
	CHECK_DETECT("+49 (0)30 1234567", "phone:+49 (0)30 1234567");
	CHECK_DETECT("call (415) 555-2671", "phone:(415) 555-2671");
	CHECK_DETECT("ligue (11) 98765-4321", "phone:(11) 98765-4321");
	CHECK_DETECT("020 7946 0958", "phone:020 7946 0958");
	CHECK_DETECT("\xe9\x9b\xbb\xe8\xa9\xb1\xef\xbc\x90\xef\xbc\x99\xef\xbc\x90\xef\xbc\x8d"
		     "\xef\xbc\x91\xef\xbc\x92\xef\xbc\x93\xef\xbc\x94\xef\xbc\x8d\xef\xbc\x95"
		     "\xef\xbc\x96\xef\xbc\x97\xef\xbc\x98",
		     "phone:\xef\xbc\x90\xef\xbc\x99\xef\xbc\x90\xef\xbc\x8d\xef\xbc\x91\xef\xbc\x92"
		     "\xef\xbc\x93\xef\xbc\x94\xef\xbc\x8d\xef\xbc\x95\xef\xbc\x96\xef\xbc\x97"
		     "\xef\xbc\x98");
	/* extensions, "(0)" without a space, a range libphonenumber does not know */
	CHECK_DETECT("Call 278-555-1234x123 today", "phone:278-555-1234x123");
	CHECK_DETECT("+1-415-555-2671 ext. 45", "phone:+1-415-555-2671 ext. 45");
	CHECK_DETECT("Telefon: +49(0)30 1234567", "phone:+49(0)30 1234567");
	CHECK_DETECT("phone +44 7911 370001", "phone:+44 7911 370001");
	/* the groups that follow a phone are not part of it */
	CHECK_DETECT("Handy 0171/8391518 3728-6239-9483-349", "phone:0171/8391518 card:3728-6239-9483-349");
	/* look-alikes */
	CHECK_DETECT("SKU 0612345678", "");
	CHECK_DETECT("901301-1234567", "");
	CHECK_DETECT("order 4155552671 shipped", "");
	CHECK_DETECT("on 2026-03-01 and 01.03.2026", "");
	CHECK_DETECT("ISBN 0-306-40615-2", "");
	CHECK_DETECT("from 1990-2010", "");
}

static void test_refusals(void)
{
	CHECK_DETECT("versão 13.8.8.232 instalada", "");
	CHECK_DETECT("version 10.0.19041.1", "");
	CHECK_DETECT("v1.2.3.4", "");
	CHECK_DETECT("ISBN 978-3-16-148410-0 or 9783161484100", "");
	CHECK_DETECT("ts 1733540123456", "");
	CHECK_DETECT("tracking 1Z999AA10123456784 and 9400 1000 0000 0000 0000 00", "");
	CHECK_DETECT("see banner@2x.png and icon@3x.webp", "");
	CHECK_DETECT("https://user:s3cret@host.example.com/x",
		     "url_credentials:user:s3cret");
	CHECK_DETECT("mail jo@example.com", "email:jo@example.com");
	CHECK_DETECT("/tmp/canary.k7@example.com.yaml", "email:canary.k7@example.com");
	CHECK_DETECT("npm i @scope/pkg@1.2.3", "");
	CHECK_DETECT("std::vector and a::b", "");
}

static void test_ids(void)
{
	/* SSN: dashes, spaces, none (then only with a context word) */
	CHECK_DETECT("SSN 123 45 6789", "ssn:123 45 6789");
	CHECK_DETECT("SSN: 123456789", "ssn:123456789");
	CHECK_DETECT("ref 123456789", "");
	/* RRN: hyphen, space, none; the date decides, the check digit is evidence */
	CHECK_DETECT("\xec\xa3\xbc\xeb\xaf\xbc\xeb\x93\xb1\xeb\xa1\x9d\xeb\xb2\x88\xed\x98\xb8 "
		     "7601131145561",
		     "krrn:7601131145561");
	CHECK_DETECT("RRN 760113 1145561", "krrn:760113 1145561");
	CHECK_DETECT("born 210315-3123456", "krrn:210315-3123456"); /* post-2020: no check digit */
	CHECK_DETECT("761313-1145561", "");                         /* month 13 */
	CHECK_DETECT("760230-1145561", "");                         /* 30 February */
}

static void test_scores(void)
{
	struct pii_match m[4];
	const char *t = "versão 13.8.8.232";
	size_t n = pii_detect_scored(t, strlen(t), 1, m, 4);

	CHECK(n == 1 && m[0].kind == PII_IP && m[0].score < PII_SCORE_THRESHOLD &&
	      (m[0].evidence & PII_EV_NEGCTX));
	t = "card 4111111111111111";
	n = pii_detect_scored(t, strlen(t), 1, m, 4);
	CHECK(n == 1 && m[0].score >= 90 && (m[0].evidence & PII_EV_CHECKSUM) &&
	      (m[0].evidence & PII_EV_CONTEXT));
	t = "call 0612345678";
	n = pii_detect_scored(t, strlen(t), 1, m, 4);
	CHECK(n == 1 && (m[0].evidence & PII_EV_PHONELIB));
	CHECK_STR(pii_evidence_name(PII_EV_PHONELIB), "libphonenumber");
	CHECK(pii_evidence_name(3) == NULL);
	CHECK_STR(pii_kind_category(PII_URL_CRED), "user.authorization.credentials");
}

/* A dataset's settings: its threshold, its regions (libphonenumber, the real module), the
 * record's region; region codes and locales, and the list a dataset's regions make. */
static void test_dataset_opts(void)
{
	struct pii_match m[4];
	struct pii_detect_opts o = {70, NULL, ""};
	char list[PII_REGIONS_LEN], r[3] = "";
	const char *t = "number 123 45 6789", *at = "ruf an 06601234567";

	CHECK(pii_detect_with(t, strlen(t), NULL, m, 4) == 1 && m[0].kind == PII_SSN &&
	      m[0].score == 60);
	CHECK(pii_detect_with(t, strlen(t), &o, m, 4) == 0);
	o.min_score = 60;
	CHECK(pii_detect_with(t, strlen(t), &o, m, 4) == 1);
	/* an Austrian mobile number: only of a possible length in the default regions */
	o.min_score = 0;
	CHECK(pii_detect_with(at, strlen(at), &o, m, 4) == 0);
	CHECK(pii_detect_regions("de_AT", NULL, list, sizeof(list)) == 0);
	CHECK_STR(list, "AT,US,GB,DE,FR,MX,BR,KR,JP");
	o.regions = list;
	CHECK(pii_detect_with(at, strlen(at), &o, m, 4) == 1 && m[0].kind == PII_PHONE &&
	      m[0].start == 7 && m[0].end == 18 && (m[0].evidence & PII_EV_PHONELIB));
	o.regions = NULL;
	memcpy(o.region, "AT", 3); /* the record's own region */
	CHECK(pii_detect_with(at, strlen(at), &o, m, 4) == 1);
	memcpy(o.region, "FR", 3);
	CHECK(pii_detect_with(at, strlen(at), &o, m, 4) == 0);
	/* region codes and locales */
	CHECK(pii_region_code("at", 2, r) == 0 && !strcmp(r, "AT"));
	CHECK(pii_region_code("de-CH", 5, r) == 0 && !strcmp(r, "CH"));
	CHECK(pii_region_code("gsw_CH", 6, r) == 0 && !strcmp(r, "CH"));
	CHECK(pii_region_code("de_AT.UTF-8", 11, r) == 0 && !strcmp(r, "AT"));
	CHECK(pii_region_code("Austria", 7, r) == -1);
	CHECK(pii_region_code("A", 1, r) == -1);
	CHECK(pii_region_code("", 0, r) == -1);
	CHECK(pii_region_code("A1", 2, r) == -1);
	CHECK(pii_region_code("de_", 3, r) == -1);
	/* a dataset's list: declared first, each region once, bounded */
	CHECK(pii_detect_regions(NULL, NULL, list, sizeof(list)) == 0);
	CHECK_STR(list, pii_builtin_regions());
	CHECK(pii_detect_regions("IT,DE,it", NULL, list, sizeof(list)) == 0);
	CHECK_STR(list, "IT,DE,US,GB,FR,MX,BR,KR,JP");
	CHECK(pii_detect_regions("Austria", NULL, list, sizeof(list)) == -1);
	CHECK(pii_detect_regions("AT", NULL, list, 10) == -1);
	CHECK(pii_detect_regions("AT", "it", list, sizeof(list)) == 0);
	CHECK_STR(list, "AT,IT,US,GB,DE,FR,MX,BR,KR,JP");
	CHECK(pii_detect_regions(NULL, "USA", list, sizeof(list)) == 0); /* not a region: none */
	CHECK_STR(list, pii_builtin_regions());
}

/* Random text made of the pieces the scanner cares about: every finding lies inside the
 * text, in order, without overlap (run under ASan and UBSan in the sanitizer lane). */
static void test_random(void)
{
	static const char *const pieces[] = {
		"0", "1", "4", "9", " ", "-", ".", "/", "(", ")", "+", ":", "::", "@", "x", "DE",
		"89", "\xef\xbc\x90", "\xef\xbc\x8d", "\xec\xa3\xbc", "\xc2\xa0", "a", "Z",
		"https://", "ext. ", "SSN ", "tel ", "\xe2", "\xef\xbc",
	};
	unsigned long long x = 88172645463325252ull;
	int bad = 0;

	for (int round = 0; round < 20000; round++) {
		char text[160];
		struct pii_match m[16];
		size_t len = 0, n, k;

		for (int p = 0; p < 40; p++) {
			const char *piece;

			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			piece = pieces[x % (sizeof(pieces) / sizeof(*pieces))];
			if (len + strlen(piece) >= sizeof(text))
				break;
			memcpy(text + len, piece, strlen(piece));
			len += strlen(piece);
		}
		n = pii_detect_scored(text, len, 1, m, 16);
		k = n < 16 ? n : 16;
		for (size_t i = 0; i < k; i++)
			if (m[i].start >= m[i].end || m[i].end > len ||
			    (i && m[i].start < m[i - 1].end) || m[i].score < 1 || m[i].score > 100)
				bad++;
	}
	CHECK(bad == 0);
}

/* The prefilter that lets ingest keep scanned text unread: only text with an '@', a ':', a
 * digit (ASCII or full-width) or a byte 0xEF may hold a finding, at any offset. */
static void test_prefilter(void)
{
	static const char *const none[] = {"", "kafka streaming", "\xeb\x94\xa5\xeb\x9f\xac\xeb\x8b\x9d",
					   "viewed from course_detail", "a.b-c/d (e) +f_g"};
	static const char *const some[] = {"@", ":", "0", "9", "\xef", "\xef\xbc\x91"};
	char text[64];

	for (size_t i = 0; i < sizeof(none) / sizeof(*none); i++)
		CHECK(!pii_detect_may_find(none[i], strlen(none[i])));
	for (size_t i = 0; i < sizeof(some) / sizeof(*some); i++)
		for (size_t at = 0; at < 9; at++) {
			size_t n = strlen(some[i]);

			memset(text, 'a', sizeof(text));
			memcpy(text + at, some[i], n);
			CHECK(pii_detect_may_find(text, at + n));
			CHECK(pii_detect_may_find(text, at + n + 7));
			CHECK(!pii_detect_may_find(text, at));
		}
	CHECK_DETECT("write to jiho.kim@example.co.kr", "email:jiho.kim@example.co.kr");
}

int main(void)
{
	test_prefilter();
	test_contexts();
	test_spans();
	test_phones();
	test_refusals();
	test_ids();
	test_scores();
	test_dataset_opts();
	test_random();
	return t_done();
}
