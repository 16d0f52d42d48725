/* The HTTP server: where it listens (TCP, loopback by default, and a Unix socket), who the
 * caller is (the socket peer's uid; bearer tokens over TCP), the audit record of every
 * request, the route tables, the request body, the access log, and a clean stop on SIGTERM. */
#include "serve.h"
#include "serve_int.h"
#include "audit.h"
#include "alloc.h"
#include "catalog.h"
#include "sql.h"
#include "escape.h"
#include "lazy_gvc.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netdb.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <sqlite3.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define CONN_LIMIT 256             /* connections at once */
/* Connections at once from one address: a closed one counts until the listening thread has
 * joined its thread, which a busy machine delays (wrk's 64 reconnecting at once were refused). */
#define PER_IP_LIMIT 128
#define CONN_TIMEOUT_S 30          /* an idle or slow connection is closed after this */
#define CONN_MEMORY (64 * 1024)    /* per connection: headers and the URL */
#define FILES_A_CONNECTION 6       /* its socket; its thread's catalog.db, audit.db and -wals (5) */
#define HANDLES_PER_CPU 32         /* audit logs and catalogs opened at the start, up to */
#define HANDLES_MAX SERVE_IDLE_MAX /* HANDLES_MAX (with --threads N: N) */

/* Raises the soft limit of open files towards the hard one, to what CONN_LIMIT connections
 * with a thread each (and the handles kept idle) hold: a distribution's default of 1024
 * would fail the opens of the 120th connection's thread. */
static void enough_files(void)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)(CONN_LIMIT + SERVE_IDLE_MAX) * FILES_A_CONNECTION + 64;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want ? rl.rlim_max : want;
	setrlimit(RLIMIT_NOFILE, &rl);
}

/* ---- Time, text and the access log --------------------------------------------------- */

static double since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* One line in the Common Log Format, with the time in UTC and the seconds taken: formatted
 * first, then written in one write(2), which no other line's write splits (a line is under
 * PIPE_BUF bytes; a regular file's writes are serialized by the kernel), so that no worker
 * waits for another's write to the log. */
static void access_line(struct MHD_Connection *c, const struct request *r)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	char host[NI_MAXHOST] = "-", when[64], user[128], line[2048];
	time_t now = time(NULL);
	struct tm tm;
	size_t len, done = 0;
	int n;

	if (r->on_socket)
		snprintf(host, sizeof(host), "unix");
	else if (ci && ci->client_addr &&
		 getnameinfo(ci->client_addr,
			     ci->client_addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
								    : sizeof(struct sockaddr_in),
			     host, sizeof(host), NULL, 0, NI_NUMERICHOST))
		snprintf(host, sizeof(host), "?");
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%d/%b/%Y:%H:%M:%S +0000", &tm);
	n = snprintf(line, sizeof(line), "%s - %s [%s] \"%s %s %s\" %d %zu %.6f\n", host,
		     r->user[0] ? serve_escaped(r->user, user, sizeof(user)) : "-", when,
		     r->method, r->path, r->version, r->status, r->bytes, since(&r->start));
	if (n < 0)
		return;
	len = (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1; /* cut: still a line */
	line[len - 1] = '\n';
	while (done < len) {
		ssize_t w = write(STDERR_FILENO, line + done, len - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break; /* the log is gone: the request was answered all the same */
		done += (size_t)w;
	}
}

/* ---- Who is asking -------------------------------------------------------------------- */

/* The peer of a Unix-socket connection, by SO_PEERCRED: its uid and login name. Returns 0,
 * or -1 when the kernel does not say. */
static int peer_actor(struct MHD_Connection *c, struct audit_actor *a)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct passwd pw, *found = NULL;
	char buf[4096];

	memset(a, 0, sizeof(*a));
	if (!ci || getsockopt(ci->connect_fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) ||
	    len != sizeof(cred))
		return -1;
	a->uid = cred.uid;
	if (!getpwuid_r(cred.uid, &pw, buf, sizeof(buf), &found) && found &&
	    strlen(pw.pw_name) < sizeof(a->name))
		snprintf(a->name, sizeof(a->name), "%s", pw.pw_name);
	else
		snprintf(a->name, sizeof(a->name), "uid:%lu", (unsigned long)cred.uid);
	return 0;
}

/* steward.yaml's bytes, at most ROLE_YAML_MAX (st_malloc'd, with *len), or NULL when it
 * cannot be read or is larger: then no role is kept. */
static char *config_bytes(const char *path, size_t *len)
{
	struct stat st;
	char *buf = NULL;
	size_t n = 0;
	ssize_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) || st.st_size < 0 || st.st_size > ROLE_YAML_MAX ||
	    !(buf = st_malloc((size_t)st.st_size + 1)))
		goto fail;
	while (n <= (size_t)st.st_size &&
	       (got = read(fd, buf + n, (size_t)st.st_size + 1 - n)) > 0)
		n += (size_t)got;
	if (got < 0 || n > (size_t)st.st_size) /* an error, or it grew while read */
		goto fail;
	close(fd);
	*len = n;
	return buf;
fail:
	close(fd);
	st_free(buf);
	return NULL;
}

/* The stat of the password and group files (device, inode, size, modification and change
 * times): a new member of a group changes it. */
static void nss_stamp(struct stat st[2])
{
	const char *files[2] = {"/etc/passwd", "/etc/group"};

	memset(st, 0, 2 * sizeof(*st));
	for (int i = 0; i < 2; i++)
		if (stat(files[i], &st[i]))
			st[i].st_ino = (ino_t)-1, st[i].st_size = -1; /* missing: a stamp too */
}

static int same_stamp(const struct stat *a, const struct stat *b)
{
	for (int i = 0; i < 2; i++)
		if (a[i].st_dev != b[i].st_dev || a[i].st_ino != b[i].st_ino ||
		    a[i].st_size != b[i].st_size ||
		    a[i].st_mtim.tv_sec != b[i].st_mtim.tv_sec ||
		    a[i].st_mtim.tv_nsec != b[i].st_mtim.tv_nsec ||
		    a[i].st_ctim.tv_sec != b[i].st_ctim.tv_sec ||
		    a[i].st_ctim.tv_nsec != b[i].st_ctim.tv_nsec)
			return 0;
	return 1;
}

/* Whether a and b are the same stat of a file (device, inode, size, modification and change
 * times). */
static int same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* Whether a file whose stat is st was last changed over a second ago: a change after that
 * stat was taken gives the file a change time of its own (the kernel's clock is finer than a
 * second), so the same stat later means the same bytes. */
static int settled(const struct stat *st)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	return st->st_ctim.tv_sec < now.tv_sec - 1 && st->st_mtim.tv_sec < now.tv_sec - 1;
}

/* The actor's role from steward.yaml. Resolving it parses the file and reads the group
 * database, so the answer is kept per (name, uid) while steward.yaml holds the same bytes,
 * /etc/passwd and /etc/group the stat nss (taken for this request), and for at most
 * ROLE_TTL_S (groups from other name services). steward.yaml is stat'ed on every request
 * and read and compared when its stat changed or it was changed within the last second (so
 * no edit is missed however fast it follows another: see settled()). A config that does not
 * load is never kept: every request reports it. Returns 0, or -1 with err. */
static int resolve_role(struct server *s, struct audit_actor *a, const struct stat nss[2],
			struct st_error *err)
{
	struct role_cache *rc = &s->roles;
	struct catalog_config cfg = {0};
	struct stat file = {0};
	struct timespec t;
	size_t len = 0;
	char *yaml = NULL;
	unsigned long gen;
	int ret, known = !stat(s->o->ws->config, &file); /* before the bytes are read */

	clock_gettime(CLOCK_MONOTONIC, &t);
	pthread_mutex_lock(&rc->mu);
	if (!known || !rc->yaml || !rc->file_settled || !same_file(&rc->file, &file) ||
	    !same_stamp(rc->stamp, nss) || t.tv_sec - rc->since >= ROLE_TTL_S) {
		pthread_mutex_unlock(&rc->mu);
		yaml = config_bytes(s->o->ws->config, &len);
		pthread_mutex_lock(&rc->mu);
		if (!yaml || !rc->yaml || rc->yaml_len != len || memcmp(rc->yaml, yaml, len) ||
		    !same_stamp(rc->stamp, nss) || t.tv_sec - rc->since >= ROLE_TTL_S) {
			st_free(rc->yaml);
			rc->yaml = yaml; /* taken (NULL: nothing is kept) */
			rc->yaml_len = len;
			yaml = NULL;
			memcpy(rc->stamp, nss, sizeof(rc->stamp));
			rc->since = t.tv_sec;
			rc->n = 0;
			rc->gen++;
		}
		rc->file = file;
		rc->file_settled = known && rc->yaml && settled(&file);
	}
	gen = rc->gen;
	st_free(yaml);
	for (size_t i = 0; i < rc->n; i++)
		if (rc->v[i].uid == a->uid && !strcmp(rc->v[i].name, a->name)) {
			a->role = rc->v[i].role;
			pthread_mutex_unlock(&rc->mu);
			return 0;
		}
	pthread_mutex_unlock(&rc->mu);
	pthread_mutex_lock(&s->ident); /* getpwuid(), getgrnam(): not reentrant */
	ret = catalog_config_load(&cfg, s->o->ws, err) ||
	      audit_role_resolve(&cfg, s->o->ws->config, a, err);
	pthread_mutex_unlock(&s->ident);
	catalog_config_release(&cfg);
	if (ret)
		return -1;
	pthread_mutex_lock(&rc->mu);
	/* Kept only when the file read above is still the one compared (the config just
	 * loaded may be newer than it: then it is resolved again next time). */
	if (rc->yaml && rc->gen == gen) {
		if (rc->n == ROLE_CACHE_MAX)
			rc->n = 0;
		rc->v[rc->n].uid = a->uid;
		rc->v[rc->n].role = a->role;
		snprintf(rc->v[rc->n].name, sizeof(rc->v[rc->n].name), "%s", a->name);
		rc->n++;
	}
	pthread_mutex_unlock(&rc->mu);
	return 0;
}

/* The uid of login name (a token's user), (uid_t)-1 when there is none. The password
 * database is read once per name and kept while /etc/passwd and /etc/group keep their stat
 * (now, taken for this request), for at most ROLE_TTL_S, as the roles are. */
static uid_t user_uid(struct server *s, const char *name, const struct stat now[2])
{
	struct role_cache *rc = &s->roles;
	struct passwd pw, *found = NULL;
	struct timespec t;
	char buf[4096];
	unsigned long gen;
	uid_t uid;

	clock_gettime(CLOCK_MONOTONIC, &t);
	pthread_mutex_lock(&rc->mu);
	if (!same_stamp(rc->users_stamp, now) || t.tv_sec - rc->users_since >= ROLE_TTL_S) {
		memcpy(rc->users_stamp, now, sizeof(rc->users_stamp));
		rc->users_since = t.tv_sec;
		rc->nusers = 0;
		rc->users_gen++;
	}
	gen = rc->users_gen;
	for (size_t i = 0; i < rc->nusers; i++)
		if (!strcmp(rc->users[i].name, name)) {
			uid = rc->users[i].uid;
			pthread_mutex_unlock(&rc->mu);
			return uid;
		}
	pthread_mutex_unlock(&rc->mu);
	uid = !getpwnam_r(name, &pw, buf, sizeof(buf), &found) && found ? pw.pw_uid : (uid_t)-1;
	pthread_mutex_lock(&rc->mu);
	if (rc->users_gen == gen) {
		if (rc->nusers == ROLE_CACHE_MAX)
			rc->nusers = 0;
		rc->users[rc->nusers].uid = uid;
		snprintf(rc->users[rc->nusers].name, sizeof(rc->users[rc->nusers].name), "%s", name);
		rc->nusers++;
	}
	pthread_mutex_unlock(&rc->mu);
	return uid;
}

/* ---- Routes --------------------------------------------------------------------------- */

/* Runs route rt for actor a inside its audit record: denied (and recorded so) when a's role
 * is below the action's, else written as pending, answered, and chained with its outcome
 * (a read whose only effect is its answer: answered, then recorded once before it is sent).
 * When the record cannot be written the request is not answered (fail closed: 503). */
static enum MHD_Result run_route(struct server *s, struct MHD_Connection *c, struct request *r,
				 const struct serve_route *rt, struct audit_actor *a, const char *url,
				 const char *name)
{
	struct st_error err = ST_ERROR_INIT;
	char object[SERVE_TEXT_MAX];
	struct audit_entry e = {a, rt->action, NULL, NULL};
	struct audit_log *log;
	struct catalog *snap = NULL;
	enum MHD_Result ret;
	int need = audit_action_role(rt->action), once;

	e.object = serve_escaped(url, object, sizeof(object));
	if (!(log = serve_worker_log(s, &err)))
		return serve_reply_error(c, r, MHD_HTTP_SERVICE_UNAVAILABLE,
				   "the audit log cannot be written, so nothing is answered: %s",
				   err.msg);
	if (need < 0 || a->role < need) {
		char reason[128];

		snprintf(reason, sizeof(reason), "needs the '%s' role",
			 audit_role_name(need < 0 ? AUDIT_ROLE_ADMIN : need));
		if (audit_group_append(s->group, log, &e, AUDIT_DENIED, reason, NULL, &err))
			return serve_reply_error(c, r, MHD_HTTP_SERVICE_UNAVAILABLE,
					   "the audit log cannot be written: %s", err.msg);
		return serve_reply_error(c, r, MHD_HTTP_FORBIDDEN, "'%s' needs the '%s' role; '%s' has %s%s%s",
				   rt->path, audit_role_name(need < 0 ? AUDIT_ROLE_ADMIN : need),
				   a->name, a->role ? "the '" : "no role",
				   a->role ? audit_role_name(a->role) : "", a->role ? "' role" : "");
	}
	if ((rt->methods & SERVE_PAGE) && !strcmp(r->method, "POST") && !serve_csrf_ok(c, r)) {
		if (audit_group_append(s->group, log, &e, AUDIT_DENIED, "no valid csrf token", NULL,
				       &err))
			return serve_reply_error(c, r, MHD_HTTP_SERVICE_UNAVAILABLE,
						 "the audit log cannot be written: %s", err.msg);
		return serve_reply_error(c, r, MHD_HTTP_FORBIDDEN,
					 "the form's csrf token is missing or wrong; load the page "
					 "again and resend it");
	}
	/* A read whose only effect is its answer is recorded once, complete, after the handler
	 * has queued the answer and before it is sent (as the CLI holds such a command's
	 * output): one write and one shared sync instead of two, and the writes of requests
	 * recorded at the same time are grouped (one transaction and one sync for them all). */
	once = audit_action_output_only(rt->action) &&
	       (!strcmp(r->method, "GET") || !strcmp(r->method, "HEAD"));
	if (!once && audit_begin(log, &e, &err))
		return serve_reply_error(c, r, MHD_HTTP_SERVICE_UNAVAILABLE,
				   "the audit log cannot be written, so nothing is answered: %s",
				   err.msg);
	if (rt->methods & SERVE_SNAPSHOT) {
		struct st_error ignored = ST_ERROR_INIT;

		/* Without it (a catalog that cannot be opened) the handler says why. */
		if ((snap = serve_worker_catalog(s, &ignored)) &&
		    st_sql_run(catalog_db(snap), "BEGIN", &ignored))
			snap = NULL;
	}
	ret = rt->fn(s, c, r, a, name);
	if (snap) {
		struct st_error ignored = ST_ERROR_INIT;

		if (st_sql_run(catalog_db(snap), "COMMIT", &ignored))
			sqlite3_exec(catalog_db(snap), "ROLLBACK", NULL, NULL, NULL);
	}
	if (once ? audit_group_append(s->group, log, &e, r->status < 400 ? AUDIT_OK : AUDIT_ERROR, NULL,
				r->counts[0] ? r->counts : NULL, &err)
		 : audit_end(log, r->status < 400 ? AUDIT_OK : AUDIT_ERROR, NULL,
			     r->counts[0] ? r->counts : NULL, &err))
		return MHD_NO; /* the answer is queued; the connection is closed instead */
	return ret;
}

/* Records a request refused before anyone could be named (no token, a bad one): actor
 * "(anonymous)", which no login name can be, with the reason. Returns 0, or -1 with err. */
static int record_anonymous(struct server *s, const struct serve_route *rt, const char *url,
			    const char *reason, struct st_error *err)
{
	struct audit_actor a = {.uid = (uid_t)-1};
	struct audit_entry e = {&a, rt->action, NULL, NULL};
	char object[SERVE_TEXT_MAX], why[SERVE_TEXT_MAX];
	struct audit_log *log = serve_worker_log(s, err);

	snprintf(a.name, sizeof(a.name), "(anonymous)");
	e.object = serve_escaped(url, object, sizeof(object));
	return log ? audit_group_append(s->group, log, &e, AUDIT_DENIED,
					serve_escaped(reason, why, sizeof(why)), NULL, err)
		   : -1;
}

/* The caller over TCP: the user a bearer token names (for a page, the token may come from
 * the login form's cookie instead: never for the API, whose POSTs carry no CSRF token).
 * Returns 0 with *a filled, or -1 with err (ST_E_DENIED: no token, or one that is not good). */
static int token_actor(struct server *s, struct MHD_Connection *c, int page,
		       const struct stat nss[2], struct audit_actor *a, struct st_error *err)
{
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						    MHD_HTTP_HEADER_AUTHORIZATION);
	const char *cookie = page ? MHD_lookup_connection_value(c, MHD_COOKIE_KIND,
								 SERVE_TOKEN_COOKIE)
				  : NULL;
	struct audit_token t;
	struct audit_log *log;

	memset(a, 0, sizeof(*a));
	if ((!h || strncasecmp(h, "Bearer ", 7)) && !(cookie && *cookie))
		return st_error_set(err, ST_E_DENIED,
				    page ? "a token is needed: log in at '/login' with one (see "
					   "'steward token new')"
					 : "a bearer token is needed ('Authorization: Bearer "
					   "TOKEN'; see 'steward token new')");
	if (!(log = serve_worker_log(s, err)))
		return -1;
	if (audit_token_check(log, h && !strncasecmp(h, "Bearer ", 7) ? h + 7 : cookie, &t, err))
		return -1;
	snprintf(a->name, sizeof(a->name), "%s", t.user);
	a->uid = user_uid(s, a->name, nss);
	return 0;
}

/* Who is asking: the socket's peer, or (over TCP) the user of a bearer token; then their
 * role. Returns 0 with *a filled, or -1 after queueing the error answer into *ret (a request
 * refused for want of a name is recorded as "(anonymous)"). */
static int authenticate(struct server *s, struct MHD_Connection *c, struct request *r,
			const struct serve_route *rt, const char *url, struct audit_actor *a,
			enum MHD_Result *ret)
{
	struct st_error err = ST_ERROR_INIT, rec = ST_ERROR_INIT;
	struct stat nss[2];

	nss_stamp(nss); /* once for the request: the token's user and the role */
	if (r->on_socket ? peer_actor(c, a) && st_error_set(&err, ST_E_DENIED,
							     "cannot tell who is connected")
			 : token_actor(s, c, r->html, nss, a, &err)) {
		if (err.code != ST_E_DENIED) {
			*ret = serve_reply_error(c, r, MHD_HTTP_SERVICE_UNAVAILABLE, "%s", err.msg);
			return -1;
		}
		if (record_anonymous(s, rt, url, err.msg, &rec)) {
			*ret = serve_reply_error(c, r, MHD_HTTP_SERVICE_UNAVAILABLE,
					   "the audit log cannot be written: %s", rec.msg);
			return -1;
		}
		*ret = serve_reply_error(c, r, MHD_HTTP_UNAUTHORIZED, "%s", err.msg);
		return -1;
	}
	snprintf(r->user, sizeof(r->user), "%s", a->name);
	if (resolve_role(s, a, nss, &err)) {
		*ret = serve_reply_error(c, r, MHD_HTTP_INTERNAL_SERVER_ERROR, "%s", err.msg);
		return -1;
	}
	return 0;
}

/* Every route table: the API's, and the pages'. */
static const struct {
	const struct serve_route *routes;
	const size_t *n;
} tables[] = {
	{serve_api_routes, &serve_api_route_count},
	{serve_api_data_routes, &serve_api_data_route_count},
	{serve_api_lineage_routes, &serve_api_lineage_route_count},
	{serve_api_cli_routes, &serve_api_cli_route_count},
	{serve_page_routes, &serve_page_route_count},
};

/* Whether route x takes method. */
static int takes(const struct serve_route *x, const char *method)
{
	unsigned m = x->methods & SERVE_METHODS ? x->methods & SERVE_METHODS : SERVE_GET;

	return !strcmp(method, "POST") ? (m & SERVE_POST) != 0
				       : (!strcmp(method, "GET") || !strcmp(method, "HEAD")) &&
						 (m & SERVE_GET);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **req_cls)
{
	const struct endpoint *ep = cls;
	struct server *s = ep->s;
	struct request *r = *req_cls;
	struct audit_actor a;
	enum MHD_Result ret;
	const struct serve_route *rt = NULL;
	const char *cl, *name = NULL;
	unsigned methods;
	int rt_ok = 0;

	if (!r) { /* the headers are in: the request starts */
		if (!(r = st_calloc(1, sizeof(*r))))
			return MHD_NO;
		clock_gettime(CLOCK_MONOTONIC, &r->start);
		r->on_socket = ep->on_socket;
		serve_escaped(method, r->method, sizeof(r->method));
		serve_escaped(version ? version : "-", r->version, sizeof(r->version));
		/* libmicrohttpd hands over the path without its query (parsed into arguments),
		 * so a search term or another personal value in a query is never logged. */
		serve_escaped(url, r->path, sizeof(r->path));
		*req_cls = r;
		cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl && strtoull(cl, NULL, 10) > SERVE_BODY_MAX) /* refused before it is read */
			return serve_reply_error(c, r, MHD_HTTP_CONTENT_TOO_LARGE,
					   "the request body is over %zu bytes", SERVE_BODY_MAX);
		return MHD_YES;
	}
	if (*upload_size) { /* a body: kept (for the routes that take one), bounded */
		char *grown;

		if (*upload_size > SERVE_BODY_MAX - r->body_len) {
			/* A body of no stated length (chunked) that grows too large: libmicrohttpd
			 * cannot answer in the middle of a body, so the connection is closed. */
			r->status = MHD_HTTP_CONTENT_TOO_LARGE;
			return MHD_NO;
		}
		if (!(grown = st_realloc(r->body, r->body_len + *upload_size + 1)))
			return MHD_NO;
		memcpy(grown + r->body_len, upload, *upload_size);
		r->body = grown;
		r->body_len += *upload_size;
		r->body[r->body_len] = '\0';
		*upload_size = 0;
		return MHD_YES;
	}
	if (serve_check_args(c, r, &ret))
		return ret;
	for (size_t t = 0; t < sizeof(tables) / sizeof(*tables); t++)
		for (size_t i = 0; i < *tables[t].n; i++) {
			const struct serve_route *x = &tables[t].routes[i];
			size_t len = strlen(x->path);

			if (x->prefix ? !strncmp(url, x->path, len) && url[len] : !strcmp(url, x->path)) {
				int ok = takes(x, method);

				if (!rt || ok || !rt_ok) { /* one path may have a route per method */
					rt = x;
					rt_ok = ok;
					name = x->prefix ? url + len : NULL;
				}
			}
		}
	if (!rt) {
		char path[SERVE_TEXT_MAX];

		r->html = strncmp(url, "/api/", 5) != 0; /* a browser's mistyped page: a page */

		return serve_reply_error(c, r, MHD_HTTP_NOT_FOUND, "no such page '%s'",
					 serve_escaped(url, path, sizeof(path)));
	}
	r->html = (rt->methods & SERVE_PAGE) != 0;
	methods = rt->methods & SERVE_METHODS ? rt->methods & SERVE_METHODS : SERVE_GET;
	if (!strcmp(method, "POST") ? !(methods & SERVE_POST)
				    : (strcmp(method, "GET") && strcmp(method, "HEAD")) ||
					      !(methods & SERVE_GET))
		return serve_reply_error(c, r, MHD_HTTP_METHOD_NOT_ALLOWED, "'%s' takes %s",
					 rt->path,
					 methods == SERVE_GET    ? "GET only"
					 : methods == SERVE_POST ? "POST only"
								 : "GET or POST");
	if (r->body && strcmp(method, "POST"))
		return serve_reply_error(c, r, MHD_HTTP_BAD_REQUEST, "'%s' takes no request body",
					 rt->path);
	if (!rt->action)
		return rt->fn(s, c, r, NULL, name);
	if (authenticate(s, c, r, rt, url, &a, &ret))
		return ret;
	return run_route(s, c, r, rt, &a, url, name);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct request *r = *req_cls;
	const union MHD_ConnectionInfo *ci;

	(void)cls;
	(void)toe;
	if (!r)
		return;
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_HTTP_STATUS);
	if (ci && !r->status)
		r->status = (int)ci->http_status;
	access_line(c, r);
	if (r->body) /* a form may hold a subject's value or a token */
		sodium_memzero(r->body, r->body_len);
	st_free(r->body);
	st_free(r);
	*req_cls = NULL;
}

/* ---- Listening ------------------------------------------------------------------------ */

/* Parses "HOST:PORT" (HOST may be [v6]) into a socket address. Returns 0, or -1 with err. */
static int parse_listen(const char *spec, struct sockaddr_storage *ss, socklen_t *len,
			struct st_error *err)
{
	char host[256];
	const char *colon = strrchr(spec, ':'), *h = spec;
	size_t hlen;
	struct addrinfo hints = {0}, *ai = NULL;
	int rc;

	if (!colon || colon == spec || !colon[1])
		return st_error_set(err, ST_E_USAGE, "'%s' is not HOST:PORT", spec);
	hlen = (size_t)(colon - spec);
	if (spec[0] == '[' && colon[-1] == ']') {
		h = spec + 1;
		hlen -= 2;
	}
	if (hlen >= sizeof(host))
		return st_error_set(err, ST_E_USAGE, "'%s' is not HOST:PORT", spec);
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	if ((rc = getaddrinfo(host, colon + 1, &hints, &ai)))
		return st_error_set(err, ST_E_USAGE, "'%s' is not HOST:PORT with a numeric address: %s",
				    spec, gai_strerror(rc));
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

/* A listening Unix socket at path (mode 0660: the owner and the group may connect); a
 * leftover socket of a server that is gone is replaced, anything else there is refused. */
static int listen_unix(const char *path, struct st_error *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat sb;
	int fd = -1;
	mode_t old;

	if (strlen(path) >= sizeof(sa.sun_path))
		return st_error_set(err, ST_E_USAGE, "socket path '%s' is too long", path);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (!lstat(path, &sb)) {
		int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (!S_ISSOCK(sb.st_mode) || probe < 0 ||
		    !connect(probe, (struct sockaddr *)&sa, sizeof(sa))) {
			if (probe >= 0)
				close(probe);
			return st_error_set(err, ST_E_SYSTEM, "'%s' is in use", path);
		}
		close(probe);
		unlink(path); /* a socket nobody listens on */
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return st_error_set(err, ST_E_SYSTEM, "cannot make a socket: %s", strerror(errno));
	old = umask(0117);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 128)) {
		umask(old);
		st_error_set(err, ST_E_SYSTEM, "cannot listen on '%s': %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	umask(old);
	return fd;
}

/* A daemon on ep: with threads, a pool of that many threads, each with the connections it
 * took (a request waits while its thread answers another connection's); with none, a
 * thread for each connection. A worker waits for the audit log's sync for most of a
 * request, so that no request waits behind another's. */
static struct MHD_Daemon *start(struct endpoint *ep, unsigned threads, const struct sockaddr *sa,
				int fd)
{
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC |
			 (threads ? MHD_USE_EPOLL : MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL);

	if (sa)
		flags |= sa->sa_family == AF_INET6 ? MHD_USE_IPv6 : 0;
	return MHD_start_daemon(
		flags, 0, NULL, NULL, on_request, ep, MHD_OPTION_NOTIFY_COMPLETED, on_completed,
		ep, MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_CONNECTION_LIMIT,
		(unsigned)CONN_LIMIT, MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)PER_IP_LIMIT,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONN_TIMEOUT_S,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY,
		sa ? MHD_OPTION_SOCK_ADDR : MHD_OPTION_LISTEN_SOCKET,
		sa ? (void *)sa : (void *)(intptr_t)fd, MHD_OPTION_END);
}

int serve_run(const struct serve_opts *o, struct st_error *err)
{
	struct server s = {.o = o, .unix_fd = -1};
	struct sockaddr_storage ss;
	socklen_t sslen = 0;
	sigset_t set, old;
	unsigned threads = o->threads, handles = threads;
	int sig = 0, ret = -1, have_key = 0;

	if (!threads) {
		/* A thread a connection (start()); the handles kept open for them: many a CPU,
		 * since a worker spends most of a request waiting for the audit log's sync. */
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		handles = n > 0 && n < HANDLES_MAX / HANDLES_PER_CPU ? (unsigned)n * HANDLES_PER_CPU
								     : HANDLES_MAX;
	}
	if (!o->listen && !o->socket)
		return st_error_set(err, ST_E_USAGE, "nothing to listen on");
	if (st_mhd_load(err) || st_gvc_load(err)) /* loaded on first use: here, not mid-request */
		return -1;
	enough_files();
	if (o->listen && parse_listen(o->listen, &ss, &sslen, err))
		return -1;
	s.tcp_ep.s = s.unix_ep.s = &s;
	s.unix_ep.on_socket = 1;
	if (!(s.group = audit_group_new()))
		return st_error_oom(err);
	serve_cache_init(&s.cache, !o->no_cache);
	if (pthread_key_create(&s.key, serve_worker_end)) {
		audit_group_free(s.group);
		serve_cache_release(&s.cache);
		return st_error_set(err, ST_E_SYSTEM, "cannot make the workers' key");
	}
	have_key = 1;
	pthread_mutex_init(&s.idle.mu, NULL);
	pthread_mutex_init(&s.ident, NULL);
	pthread_mutex_init(&s.roles.mu, NULL);
	/* The workers inherit this mask: only the main thread takes the stop signals. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	signal(SIGPIPE, SIG_IGN);
	serve_workers_open(&s, handles);
	if (o->socket && (s.unix_fd = listen_unix(o->socket, err)) < 0)
		goto out;
	if (o->listen && !(s.tcp = start(&s.tcp_ep, threads, (struct sockaddr *)&ss, -1))) {
		st_error_set(err, ST_E_SYSTEM, "cannot listen on '%s': %s", o->listen,
			     strerror(errno ? errno : EADDRINUSE));
		goto out;
	}
	if (s.unix_fd >= 0) {
		if (!(s.unx = start(&s.unix_ep, threads, NULL, s.unix_fd))) {
			st_error_set(err, ST_E_SYSTEM, "cannot serve on '%s'", o->socket);
			goto out;
		}
		s.unix_fd = -1; /* the daemon's now */
	}
	if (s.tcp) {
		const union MHD_DaemonInfo *di = MHD_get_daemon_info(s.tcp, MHD_DAEMON_INFO_BIND_PORT);
		char host[NI_MAXHOST] = "?";

		getnameinfo((struct sockaddr *)&ss, sslen, host, sizeof(host), NULL, 0, NI_NUMERICHOST);
		printf(ss.ss_family == AF_INET6 ? "listening on http://[%s]:%u\n"
						: "listening on http://%s:%u\n",
		       host, di ? (unsigned)di->port : 0);
	}
	if (s.unx)
		printf("listening on unix:%s\n", o->socket);
	fflush(stdout);
	while (sigwait(&set, &sig) || (sig != SIGTERM && sig != SIGINT))
		;
	printf("stopping on %s\n", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	fflush(stdout);
	ret = 0;
out:
	/* Stop accepting, let the requests in flight finish, join the workers (whose audit
	 * logs their key's destructor closes). */
	if (s.tcp) {
		MHD_quiesce_daemon(s.tcp);
		MHD_stop_daemon(s.tcp);
	}
	if (s.unx) {
		MHD_quiesce_daemon(s.unx);
		MHD_stop_daemon(s.unx);
	}
	if (s.unix_fd >= 0)
		close(s.unix_fd);
	if (o->socket && (s.unx || s.unix_fd >= 0 || ret == 0))
		unlink(o->socket);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	serve_workers_close(&s); /* the workers are gone: theirs are idle */
	pthread_mutex_destroy(&s.idle.mu);
	pthread_mutex_destroy(&s.ident);
	pthread_mutex_destroy(&s.roles.mu);
	st_free(s.roles.yaml);
	audit_group_free(s.group);
	serve_cache_release(&s.cache);
	if (have_key) {
		pthread_key_delete(s.key);
	}
	return ret;
}
