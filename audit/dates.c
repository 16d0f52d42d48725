/* Calendar arithmetic for legal deadlines: parsing and formatting UTC dates and times,
 * adding calendar months with month-end clamping, and days between dates. */
#include "audit.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static int leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int y, int m)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return m == 2 && leap(y) ? 29 : days[m - 1];
}

/* Days since 1970-01-01 of a civil date (valid for every year of the proleptic calendar). */
static long days_from_civil(struct audit_date d)
{
	long y = d.y - (d.m <= 2);
	long era = (y >= 0 ? y : y - 399) / 400;
	long yoe = y - era * 400;
	long doy = (153L * (d.m + (d.m > 2 ? -3 : 9)) + 2) / 5 + d.d - 1;
	long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

static struct audit_date civil_from_days(long z)
{
	struct audit_date d;
	long era, doe, yoe, doy, mp, y;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d.d = (int)(doy - (153 * mp + 2) / 5 + 1);
	d.m = (int)(mp < 10 ? mp + 3 : mp - 9);
	d.y = (int)(y + (d.m <= 2));
	return d;
}

/* Reads exactly n digits. */
static int digits(const char *s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

static int parse_date_prefix(const char *s, struct audit_date *out)
{
	struct audit_date d;

	if (digits(s, 4, &d.y) || s[4] != '-' || digits(s + 5, 2, &d.m) || s[7] != '-' ||
	    digits(s + 8, 2, &d.d))
		return -1;
	if (d.y < 1970 || d.y > 9000 || d.m < 1 || d.m > 12 || d.d < 1 || d.d > month_days(d.y, d.m))
		return -1;
	*out = d;
	return 0;
}

int audit_date_parse(const char *s, struct audit_date *out)
{
	if (strlen(s) != 10)
		return -1;
	return parse_date_prefix(s, out);
}

void audit_date_format(struct audit_date d, char *out)
{
	snprintf(out, 11, "%04u-%02u-%02u", (unsigned)d.y % 10000u, (unsigned)d.m % 100u,
		 (unsigned)d.d % 100u);
}

struct audit_date audit_date_add_months(struct audit_date d, int months)
{
	long idx = (long)d.y * 12 + (d.m - 1) + months;
	struct audit_date r;

	r.y = (int)(idx / 12);
	r.m = (int)(idx % 12) + 1;
	r.d = d.d > month_days(r.y, r.m) ? month_days(r.y, r.m) : d.d;
	return r;
}

struct audit_date audit_date_add_days(struct audit_date d, long days)
{
	return civil_from_days(days_from_civil(d) + days);
}

long audit_date_diff(struct audit_date a, struct audit_date b)
{
	return days_from_civil(b) - days_from_civil(a);
}

struct audit_date audit_date_from_ms(int64_t ms)
{
	long days = (long)(ms / 86400000);

	if (ms < 0 && ms % 86400000)
		days--;
	return civil_from_days(days);
}

int64_t audit_date_to_ms(struct audit_date d)
{
	return (int64_t)days_from_civil(d) * 86400000;
}

int audit_time_parse(const char *s, int64_t *ms)
{
	struct audit_date d;
	int hh = 0, mm = 0, ss = 0;
	size_t n = strlen(s);

	if (n < 10 || parse_date_prefix(s, &d))
		return -1;
	s += 10;
	if (*s == 'T' || *s == ' ') {
		if (digits(s + 1, 2, &hh) || s[3] != ':' || digits(s + 4, 2, &mm) || hh > 23 ||
		    mm > 59)
			return -1;
		s += 6;
		if (*s == ':') {
			if (digits(s + 1, 2, &ss) || ss > 59)
				return -1;
			s += 3;
		}
		if (*s == 'Z')
			s++;
	}
	if (*s)
		return -1;
	*ms = audit_date_to_ms(d) + ((int64_t)hh * 3600 + mm * 60 + ss) * 1000;
	return 0;
}

void audit_time_format(int64_t ms, char *out, size_t n)
{
	struct audit_date d = audit_date_from_ms(ms);
	int64_t rest = ms - audit_date_to_ms(d);

	snprintf(out, n, "%04u-%02u-%02uT%02u:%02u:%02u.%03uZ", (unsigned)d.y % 10000u,
		 (unsigned)d.m % 100u, (unsigned)d.d % 100u, (unsigned)(rest / 3600000) % 100u,
		 (unsigned)(rest / 60000 % 60), (unsigned)(rest / 1000 % 60),
		 (unsigned)(rest % 1000));
}
