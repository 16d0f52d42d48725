// Phone number validation for the free-text detectors: a C interface (phone.h) over
// libphonenumber's parser and its per-region numbering plans.
#include "phone.h"

#include <phonenumbers/logger.h>
#include <phonenumbers/phonenumberutil.h>

#include <cstring>
#include <string>

using i18n::phonenumbers::NullLogger;
using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

namespace {

// The library as a singleton, made silent once: a library of steward never prints.
const PhoneNumberUtil *util()
{
	static PhoneNumberUtil *u = [] {
		PhoneNumberUtil *p = PhoneNumberUtil::GetInstance();

		p->SetLogger(new NullLogger());
		return p;
	}();
	return u;
}

// Regions whose national numbers are written with a trunk 0 (not US, MX, BR, ...).
bool trunk_zero(const std::string &r)
{
	static const char *const v[] = {"GB", "DE", "FR", "KR", "JP", "NL", "BE", "AT", "CH",
					"AU", "IN", "CN", "TW", "TH", "TR", "IE", "NZ"};

	for (const char *x : v)
		if (r == x)
			return true;
	return false;
}

// The digits a national number (trunk prefix included) has in the default regions: a
// cheap test before the parser (about 20-40 us a region on a busy machine) is called.
bool length_fits(const std::string &r, size_t n)
{
	static const struct {
		const char *r;
		size_t lo, hi;
	} v[] = {{"US", 10, 11}, {"MX", 10, 12}, {"BR", 10, 12}, {"GB", 10, 11},
		 {"DE", 6, 14},  {"FR", 10, 10}, {"KR", 9, 11},  {"JP", 10, 11}};

	for (const auto &x : v)
		if (r == x.r)
			return n >= x.lo && n <= x.hi;
	return true;
}

// 1: valid in region's plan; 2: only of a possible length there; 0: neither.
int check_in(const PhoneNumberUtil *u, const std::string &num, const std::string &region)
{
	PhoneNumber n;

	if (u->Parse(num, region, &n) != PhoneNumberUtil::NO_PARSING_ERROR)
		return 0;
	if (u->IsValidNumber(n))
		return 1;
	return u->IsPossibleNumber(n) ? 2 : 0;
}

// The default region a national number most likely belongs to, by its first digits and
// length, tried first: the parser and the validation cost tens of microseconds a region.
const char *likely_region(const std::string &d)
{
	size_t n = d.size();

	if (n < 3 || d[0] != '0')
		return n == 10 ? "US" : nullptr;
	if (d[1] == '1' && d[2] == '0' && n == 11)
		return "KR"; /* 010-1234-5678 */
	if (d[1] == '1' && d[2] >= '5' && d[2] <= '7' && (n == 11 || n == 12))
		return "DE"; /* 0171 1234567 */
	if (d[1] >= '7' && d[1] <= '9' && d[2] == '0' && n == 11)
		return "JP"; /* 090-1234-5678 */
	if (d[1] == '7' && n == 11)
		return "GB"; /* 07911 123456 */
	if (n == 10 && d[1] != '0')
		return "FR"; /* 06 12 34 56 78 */
	return nullptr;
}

} // namespace

extern "C" int pii_phone_valid(const char *number, const char *regions)
{
	try {
		const PhoneNumberUtil *u = util();
		std::string num(number);
		const char *r = regions ? regions : PII_PHONE_REGIONS;
		int best = 0;

		if (num.empty())
			return 0;
		if (num[0] == '+')
			return check_in(u, num, "ZZ");
		const char *first = likely_region(num);

		if (first && std::strstr(r, first) && (best = check_in(u, num, first)) == 1)
			return 1;
		while (*r) {
			size_t n = std::strcspn(r, ",");
			std::string region(r, n);
			int v;

			r += n + (r[n] == ',');
			if (region.size() != 2 || (num[0] != '0' && trunk_zero(region)) ||
			    !length_fits(region, num.size()) || (first && region == first))
				continue;
			if ((v = check_in(u, num, region)) == 1)
				return 1;
			best = v ? v : best;
		}
		return best;
	} catch (...) {
		return -1;
	}
}
