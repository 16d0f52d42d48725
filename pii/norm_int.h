/* Private to pii/: the normalizers' form for the pseudonymizer, which hashes a value that is
 * already in its normal form where it is, without a copy to wipe. */
#ifndef PII_NORM_INT_H
#define PII_NORM_INT_H

#include <stddef.h>

/* As pii_normalize(), except that when the normal form of value is bytes of value itself (an
 * e-mail address without capitals, an IP address as format_ipv4() or format_ipv6() writes it;
 * either after trimming), *res points at them within value and out is left unwritten; else *res is out.
 * Returns the normal form's length, or -1 when value is not of the kind. */
int pii_normalize_view(int norm, const char *value, size_t len, const char *country_code,
		       char *out, const char **res);
/* 1 when value (len bytes) is an IP address exactly in its normal form (nothing to trim),
 * so that norm_ip() would take it as it is; 0 when it may not be (the normalizer decides). */
int pii_ip_is_normal(const char *value, size_t len);

#endif
