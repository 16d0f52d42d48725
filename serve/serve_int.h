/* What the server's files share: the server and a request as the handlers see them, the
 * route tables (the API's in api.c), the answers and parameters (reply.c) and the handles of
 * each worker thread (worker.c). Internal to serve/. */
#ifndef SERVE_INT_H
#define SERVE_INT_H

#include "serve.h"
#include "audit.h"
#include "error.h"
#include "lazy_mhd.h"

#include <jansson.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#define SERVE_BODY_MAX ((size_t)1 << 20) /* bytes of a request body */
#define SERVE_TEXT_MAX 512               /* a path or a message as logged */

struct server;
struct catalog;
struct sqlite3;
struct sqlite3_stmt;

/* A listening endpoint: what the request handler is given, so that it knows where a
 * connection came in. */
struct endpoint {
	struct server *s;
	int on_socket;
};

#define ROLE_YAML_MAX (256 * 1024) /* a larger steward.yaml is read for every request */
#define ROLE_CACHE_MAX 64          /* callers whose role is kept */
#define ROLE_TTL_S 5               /* the longest a role is kept (groups from LDAP, say) */

/* The roles resolved so far (server.c: resolve_role()), valid while steward.yaml holds
 * yaml and the password and group files the stamp; and the uids of token users. */
struct role_cache {
	pthread_mutex_t mu;
	char *yaml; /* the bytes of steward.yaml the roles came from (NULL: none kept) */
	size_t yaml_len;
	struct stat file; /* steward.yaml's stat, taken before those bytes were read */
	int file_settled; /* it was over a second old: the same stat is the same bytes */
	struct stat stamp[2];
	time_t since;      /* CLOCK_MONOTONIC seconds when the cache was emptied */
	unsigned long gen; /* how many times it was */
	size_t n;
	struct {
		char name[64];
		uid_t uid;
		int role;
	} v[ROLE_CACHE_MAX];
	/* Token users' uids (server.c: user_uid()), valid while the files keep users_stamp. */
	struct stat users_stamp[2];
	time_t users_since;
	unsigned long users_gen;
	size_t nusers;
	struct {
		char name[64];
		uid_t uid;
	} users[ROLE_CACHE_MAX];
};

/* The search API's kept answers (cache.c). */
#define SERVE_CACHE_SLOTS 256                 /* answers kept at most */
#define SERVE_CACHE_BODY_MAX (256 * 1024)     /* a larger answer is not kept */
#define SERVE_CACHE_BYTES_MAX (16 * 1024 * 1024) /* all of them together */
#define SERVE_CACHE_KEY 32                    /* bytes of a key: a BLAKE2b digest */

struct serve_cache_entry {
	unsigned char key[SERVE_CACHE_KEY];
	uint64_t gen;  /* the catalog generation it was computed in */
	uint64_t used; /* when it was last read or written (a tick) */
	char *body;    /* NULL: a free slot */
	size_t len;
};

#define SERVE_CACHE_PENDING 64 /* answers being computed, announced, at once */

/* An answer a thread is computing, so that others asking the same wait for it. */
struct serve_cache_pending {
	unsigned char key[SERVE_CACHE_KEY];
	uint64_t gen;
	int busy;
};

struct serve_cache {
	int on;                  /* 0: nothing is kept (--no-cache) */
	pthread_mutex_t watch_mu; /* guards the watch and the generation */
	struct sqlite3 *watch;    /* a connection of its own to catalog.db (cache.c: look()) */
	struct sqlite3_stmt *watch_read;
	unsigned version;         /* its data version at the last look */
	int looked;
	int broken;               /* the watch cannot be opened: nothing is kept */
	uint64_t gen;             /* the catalog's generation */
	pthread_mutex_t mu;       /* guards what follows */
	pthread_cond_t done;      /* a pending answer was kept or given up */
	struct serve_cache_pending pending[SERVE_CACHE_PENDING];
	uint64_t tick;
	size_t bytes;
	struct serve_cache_entry v[SERVE_CACHE_SLOTS];
};

#define SERVE_IDLE_MAX 64 /* handles of each kind kept open for the next thread */

/* The audit logs and catalogs no thread holds (worker.c), under mu. */
struct serve_idle {
	pthread_mutex_t mu;
	size_t nlogs, ncats;
	void *logs[SERVE_IDLE_MAX]; /* struct audit_log * */
	void *cats[SERVE_IDLE_MAX]; /* struct catalog * */
};

struct server {
	const struct serve_opts *o;
	struct endpoint tcp_ep, unix_ep;
	pthread_key_t key; /* per worker thread: the handles it holds (worker.c) */
	struct serve_idle idle;
	pthread_mutex_t ident; /* the password and group databases and steward.yaml, when read */
	struct role_cache roles;
	struct audit_group *group; /* the workers' audit records, written in groups */
	struct serve_cache cache;  /* the search API's answers */
	struct MHD_Daemon *tcp, *unx;
	int unix_fd;
};

/* One request, from its first byte to its access line. */
struct request {
	struct timespec start;
	int status;
	size_t bytes;
	char *body;      /* the request body as received (NUL-terminated; NULL when none) */
	size_t body_len; /* its length, at most SERVE_BODY_MAX */
	int on_socket;
	int html; /* a page's request: its errors are answered as pages (SERVE_PAGE) */
	char counts[256]; /* a small JSON object for the audit record, set by the handler; or "" */
	char user[64];
	char method[16], path[SERVE_TEXT_MAX], version[16]; /* as logged: no query */
};

#define SERVE_GET 1u  /* a route's methods: GET (and HEAD) */
#define SERVE_POST 2u /* POST, with a body */
/* An HTML page (page*.c): its errors are pages, over TCP its token may come from the login
 * cookie, and a POST to it must carry the form's CSRF token (checked before it runs). */
#define SERVE_PAGE 4u
#define SERVE_METHODS (SERVE_GET | SERVE_POST)
/* A read of the catalog: the handler runs inside one read transaction of the worker's
 * catalog, so that all its queries see one snapshot and take the file's locks once. */
#define SERVE_SNAPSHOT 8u

/* A route: its path (with prefix, the path is followed by a name, which is the record's
 * object), the audit action it is recorded as (NULL: not recorded, needs no one), its
 * handler, which answers through serve_reply_json() or another serve_reply_*(), and the
 * methods it takes (0 means SERVE_GET). */
struct serve_route {
	const char *path;
	int prefix;
	const char *action;
	enum MHD_Result (*fn)(struct server *s, struct MHD_Connection *c, struct request *r,
			      const struct audit_actor *a, const char *name);
	unsigned methods;
};

/* The API's routes under /api/v1: health, whoami, search, lineage, cards and the OpenAPI
 * document (api.c); the PII map, pii check, requests and the audit status (api_data.c);
 * POST lineage (api_lineage.c). Each table with its count. */
extern const struct serve_route serve_api_routes[];
extern const size_t serve_api_route_count;
extern const struct serve_route serve_api_data_routes[];
extern const size_t serve_api_data_route_count;
extern const struct serve_route serve_api_lineage_routes[];
extern const size_t serve_api_lineage_route_count;
/* POST /api/v1/cli (api_cli.c): the command line as a client of the server. */
extern const struct serve_route serve_api_cli_routes[];
extern const size_t serve_api_cli_route_count;

/* The pages' routes (page_routes.c; the handlers in page*.c), serve_page_route_count of them. */
extern const struct serve_route serve_page_routes[];
extern const size_t serve_page_route_count;

/* The cookie a browser keeps its token in after the login form (HttpOnly, SameSite=Strict). */
#define SERVE_TOKEN_COOKIE "steward_token"
/* The length of a CSRF token, NUL included: 43 base64url characters of an HMAC-SHA256. */
#define SERVE_CSRF_LEN 44

/* The form's CSRF token for the caller of connection c (csrf.c): an HMAC, under a key drawn
 * when the server starts, of what the caller authenticated with (over the socket their
 * name, over TCP their token), so it is good for that caller only and until the server stops. */
void serve_csrf_token(struct MHD_Connection *c, const struct request *r,
		      char out[SERVE_CSRF_LEN]);
/* The same for a browser that is not logged in yet: bound to nonce, the login form's cookie. */
void serve_csrf_login_token(const char *nonce, char out[SERVE_CSRF_LEN]);
/* Whether the body of POST request r carries the caller's CSRF token (field "csrf"), compared
 * in constant time; a cross-site Sec-Fetch-Site or an Origin of another host fails too. */
int serve_csrf_ok(struct MHD_Connection *c, const struct request *r);
/* Whether given is the CSRF token of expected (both NUL-terminated), in constant time. */
int serve_csrf_equal(const char *given, const char *expected);

/* Field name of the form in r's body (application/x-www-form-urlencoded), decoded into out
 * (n bytes). Returns 1 when present, 0 when absent, -1 when it does not fit. */
int serve_form(const struct request *r, const char *name, char *out, size_t n);

struct html;
/* Queues the page h (its buffer is taken over) with status and the pages' headers: a strict
 * Content-Security-Policy (csp NULL: only same-origin style, script and images, no inline
 * script or style, no frames, forms to this server only), no-store, nosniff, no referrer.
 * A page that failed to build answers 500. */
enum MHD_Result serve_reply_html(struct MHD_Connection *c, struct request *r, int status,
				 struct html *h, const char *csp);
/* Queues len bytes of data (copied) as content type with status; with filename, as a
 * download (Content-Disposition: attachment). The security headers as for JSON. */
enum MHD_Result serve_reply_data(struct MHD_Connection *c, struct request *r, int status,
				 const char *type, const char *data, size_t len,
				 const char *filename);
/* Queues a 303 See Other to location (a path of this server), with a Set-Cookie header
 * when cookie is not NULL. */
enum MHD_Result serve_reply_redirect(struct MHD_Connection *c, struct request *r,
				     const char *location, const char *cookie);

/* s escaped (st_escape()) into out (n bytes), cut to fit: what a log line, a record or a
 * message may show. Returns out. */
const char *serve_escaped(const char *s, char *out, size_t n);

/* Queues len bytes at data as the answer with status and Content-Type type, with the
 * security headers; mode is who frees data (MHD_RESPMEM_PERSISTENT for static bytes,
 * MHD_RESPMEM_MUST_FREE for a malloc()ed buffer, which is freed on every path). */
enum MHD_Result serve_reply_bytes(struct MHD_Connection *c, struct request *r, int status,
				  const char *type, void *data, size_t len,
				  enum MHD_ResponseMemoryMode mode);

/* doc as the API writes it (compact, ASCII), malloc()ed (free()), or NULL (doc NULL, out of
 * memory); doc is not taken. */
char *serve_json_text(json_t *doc);

/* Queues doc (taken; NULL answers 500) as the JSON answer with status; the security
 * headers go on every answer. */
enum MHD_Result serve_reply_json(struct MHD_Connection *c, struct request *r, int status,
				 json_t *doc);

/* {"error": {"status": S, "message": M}} (on a page's request, an error page that says M):
 * messages follow the CLI's rules (lowercase, no full stop, the subject in quotes); M is
 * escaped. */
enum MHD_Result serve_reply_error(struct MHD_Connection *c, struct request *r, int status,
				  const char *fmt, ...) ST_PRINTF(4, 5);

/* The answer to a library error: 404 for what is not there, 400 for bad input, 403 for a
 * denial, else 500, with err's message. */
enum MHD_Result serve_reply_failure(struct MHD_Connection *c, struct request *r,
				    const struct st_error *err);

/* Query parameter name, or NULL when absent or empty. */
const char *serve_arg(struct MHD_Connection *c, const char *name);

/* A whole number in [lo, hi] from parameter name (def when absent) into *out. Returns 0, or
 * -1 after queueing a 400 answer into *ret. */
int serve_arg_count(struct MHD_Connection *c, struct request *r, const char *name, long lo,
		    long hi, long def, long *out, enum MHD_Result *ret);

#define SERVE_PAGE_DEFAULT 20 /* items a page of a list, unless limit says */
#define SERVE_PAGE_MAX 1000   /* the most limit may ask for */
#define SERVE_ARGS_MAX 32     /* query parameters a request may have */
#define SERVE_OFFSET_MAX 1000000000L /* the furthest offset of a page */

/* A page of a list: limit (1 to SERVE_PAGE_MAX, default SERVE_PAGE_DEFAULT) and offset (0 to
 * offset_max, default 0). Returns 0, or -1 after queueing a 400 answer into *ret. */
int serve_arg_page(struct MHD_Connection *c, struct request *r, long offset_max, long *limit,
		   long *offset, enum MHD_Result *ret);

/* A yes-or-no parameter: 1 or true, 0 or false (absent: 0). Returns 0 with *out, or -1
 * after queueing a 400 answer into *ret. */
int serve_arg_flag(struct MHD_Connection *c, struct request *r, const char *name, int *out,
		   enum MHD_Result *ret);

/* Checks the query of a request before any route sees it: at most SERVE_ARGS_MAX
 * parameters, none given twice (which of two would count is not guessed), no NUL byte in a
 * name or value. Returns 0, or -1 after queueing a 400 answer into *ret. */
int serve_check_args(struct MHD_Connection *c, struct request *r, enum MHD_Result *ret);

/* The calling worker thread's audit log, opened at its first use. NULL with err. */
struct audit_log *serve_worker_log(struct server *s, struct st_error *err);

/* The calling worker thread's catalog, opened at its first use. NULL with err. */
struct catalog *serve_worker_catalog(struct server *s, struct st_error *err);

/* The destructor of s->key: when a worker thread ends, its audit log and catalog become
 * idle (up to SERVE_IDLE_MAX of each; more are closed), its statements finalized. */
void serve_worker_end(void *p);
/* Opens n audit logs and n catalogs (at most SERVE_IDLE_MAX) as idle handles, so that no
 * request waits for an open; stops at the first that fails (a request that needs one then
 * opens it, and answers why it cannot). */
void serve_workers_open(struct server *s, size_t n);
/* Closes the idle handles, once no worker thread is left. */
void serve_workers_close(struct server *s);

/* ---- The search API's kept answers (cache.c) ---------------------------------------------- */

/* Sets up k (on: 0 keeps nothing), and frees what it keeps. */
void serve_cache_init(struct serve_cache *k, int on);
void serve_cache_release(struct serve_cache *k);
/* To be called first in a read route inside its catalog transaction (SERVE_SNAPSHOT), before
 * anything reads cat (the snapshot then begins after it): sets *gen, the catalog generation
 * the snapshot belongs to. Returns 1 when answers of *gen may be read and kept; 0 when not
 * (the cache is off, no transaction is open, or the catalog cannot be looked at). */
int serve_cache_begin(struct server *s, struct catalog *cat, uint64_t *gen);
/* The key of an answer: a digest of n parts (NULL parts, absent, differ from empty ones). */
void serve_cache_key(unsigned char key[SERVE_CACHE_KEY], const char *const *parts, size_t n);
/* A copy (st_malloc'd, NUL-terminated, *len bytes) of the answer kept under key in
 * generation gen, or NULL. While another thread computes that answer (it claimed it), waits
 * for it. On NULL, *claim may be set (nonzero): this thread computes the answer, and must
 * end the claim with serve_cache_put() or serve_cache_abandon(), on every path. */
char *serve_cache_get(struct server *s, const unsigned char *key, uint64_t gen, size_t *len,
		      int *claim);
/* Keeps a copy of len bytes of body under key for generation gen (not when gen is over, or
 * the answer over SERVE_CACHE_BODY_MAX); the least recently used answers make room. Ends
 * claim (0: none). */
void serve_cache_put(struct server *s, const unsigned char *key, uint64_t gen, const char *body,
		     size_t len, int claim);
/* Ends claim (0: none) with no answer kept: the threads waiting for it compute their own. */
void serve_cache_abandon(struct server *s, int claim);

/* A read route's answer through the cache: what serve_cache_answer() found out. */
struct serve_kept {
	int keep;  /* the answer may be kept */
	int claim; /* this thread computes it (see serve_cache_get()) */
	uint64_t gen;
	unsigned char key[SERVE_CACHE_KEY];
};
/* For a read route whose answer depends only on the catalog and on parts (the route's name
 * first, then its parameters), called before anything reads cat: when an answer is kept,
 * queues it as the 200 answer into *ret and returns 1. Else returns 0 with kc set: the route
 * computes its answer, then either gives it to serve_cache_reply() or, on any other path,
 * calls serve_cache_skip(). */
int serve_cache_answer(struct server *s, struct MHD_Connection *c, struct request *r,
		       struct catalog *cat, const char *const *parts, size_t n,
		       struct serve_kept *kc, enum MHD_Result *ret);
/* Queues doc (taken; NULL answers 500) as the 200 JSON answer, and keeps its text under kc. */
enum MHD_Result serve_cache_reply(struct server *s, struct MHD_Connection *c, struct request *r,
				  struct serve_kept *kc, json_t *doc);
/* Gives the answer of kc up: nothing is kept (an error, or an answer not to keep). */
void serve_cache_skip(struct server *s, struct serve_kept *kc);

#endif
