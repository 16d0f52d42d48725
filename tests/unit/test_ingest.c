/* Unit tests for the ingest record path's private helpers (pii/ingest_int.h): the date and
 * timestamp check against a plain reference, over valid values and their mutations. */
#include "harness.h"
#include "ingest_int.h"

#include <string.h>

/* The check as docs/ingest.md words it, a character at a time. */
static int ref_valid_date(const char *s, size_t n, int timestamp)
{
	int month, day;

	if (n < 10 || s[4] != '-' || s[7] != '-')
		return 0;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return 0;
	month = (s[5] - '0') * 10 + (s[6] - '0');
	day = (s[8] - '0') * 10 + (s[9] - '0');
	if (month < 1 || month > 12 || day < 1 || day > 31)
		return 0;
	if (!timestamp)
		return n == 10;
	return n == 10 || ((s[10] == 'T' || s[10] == ' ') && n >= 16 && s[13] == ':');
}

static void test_dates(void)
{
	static const char *const seeds[] = {
		"2026-03-17", "2026-03-17T07:01:18.748Z", "1999-12-31 23:59", "0000-01-01",
		"2026-00-10", "2026-13-10", "2026-12-00", "2026-12-32", "2026-1-017", "2026/03/17",
	};
	unsigned long long x = 88172645463325252ull;
	int bad = 0, valid = 0;

	for (size_t k = 0; k < sizeof(seeds) / sizeof(*seeds); k++)
		for (int round = 0; round < 20000; round++) {
			char s[32];
			size_t n = strlen(seeds[k]);

			memcpy(s, seeds[k], n);
			for (int m = round % 3; m > 0; m--) { /* zero to two bytes changed */
				x ^= x << 13, x ^= x >> 7, x ^= x << 17;
				s[x % n] = (char)(x >> 32);
			}
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			if (round % 5 == 4 && n > 0)
				n -= x % n; /* cut short */
			for (int ts = 0; ts <= 1; ts++) {
				int want = ref_valid_date(s, n, ts);

				bad += ing_valid_date(s, n, ts) != want;
				valid += want;
			}
		}
	CHECK(bad == 0);
	CHECK(valid > 1000); /* the mutations leave many valid */
	CHECK(ing_valid_date("2026-03-17", 10, 0));
	CHECK(!ing_valid_date("2026-03-17T07:01", 16, 0));
	CHECK(ing_valid_date("2026-03-17T07:01", 16, 1));
	CHECK(!ing_valid_date("2026-03-1\xb7", 10, 0));
}

int main(void)
{
	test_dates();
	return t_done();
}
