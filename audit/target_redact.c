/* How a target URI is shown and stored: the one redaction of credentials (user information,
 * query, fragment) in http(s) target URLs and PostgreSQL connection URIs, used for every
 * output, record and message. */
#include "target.h"
#include "alloc.h"

#include <string.h>
#include <strings.h>

static int has_prefix(const char *s, const char *prefix)
{
	return !strncasecmp(s, prefix, strlen(prefix));
}

/* Appends len bytes of s at *k in out (n bytes), cut at the end of out; *k counts all. */
static void put(char *out, size_t n, size_t *k, const char *s, size_t len)
{
	if (*k + 1 < n)
		memcpy(out + *k, s, len < n - 1 - *k ? len : n - 1 - *k);
	*k += len;
}

size_t audit_target_redact(const char *uri, char *out, size_t n)
{
	const char *auth, *host;
	size_t k = 0, frag;

	if (!uri)
		uri = "";
	if (!has_prefix(uri, "http:") && !has_prefix(uri, "https:") &&
	    !has_prefix(uri, "postgres://") && !has_prefix(uri, "postgresql://") &&
	    !has_prefix(uri, "redshift://")) {
		put(out, n, &k, uri, strlen(uri));
	} else if (!(auth = strstr(uri, "://"))) {
		put(out, n, &k, uri, strcspn(uri, "?#"));
	} else {
		/* Everything up to the last '@' goes: a password may hold '/', '?' or '@' that
		 * were not percent-encoded, and a path seldom holds an '@'. */
		auth += 3;
		frag = strcspn(auth, "#");
		host = auth;
		for (size_t i = 0; i < frag; i++)
			if (auth[i] == '@')
				host = auth + i + 1;
		put(out, n, &k, uri, (size_t)(auth - uri));
		put(out, n, &k, host, strcspn(host, "?#"));
	}
	if (n)
		out[k < n ? k : n - 1] = '\0';
	return k;
}

char *audit_target_redacted(const char *uri)
{
	size_t len = audit_target_redact(uri, NULL, 0);
	char *s = st_malloc(len + 1);

	if (s)
		audit_target_redact(uri, s, len + 1);
	return s;
}
