/* Unit tests for common/: bounded buffers, the error object, the diagnostics list, the
 * statement cache, content digests. */
#include "alloc.h"
#include "buf.h"
#include "digest.h"
#include "error.h"
#include "harness.h"
#include "sql.h"
#include "strmap.h"

#include <sqlite3.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static void test_buf(void)
{
	struct st_buf b;
	char *p;

	st_buf_init(&b, 8);
	CHECK_STR(st_buf_str(&b), "");
	CHECK(st_buf_adds(&b, "abc") == 0);
	CHECK(st_buf_addf(&b, "%d%s", 12, "x") == 0);
	CHECK_STR(st_buf_str(&b), "abc12x");
	CHECK(st_buf_adds(&b, "xyz") == -1); /* 9 bytes > bound of 8 */
	CHECK_STR(st_buf_str(&b), "abc12x");  /* a failed append changes nothing */
	CHECK(st_buf_adds(&b, "yz") == 0);
	CHECK(b.len == 8);
	p = st_buf_detach(&b);
	CHECK_STR(p, "abc12xyz");
	CHECK(b.len == 0 && b.p == NULL);
	st_free(p);
	st_buf_reset(&b);
	st_buf_release(&b);
}

static void test_error(void)
{
	struct st_error e = ST_ERROR_INIT;
	char out[256];

	CHECK(st_error_set(&e, ST_E_INVALID, "unknown key '%s'", "foo") == -1);
	st_error_format(&e, out, sizeof(out));
	CHECK_STR(out, "unknown key 'foo'");
	st_error_set_at(&e, ST_E_INVALID, "a.yaml", 3, 7, "bad");
	st_error_format(&e, out, sizeof(out));
	CHECK_STR(out, "a.yaml:3:7: bad");
	st_error_prefix(&e, "cannot load '%s'", "x");
	st_error_format(&e, out, sizeof(out));
	CHECK_STR(out, "a.yaml:3:7: cannot load 'x': bad");
	CHECK(e.code == ST_E_INVALID);
	st_error_set_at(&e, ST_E_SYSTEM, "f", 2, 0, "m");
	st_error_format(&e, out, sizeof(out));
	CHECK_STR(out, "f:2: m");
	st_error_oom(&e);
	CHECK_STR(e.msg, "out of memory");
	CHECK(e.code == ST_E_SYSTEM);
	/* A long message with a long prefix is cut, never overflowed. */
	memset(out, 'x', sizeof(out) - 1);
	out[sizeof(out) - 1] = '\0';
	st_error_set(&e, 1, "%s%s%s%s%s", out, out, out, out, out);
	st_error_prefix(&e, "%s", out);
	CHECK(strlen(e.msg) == sizeof(e.msg) - 1);
}

static void test_diags(void)
{
	struct st_diags d;

	st_diags_init(&d, 2);
	st_diags_add(&d, ST_SEV_ERROR, "a", 1, 2, "one %d", 1);
	st_diags_add(&d, ST_SEV_WARNING, "b", 3, 4, "two");
	st_diags_add(&d, ST_SEV_ERROR, "c", 5, 6, "three");
	CHECK(d.n == 2);
	CHECK(d.nerrors == 2 && d.nwarnings == 1);
	CHECK_STR(d.v[0].msg, "one 1");
	CHECK(d.v[1].line == 3 && d.v[1].col == 4);
	st_diags_release(&d);
	CHECK(d.n == 0 && d.nerrors == 0);
}

static void test_grow(void)
{
	int *v = NULL;
	size_t cap = 0;

	CHECK(st_grow(&v, &cap, 3, sizeof(*v)) == 0 && cap >= 3);
	CHECK(st_grow(&v, &cap, (size_t)-1 / 2, sizeof(*v)) == -1); /* overflow is refused */
	CHECK(v != NULL);
	st_free(v);
	CHECK(st_calloc((size_t)-1 / 2, 4) == NULL);
}

/* The VmFlags of the mapping that holds p, in /proc/self/smaps, as " rd wr ... " into out;
 * 0, or -1 when they cannot be read. */
static int vm_flags(const void *p, char *out, size_t n)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	int in = 0, r = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;

		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2) { /* a mapping's first line */
			in = (uintptr_t)p >= lo && (uintptr_t)p < hi;
			continue;
		}
		if (in && !strncmp(line, "VmFlags:", 8)) {
			line[strcspn(line, "\n")] = '\0';
			snprintf(out, n, "%s ", line + 8);
			r = 0;
			break;
		}
	}
	fclose(f);
	return r;
}

/* Big buffers: writable, growing keeps their bytes, and no huge pages are asked for (a
 * regression test: on a VM whose balloon reports free memory, faulting huge pages in was
 * six times slower than 4 kB pages after two seconds of idle; see alloc.h). */
static void test_big(void)
{
	unsigned char *p = st_big_alloc((size_t)5 << 20), *q;
	size_t n = (size_t)5 << 20;
	char flags[600];

	CHECK(p != NULL);
	if (!p)
		return;
	for (size_t i = 0; i < n; i += 4096)
		p[i] = (unsigned char)(i >> 12);
	p[n - 1] = 0xAB;
	if (!vm_flags(p, flags, sizeof(flags)))
		CHECK(!strstr(flags, " hg "));
	q = st_big_realloc(p, (size_t)40 << 20);
	CHECK(q != NULL);
	if (q) {
		int same = q[n - 1] == 0xAB;

		for (size_t i = 0; i < n; i += 4096)
			same &= q[i] == (unsigned char)(i >> 12);
		CHECK(same);
		q[((size_t)40 << 20) - 1] = 1;
		p = q;
	}
	st_big_free(p);
	st_big_free(NULL);
}

/* The per-thread statement cache: off, statements are prepared and finalized; on, the
 * same statement comes back reset with its bindings cleared, a nested use of the same SQL
 * gets a statement of its own, and dropping a connection's statements lets it close. */
static void test_sql_cache(void)
{
	static const char sel[] = "SELECT ?1 + 1";
	struct st_error err = ST_ERROR_INIT;
	sqlite3 *db = NULL;
	sqlite3_stmt *a = NULL, *b = NULL, *c = NULL;

	CHECK(sqlite3_open(":memory:", &db) == SQLITE_OK);
	CHECK(st_sql_cached(db, &a, sel, &err) == 0 && a);
	CHECK(sqlite3_next_stmt(db, NULL) == a);
	st_sql_done(a); /* off: finalized */
	CHECK(sqlite3_next_stmt(db, NULL) == NULL);

	st_sql_cache_thread(1);
	CHECK(st_sql_cached(db, &a, sel, &err) == 0);
	sqlite3_bind_int(a, 1, 41);
	CHECK(sqlite3_step(a) == SQLITE_ROW && sqlite3_column_int(a, 0) == 42);
	CHECK(st_sql_cached(db, &b, sel, &err) == 0 && b && b != a); /* a is in use */
	st_sql_done(b); /* not kept: finalized */
	st_sql_done(a);
	CHECK(!sqlite3_stmt_busy(a)); /* reset: no read transaction left open */
	CHECK(st_sql_cached(db, &c, sel, &err) == 0 && c == a);
	CHECK(sqlite3_step(c) == SQLITE_ROW && sqlite3_column_type(c, 0) == SQLITE_NULL);
	st_sql_done(c); /* (the binding of 41 was cleared: NULL + 1 is NULL) */
	CHECK(st_sql_run(db, "CREATE TABLE t(x)", &err) == 0);
	CHECK(st_sql_run(db, "INSERT INTO nowhere VALUES (1)", &err) == -1);
	CHECK_HAS(err.msg, "no such table: nowhere");
	CHECK(st_sql_cached(db, &a, "SELECT nonsense FROM", &err) == -1 && a == NULL);
	st_sql_cache_drop(db);
	CHECK(sqlite3_next_stmt(db, NULL) == NULL);
	CHECK(sqlite3_close(db) == SQLITE_OK);
	st_sql_cache_thread(0);
}

static void hex(const unsigned char *d, char out[2 * ST_DIGEST_LEN + 1])
{
	for (int i = 0; i < ST_DIGEST_LEN; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* SHA-256's test vectors (FIPS 180-4 examples), whole and in pieces. */
static void test_digest(void)
{
	static const char two[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	unsigned char d[ST_DIGEST_LEN];
	char h[2 * ST_DIGEST_LEN + 1];
	struct st_digest x;

	st_digest("abc", 3, d);
	hex(d, h);
	CHECK_STR(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	st_digest("", 0, d);
	hex(d, h);
	CHECK_STR(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	st_digest_init(&x);
	for (size_t i = 0; i < sizeof(two) - 1; i += 7)
		st_digest_update(&x, two + i, sizeof(two) - 1 - i < 7 ? sizeof(two) - 1 - i : 7);
	st_digest_final(&x, d);
	hex(d, h);
	CHECK_STR(h, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

/* The string map: keys in the order first put, values kept through growth, lengths (not
 * NULs) telling keys apart, borrowed keys used in place, and a released map empty and
 * usable again. */
static void test_strmap(void)
{
	struct st_strmap m, b;
	struct st_strent *e;
	char key[32], *big;
	int ok = 1;

	memset(&m, 0, sizeof(m)); /* zero is an empty map that copies */
	CHECK(st_strmap_gets(&m, "a") == NULL);
	for (int i = 0; i < 5000; i++) {
		snprintf(key, sizeof(key), "model.shop.m%d", i);
		if (st_strmap_set(&m, key, i * 3))
			ok = 0;
	}
	CHECK(ok && m.n == 5000);
	CHECK(st_strmap_set(&m, "model.shop.m17", -1) == 0 && m.n == 5000); /* keeps its place */
	for (int i = 0; i < 5000; i++) {
		snprintf(key, sizeof(key), "model.shop.m%d", i);
		e = st_strmap_gets(&m, key);
		ok &= e && e->val == (i == 17 ? -1 : i * 3) && e == &m.e[i] && !strcmp(e->key, key) &&
		      e->key != key;
	}
	CHECK(ok);
	CHECK(st_strmap_gets(&m, "model.shop.m5000") == NULL);
	CHECK(st_strmap_put(&m, "a\0b", 3, &e) == 1 && e->len == 3 && !memcmp(e->key, "a\0b", 4));
	CHECK(st_strmap_get(&m, "a\0c", 3) == NULL && st_strmap_get(&m, "a", 1) == NULL);
	CHECK(st_strmap_put(&m, "a\0b", 3, NULL) == 0);
	CHECK(st_strmap_put(&m, "", 0, &e) == 1 && e->key[0] == '\0');
	if ((big = st_malloc(200000))) { /* a key over a block */
		memset(big, 'x', 199999);
		big[199999] = '\0';
		CHECK(st_strmap_set(&m, big, 7) == 0);
		e = st_strmap_gets(&m, big);
		CHECK(e && e->val == 7 && e->len == 199999 && e->key != big);
		st_free(big);
	}
	st_strmap_release(&m);
	CHECK(m.n == 0 && st_strmap_gets(&m, "model.shop.m1") == NULL);
	CHECK(st_strmap_set(&m, "again", 1) == 0 && st_strmap_gets(&m, "again")->val == 1);
	st_strmap_release(&m);

	st_strmap_init(&b, ST_STRMAP_BORROW);
	CHECK(st_strmap_set(&b, "kept", 2) == 0 && st_strmap_gets(&b, "kept") &&
	      strcmp(b.e[0].key, "kept") == 0);
	snprintf(key, sizeof(key), "mine");
	CHECK(st_strmap_put(&b, key, 4, &e) == 1 && e->key == key);
	st_strmap_release(&b);
	CHECK(b.borrow == 1 && b.n == 0);
}

/* Hash flooding, the attack: names chosen so that a hash anyone can compute sends them all
 * to one slot. These are chosen against FNV-1a finished with MurmurHash3's mix (what the
 * maps used before): 1000 names whose hashes share their low 12 bits, all one slot of a
 * table of 2048, half a million probes to find each once. With the process's own SipHash
 * key they spread as any names do. */
static uint64_t fnv_mix(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

static void test_strmap_flood(void)
{
	struct st_strmap m;
	char key[32];
	int ok = 1, n = 0;

	memset(&m, 0, sizeof(m));
	for (uint32_t i = 0; n < 1000 && i < 100000000u; i++) {
		snprintf(key, sizeof(key), "model.x.%u", i);
		if (fnv_mix(key) & 0xfff)
			continue;
		ok &= st_strmap_set(&m, key, n) == 0;
		n++;
	}
	CHECK(ok && n == 1000 && m.n == 1000 && m.nslots == 2048);
	/* linear probing at half load: about half a probe per key; the flood: 500 */
	CHECK(st_strmap_displacement(&m) < 5000);
	st_strmap_release(&m);
}

int main(void)
{
	test_buf();
	test_error();
	test_diags();
	test_grow();
	test_big();
	test_strmap();
	test_strmap_flood();
	test_sql_cache();
	test_digest();
	return t_done();
}
