/* The CSRF tokens of the pages' forms: an HMAC-SHA256, under a key drawn when the server
 * starts, of what the caller authenticated with, so that a form from one caller is good for
 * no one else and a page of another site cannot make one. */
#include "serve_int.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static unsigned char key[crypto_auth_hmacsha256_KEYBYTES];
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

static void draw_key(void)
{
	if (sodium_init() < 0) /* cannot happen once the CLI started, which initialises it */
		memset(key, 0, sizeof(key));
	randombytes_buf(key, sizeof(key));
}

/* The token of binding text b into out. */
static void token_of(const char *b, char out[SERVE_CSRF_LEN])
{
	unsigned char mac[crypto_auth_hmacsha256_BYTES];

	pthread_once(&key_once, draw_key);
	crypto_auth_hmacsha256(mac, (const unsigned char *)b, strlen(b), key);
	sodium_bin2base64(out, SERVE_CSRF_LEN, mac, sizeof(mac),
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(mac, sizeof(mac));
}

void serve_csrf_token(struct MHD_Connection *c, const struct request *r,
		      char out[SERVE_CSRF_LEN])
{
	char b[512];
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						    MHD_HTTP_HEADER_AUTHORIZATION);
	const char *cookie = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, SERVE_TOKEN_COOKIE);

	if (r->on_socket)
		snprintf(b, sizeof(b), "user:%s", r->user);
	else if (h && !strncasecmp(h, "Bearer ", 7))
		snprintf(b, sizeof(b), "token:%s", h + 7);
	else
		snprintf(b, sizeof(b), "token:%s", cookie ? cookie : "");
	token_of(b, out);
	sodium_memzero(b, sizeof(b));
}

void serve_csrf_login_token(const char *nonce, char out[SERVE_CSRF_LEN])
{
	char b[128];

	snprintf(b, sizeof(b), "login:%s", nonce);
	token_of(b, out);
}

int serve_csrf_equal(const char *given, const char *expected)
{
	return strlen(given) == SERVE_CSRF_LEN - 1 && strlen(expected) == SERVE_CSRF_LEN - 1 &&
	       !sodium_memcmp(given, expected, SERVE_CSRF_LEN - 1);
}

/* Whether the browser says the request comes from another site: Sec-Fetch-Site other than
 * same-origin or none, or an Origin whose host is not the Host asked for. */
static int cross_site(struct MHD_Connection *c)
{
	const char *site = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Sec-Fetch-Site");
	const char *origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
	const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
	const char *o;

	if (site && strcmp(site, "same-origin") && strcmp(site, "none"))
		return 1;
	if (!origin)
		return 0;
	if (!host || !(o = strstr(origin, "://")))
		return 1;
	return strcmp(o + 3, host) != 0;
}

int serve_csrf_ok(struct MHD_Connection *c, const struct request *r)
{
	char given[SERVE_CSRF_LEN + 8], want[SERVE_CSRF_LEN];

	if (cross_site(c) || serve_form(r, "csrf", given, sizeof(given)) != 1)
		return 0;
	serve_csrf_token(c, r, want);
	return serve_csrf_equal(given, want);
}
