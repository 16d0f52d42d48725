/* The keyring: 32-byte secret keys in .steward/keys/, one file each, plus a small text
 * index of ids, versions and states. Files are checked the way ssh checks its keys, and
 * secrets live only in guarded memory that is wiped when released. */
#include "pii.h"
#include "alloc.h"
#include "buf.h"
#include "catalog.h"
#include "file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define KEYRING "keyring"

static const char *const status_names[] = {"current", "previous", "retired"};

const char *pii_key_status_name(int status)
{
	return status >= 0 && status <= PII_KEY_RETIRED ? status_names[status] : "?";
}

/* libsodium must be initialised before sodium_malloc(); it is idempotent. */
static int sodium_ready(struct st_error *err)
{
	if (sodium_init() < 0)
		return st_error_set(err, ST_E_SYSTEM, "cannot initialise libsodium");
	return 0;
}

static int path_in(char *out, size_t n, const char *dir, const char *name, const char *ext,
		   struct st_error *err)
{
	int r = snprintf(out, n, "%s/%s%s", dir, name, ext);

	if (r < 0 || (size_t)r >= n)
		return st_error_set(err, ST_E_SYSTEM, "key path under '%s' is too long", dir);
	return 0;
}

static int check_dir(const char *dir, struct st_error *err)
{
	struct stat sb;

	if (lstat(dir, &sb))
		return st_error_set(err, errno == ENOENT ? ST_E_NOTFOUND : ST_E_SYSTEM,
				    errno == ENOENT ? "no keys in '%s' (run 'steward key init')"
						    : "cannot use key directory '%s'",
				    dir);
	if (S_ISLNK(sb.st_mode))
		return st_error_set(err, ST_E_DENIED,
				    "key directory '%s' is a symbolic link; refusing to use it", dir);
	if (!S_ISDIR(sb.st_mode))
		return st_error_set(err, ST_E_DENIED, "key directory '%s' is not a directory", dir);
	if (sb.st_mode & 022)
		return st_error_set(err, ST_E_DENIED,
				    "key directory '%s' is writable by group or others (mode %04o); "
				    "run 'chmod 700 %s'",
				    dir, (unsigned)(sb.st_mode & 07777), dir);
	return 0;
}

static int load_secret(struct pii_key *k, const char *dir, struct st_error *err)
{
	char path[PATH_MAX];
	struct stat sb;
	size_t got = 0;
	int fd, ret = -1;

	if (path_in(path, sizeof(path), dir, k->id, ".key", err))
		return -1;
	fd = st_file_open_private(path, "key file", &sb, err);
	if (fd < 0)
		return -1;
	if (sb.st_size != PII_KEY_BYTES) {
		st_error_set(err, ST_E_DENIED, "key file '%s' has %lld bytes; a key has %d", path,
			     (long long)sb.st_size, PII_KEY_BYTES);
		goto out;
	}
	k->secret = sodium_malloc(PII_KEY_BYTES);
	if (!k->secret) {
		st_error_oom(err);
		goto out;
	}
	while (got < PII_KEY_BYTES) {
		ssize_t r = read(fd, k->secret + got, PII_KEY_BYTES - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			st_error_set(err, ST_E_SYSTEM, "cannot read key file '%s'", path);
			goto out;
		}
		got += (size_t)r;
	}
	sodium_mprotect_readonly(k->secret);
	ret = 0;
out:
	if (ret && k->secret) {
		sodium_free(k->secret); /* sodium_free wipes before freeing */
		k->secret = NULL;
	}
	close(fd);
	return ret;
}

/* Writes len bytes to path through a temporary file, fsync and rename, mode 0600. */
static int write_atomic(const char *dir, const char *name, const void *data, size_t len,
			int exclusive, struct st_error *err)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	int fd, dfd, ret = -1;
	size_t off = 0;

	if (path_in(path, sizeof(path), dir, name, "", err) ||
	    path_in(tmp, sizeof(tmp), dir, name, ".tmp", err))
		return -1;
	if (exclusive && !access(path, F_OK))
		return st_error_set(err, ST_E_SYSTEM, "'%s' already exists", path);
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return st_error_set(err, ST_E_SYSTEM, "cannot create '%s': %s", tmp, strerror(errno));
	while (off < len) {
		ssize_t r = write(fd, (const char *)data + off, len - off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		off += (size_t)r;
	}
	if (off != len || fsync(fd)) {
		st_error_set(err, ST_E_SYSTEM, "cannot write '%s': %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	close(fd);
	if (rename(tmp, path)) {
		st_error_set(err, ST_E_SYSTEM, "cannot replace '%s': %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	ret = 0;
	return ret;
}

static int save_index(const struct pii_keyring *kr, struct st_error *err)
{
	struct st_buf b;
	int ret = -1;

	st_buf_init(&b, 1 << 20);
	if (st_buf_adds(&b, "# steward keyring: id version status created (UTC)\n"))
		goto nomem;
	for (size_t i = 0; i < kr->n; i++)
		if (st_buf_addf(&b, "%s %d %s %s\n", kr->keys[i].id, kr->keys[i].version,
				pii_key_status_name(kr->keys[i].status), kr->keys[i].created))
			goto nomem;
	ret = write_atomic(kr->dir, KEYRING, b.p, b.len, 0, err);
	goto out;
nomem:
	st_error_oom(err);
out:
	st_buf_release(&b);
	return ret;
}

static int parse_index(struct pii_keyring *kr, const char *text, const char *path,
		       struct st_error *err)
{
	const char *line = text;
	unsigned lineno = 0;

	while (*line) {
		const char *nl = strchr(line, '\n');
		size_t n = nl ? (size_t)(nl - line) : strlen(line);
		char buf[256], id[PII_KEY_ID_MAX], status[16], created[32];
		struct pii_key *k;
		int version, st;

		lineno++;
		if (n && line[0] != '#') {
			if (n >= sizeof(buf))
				return st_error_set_at(err, ST_E_INVALID, path, lineno, 0,
						       "line too long");
			memcpy(buf, line, n);
			buf[n] = '\0';
			if (sscanf(buf, "%15s %d %15s %31s", id, &version, status, created) != 4 ||
			    version < 1)
				return st_error_set_at(err, ST_E_INVALID, path, lineno, 0,
						       "malformed keyring line");
			for (st = 0; st <= PII_KEY_RETIRED && strcmp(status, status_names[st]); st++)
				;
			if (st > PII_KEY_RETIRED)
				return st_error_set_at(err, ST_E_INVALID, path, lineno, 0,
						       "unknown key status '%s'", status);
			if (st_grow(&kr->keys, &kr->cap, kr->n + 1, sizeof(*kr->keys)))
				return st_error_oom(err);
			k = &kr->keys[kr->n++];
			memset(k, 0, sizeof(*k));
			memcpy(k->id, id, sizeof(k->id));
			k->version = version;
			k->status = st;
			memcpy(k->created, created, sizeof(k->created));
		}
		line += n + (nl ? 1 : 0);
	}
	return 0;
}

int pii_keyring_open(struct pii_keyring *kr, const char *dir, int load_secrets,
		     struct st_error *err)
{
	char path[PATH_MAX], text[65536];
	struct stat sb;
	ssize_t r;
	int fd;

	memset(kr, 0, sizeof(*kr));
	if (sodium_ready(err) || check_dir(dir, err))
		return -1;
	if (!(kr->dir = st_strdup(dir)))
		return st_error_oom(err);
	if (path_in(path, sizeof(path), dir, KEYRING, "", err))
		return -1;
	fd = st_file_open_private(path, "key file", &sb, err);
	if (fd < 0) {
		if (err->code == ST_E_NOTFOUND)
			st_error_set(err, ST_E_NOTFOUND, "no keys in '%s' (run 'steward key init')",
				     dir);
		return -1;
	}
	r = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (r < 0 || r == (ssize_t)sizeof(text) - 1)
		return st_error_set(err, ST_E_SYSTEM, "cannot read '%s'", path);
	text[r] = '\0';
	if (parse_index(kr, text, path, err))
		return -1;
	if (!pii_keyring_current(kr))
		return st_error_set(err, ST_E_INVALID, "'%s' has no current key", path);
	for (size_t i = 0; load_secrets && i < kr->n; i++)
		if (kr->keys[i].status != PII_KEY_RETIRED && load_secret(&kr->keys[i], dir, err))
			return -1;
	return 0;
}

void pii_keyring_release(struct pii_keyring *kr)
{
	for (size_t i = 0; i < kr->n; i++)
		sodium_free(kr->keys[i].secret);
	st_free(kr->keys);
	st_free(kr->dir);
	memset(kr, 0, sizeof(*kr));
}

const struct pii_key *pii_keyring_current(const struct pii_keyring *kr)
{
	for (size_t i = 0; i < kr->n; i++)
		if (kr->keys[i].status == PII_KEY_CURRENT)
			return &kr->keys[i];
	return NULL;
}

const struct pii_key *pii_keyring_find(const struct pii_keyring *kr, const char *id)
{
	for (size_t i = 0; i < kr->n; i++)
		if (!strcmp(kr->keys[i].id, id))
			return &kr->keys[i];
	return NULL;
}

/* Generates key version v, writes its file and appends it to kr as current. */
static int add_key(struct pii_keyring *kr, int version, struct st_error *err)
{
	unsigned char *secret = sodium_malloc(PII_KEY_BYTES);
	struct pii_key *k;
	char name[PII_KEY_ID_MAX + 8];
	time_t now = time(NULL);
	struct tm tm;
	int ret = -1;

	if (!secret)
		return st_error_oom(err);
	if (st_grow(&kr->keys, &kr->cap, kr->n + 1, sizeof(*kr->keys))) {
		st_error_oom(err);
		goto out;
	}
	k = &kr->keys[kr->n];
	memset(k, 0, sizeof(*k));
	snprintf(k->id, sizeof(k->id), "k%d", version);
	k->version = version;
	k->status = PII_KEY_CURRENT;
	gmtime_r(&now, &tm);
	strftime(k->created, sizeof(k->created), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(name, sizeof(name), "%s.key", k->id);
	randombytes_buf(secret, PII_KEY_BYTES);
	if (write_atomic(kr->dir, name, secret, PII_KEY_BYTES, 1, err))
		goto out;
	kr->n++;
	ret = 0;
out:
	sodium_free(secret);
	return ret;
}

int pii_keyring_create(const char *dir, struct st_error *err)
{
	struct pii_keyring kr;
	char path[PATH_MAX];
	mode_t old = umask(077);
	int ret = -1;

	memset(&kr, 0, sizeof(kr));
	if (sodium_ready(err))
		goto out;
	if (mkdir(dir, 0700) && errno != EEXIST) {
		st_error_set(err, ST_E_SYSTEM, "cannot create '%s': %s", dir, strerror(errno));
		goto out;
	}
	if (check_dir(dir, err) || path_in(path, sizeof(path), dir, KEYRING, "", err))
		goto out;
	if (!access(path, F_OK)) {
		st_error_set(err, ST_E_INVALID,
			     "keys already exist in '%s'; use 'steward key rotate' for a new one", dir);
		goto out;
	}
	if (!(kr.dir = st_strdup(dir))) {
		st_error_oom(err);
		goto out;
	}
	if (add_key(&kr, 1, err) || save_index(&kr, err))
		goto out;
	ret = 0;
out:
	pii_keyring_release(&kr);
	umask(old);
	return ret;
}

int pii_keyring_rotate(struct pii_keyring *kr, char *new_id, size_t n, struct st_error *err)
{
	mode_t old = umask(077);
	int version = 0, ret = -1;
	size_t prev = kr->n;

	for (size_t i = 0; i < kr->n; i++)
		version = kr->keys[i].version > version ? kr->keys[i].version : version;
	if (add_key(kr, version + 1, err))
		goto out;
	for (size_t i = 0; i < prev; i++)
		if (kr->keys[i].status == PII_KEY_CURRENT)
			kr->keys[i].status = PII_KEY_PREVIOUS;
	if (save_index(kr, err))
		goto out;
	snprintf(new_id, n, "%s", kr->keys[kr->n - 1].id);
	ret = 0;
out:
	umask(old);
	return ret;
}

int pii_keyring_retire(struct pii_keyring *kr, const char *id, struct st_error *err)
{
	struct pii_key *k = (struct pii_key *)pii_keyring_find(kr, id);
	unsigned char zero[PII_KEY_BYTES] = {0};
	char path[PATH_MAX];
	int fd;

	if (!k)
		return st_error_set(err, ST_E_NOTFOUND, "no key '%s'", id);
	if (k->status == PII_KEY_CURRENT)
		return st_error_set(err, ST_E_INVALID,
				    "'%s' is the current key; rotate to a new one before retiring it",
				    id);
	if (k->status == PII_KEY_RETIRED)
		return st_error_set(err, ST_E_INVALID, "key '%s' is already retired", id);
	if (path_in(path, sizeof(path), kr->dir, k->id, ".key", err))
		return -1;
	k->status = PII_KEY_RETIRED;
	if (save_index(kr, err))
		return -1;
	/* Overwrite before unlinking; a copy-on-write file system may still keep old blocks,
	 * which docs/pseudonyms.md says. */
	fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, zero, sizeof(zero)) != (ssize_t)sizeof(zero) || fsync(fd))
			st_error_set(err, ST_E_SYSTEM, "cannot overwrite '%s'", path);
		close(fd);
	}
	if (unlink(path) && errno != ENOENT)
		return st_error_set(err, ST_E_SYSTEM, "cannot delete '%s': %s", path, strerror(errno));
	sodium_free(k->secret);
	k->secret = NULL;
	return err->code ? -1 : 0;
}
