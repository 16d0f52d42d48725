/* Phone number validation with Google's libphonenumber (phone.cc, C++), behind a C
 * interface for the free-text detectors; no C++ exception ever crosses it. phone.cc is built
 * as a module (libstphone.so) that detect.c loads when it first needs it. */
#ifndef PII_PHONE_H
#define PII_PHONE_H

#ifdef __cplusplus
extern "C" {
#endif

/* The regions a national number (written without a country code) is tried in, when the
 * caller names none: ISO 3166 alpha-2 codes separated by ','. */
#define PII_PHONE_REGIONS "US,GB,DE,FR,MX,BR,KR,JP"

/* Whether number (NUL-terminated: '+' and the digits of an international number, or the
 * digits of a national one, trunk 0 included) is a valid phone number: for an
 * international one in the plan of its country code, for a national one in one of
 * regions (NULL: PII_PHONE_REGIONS). A region whose national numbers start with a trunk 0
 * (GB, DE, FR, KR, JP, ...) is only tried for numbers that start with 0. Returns 1 valid,
 * 2 not valid but of a possible length (a range not allocated, or not in this version's
 * metadata), 0 neither, -1 when libphonenumber failed (out of memory). */
int pii_phone_valid(const char *number, const char *regions);

#ifdef __cplusplus
}
#endif

#endif
