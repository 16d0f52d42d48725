/* The YAML fast path (catalog/yfast.c) against libyaml: whatever the fast path accepts,
 * libyaml must parse without error into the same events (type, start line and column,
 * scalar text and style). Inputs: hand-written cases, the example catalog, descriptors
 * shaped like the generated benchmark catalogs, and seeded random mutations of all of
 * them. The fast path must also accept the plain shapes it exists for. */
#include "alloc.h"
#include "harness.h"
#include "utf8.h"
#include "ydoc.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct evs {
	yaml_event_t *v;
	size_t n, cap;
};

static int mismatches, accepted, declined;

/* libyaml's events for text, or -1 when it reports an error. Scalars are kept. */
static int libyaml_events(const unsigned char *text, size_t len, struct evs *out)
{
	yaml_parser_t p;
	int ret = 0;

	out->n = 0;
	if (!yaml_parser_initialize(&p))
		return -1;
	yaml_parser_set_input_string(&p, text, len);
	yaml_parser_set_encoding(&p, YAML_UTF8_ENCODING);
	for (;;) {
		yaml_event_t e;

		if (!yaml_parser_parse(&p, &e)) {
			ret = -1;
			break;
		}
		if (st_grow(&out->v, &out->cap, out->n + 1, sizeof(*out->v))) {
			yaml_event_delete(&e);
			ret = -1;
			break;
		}
		out->v[out->n++] = e;
		if (e.type == YAML_STREAM_END_EVENT)
			break;
	}
	yaml_parser_delete(&p);
	return ret;
}

static void libyaml_free(struct evs *e)
{
	for (size_t i = 0; i < e->n; i++)
		yaml_event_delete(&e->v[i]);
	e->n = 0;
}

static const char *type_name(int t)
{
	static const char *const names[] = {"none",    "stream-start", "stream-end", "doc-start",
					    "doc-end", "alias",	       "scalar",     "seq-start",
					    "seq-end", "map-start",    "map-end"};

	return t >= 0 && t <= 10 ? names[t] : "?";
}

/* Compares the fast path with libyaml on one input; prints the first difference. */
static void compare(const unsigned char *text, size_t len, const char *what)
{
	static struct evs fast, slow;
	int r = catalog_yfast_scan(text, len, &fast.v, &fast.n, &fast.cap), plain;
	const char *why = NULL;
	size_t i = 0;

	if (r < 0) {
		mismatches++;
		printf("# %s: out of memory\n", what);
		return;
	}
	if ((plain = catalog_yfast_plain(text, len))) { /* the loader skips the UTF-8 check */
		static struct evs again;
		unsigned line, col;
		int ascii = 1;

		for (size_t k = 0; k < len; k++)
			ascii &= text[k] < 0x80;
		if (st_utf8_check(text, len, &line, &col) || plain != (ascii ? 2 : 1) ||
		    catalog_yfast_scan_plain(text, len, plain, &again.v, &again.n, &again.cap) != r ||
		    again.n != fast.n) {
			mismatches++;
			printf("# %s: plain text the UTF-8 check or the plain scan disagrees with\n",
			       what);
		}
	} else if (r > 0) {
		mismatches++;
		printf("# %s: scanned text that is not plain\n", what);
	}
	if (r == 0) {
		declined++;
		return;
	}
	accepted++;
	if (libyaml_events(text, len, &slow)) {
		why = "libyaml reports an error";
	} else if (slow.n != fast.n) {
		why = "event count differs";
	}
	for (; !why && i < fast.n; i++) {
		const yaml_event_t *a = &fast.v[i], *b = &slow.v[i];

		if (a->type != b->type)
			why = "type differs";
		else if (a->type != YAML_STREAM_END_EVENT && a->type != YAML_DOCUMENT_END_EVENT &&
			 a->type != YAML_MAPPING_END_EVENT && a->type != YAML_SEQUENCE_END_EVENT &&
			 (a->start_mark.line != b->start_mark.line ||
			  a->start_mark.column != b->start_mark.column))
			why = "mark differs";
		else if (a->type == YAML_SCALAR_EVENT &&
			 (a->data.scalar.length != b->data.scalar.length ||
			  memcmp(a->data.scalar.value, b->data.scalar.value,
				 a->data.scalar.length) ||
			  b->data.scalar.style != YAML_PLAIN_SCALAR_STYLE || b->data.scalar.tag ||
			  b->data.scalar.anchor))
			why = "scalar differs";
		else if ((a->type == YAML_MAPPING_START_EVENT &&
			  (b->data.mapping_start.anchor || b->data.mapping_start.tag)) ||
			 (a->type == YAML_SEQUENCE_START_EVENT &&
			  (b->data.sequence_start.anchor || b->data.sequence_start.tag)))
			why = "anchor or tag";
	}
	if (why) {
		if (mismatches++ < 5) {
			printf("# %s: %s", what, why);
			if (i && i <= fast.n)
				printf(" at event %zu (%s %zu:%zu)", i - 1,
				       type_name(fast.v[i - 1].type),
				       (size_t)fast.v[i - 1].start_mark.line,
				       (size_t)fast.v[i - 1].start_mark.column);
			printf("\n# input: ");
			for (size_t k = 0; k < len && k < 300; k++)
				putchar(text[k] == '\n' ? '|' : text[k]);
			printf("\n");
		}
	}
	libyaml_free(&slow);
}

/* Descriptors the fast path is for: it must take every one of them. */
static const char *const plain[] = {
	"kind: table\nname: mart.coupon_cart_7957\ndescription: Synthetic redshift table number "
	"7957 for scale tests.\nowner: ml-platform\ndomain: growth\nsystem: redshift\nlocation: "
	"redshift://synthetic/mart.coupon_cart_7957\ntags: [synthetic, mart]\ncolumns:\n"
	"  - {name: id, type: int64, pii: none}\n"
	"  - {name: user_count_1, type: int64, pii: none, from: [raw.c_1813.invoice_code_1]}\n"
	"lineage:\n  upstream: [raw.campaign_coupon_1813]\n  job: "
	"synthetic:mart.coupon_cart_7957\n",
	"---\nkind: table\nname: a.b\ncolumns:\n  - {name: id, type: int64, pii: none}\n---\n"
	"kind: table\nname: a.c\n",
	"# comment\nkind: table   # trailing\nname: a.b\n\nfields:\n- name: id\n  type: int64\n"
	"  pii: none\n- name: email\n  type: string\n  pii: direct\n  category: "
	"user.contact.email\n"
	"  fields:\n    - name: x\n      type: int\nowner: team\n",
	"kind: table\nname: a.b\ndescription: Ünïcödé text, 日本語 and ° signs\nerasure:\n"
	"  action: delete\n  match: id\ntags: []\nempty: {}\n",
	"a:\n  b:\n    c: [x, [y, z], {k: v}]\n  d: -5\ne: .5\n",
};

/* Inputs that must be declined, or be given the same events (a check of the checker). */
static const char *const hard[] = {
	"a: 'quoted'\n",
	"a: \"x\"\n",
	"a: |\n  text\n",
	"a: >\n  folded\n",
	"a: &x 1\nb: *x\n",
	"a: !!str 1\n",
	"a:\tb\n",
	"a: b\r\n",
	"a: b\n  continued\n",
	"a:\nb: 1\n",
	"a: b: c\n",
	"- a\n- b\n",
	"a: [x,\n  y]\n",
	"a: [x, ]\n",
	"a: {x}\n",
	"a: {x: }\n",
	"? a\n: b\n",
	"%YAML 1.1\n---\na: 1\n",
	"---\n",
	"--- a: 1\n",
	"a: 1\n...\n",
	"a: 1\n---\n",
	"a: x #c\nb: y#c\n",
	"a: [x]#c\n",
	"a: x\n  # c\nb: y\n",
	"a:\n  - x\n  -\n",
	"a: - x\n",
	"a:\n- x\n- y\nb: 1\n",
	"a:\n  - b: 1\n    c: 2\n  - d: 3\n",
	"a:\n  - b:\n    - x\n",
	"a:\n    - x\n  - y\n",
	"a:\n  b: 1\n   c: 2\n",
	"a: 1\n a: 2\n",
	"a: x:y\n",
	"a: [x:y]\n",
	"a: [x: y]\n",
	"a: {x: y:z}\n",
	"a: ---\n",
	"a: ...x\n",
	"a: -\n",
	"a: -x\n",
	"a: ~\n",
	"a: <<\n",
	"<<: {b: 1}\n",
	"a: \xc2\x85\n",
	"a: \xe2\x80\xa8x\n",
	"a: \xef\xbb\xbfx\n",
	"a: \xc3\n",
	"a: \xed\xa0\x80\n",
	"a: x\x7f\n",
	"a: x\0y\n",
	"a: [a, [b, [c, [d]]]]\n",
	"a.b-c/d: 1\n",
	"9: x\n",
	"_: y\n",
	"a: x # c\n# c2\n   # c3\nb: y\n",
	"a:   \n  b: 1\n",
	"a: #c\n  b: 1\n",
	"a:#c\n",
	"a: [ x , y ]\n",
	"a: {  x: y ,z: w}\n",
	"a: { x: y}\n",
	"a: x,y]\n",
	"a: x}\n",
	"a: (x)\n",
	"a: $x\n",
	"a: =x\n",
	"a: +1\n",
	"a: /x\n",
	"a:\n  - {b: 1}\n  - [c]\n  - d\n",
	"a:\n  -  x\n",
	"a:\n  - - x\n",
	"a:\n  -\tx\n",
};

/* A small deterministic generator (xorshift64*), so that every run tests the same inputs. */
static uint64_t rng = 0x9E3779B97F4A7C15u;

static uint64_t next_rand(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 2685821657736338717u;
}

/* Seeded single and double edits of seed: bytes replaced, inserted and deleted. */
static void mutate_all(const char *seed, size_t rounds)
{
	static const char alphabet[] = " :-#,[]{}\n\n  a.'\"&*!|>?%@`\t\r0~<";
	size_t len = strlen(seed);
	unsigned char *buf = st_malloc(len + 8);

	if (!buf)
		return;
	for (size_t r = 0; r < rounds; r++) {
		size_t n = len;

		memcpy(buf, seed, len);
		for (int edits = 1 + (int)(next_rand() % 2); edits > 0; edits--) {
			size_t pos = n ? (size_t)(next_rand() % n) : 0;
			unsigned char c =
				(unsigned char)alphabet[next_rand() % (sizeof(alphabet) - 1)];

			switch (next_rand() % 3) {
			case 0:
				if (n)
					buf[pos] = c;
				break;
			case 1:
				memmove(buf + pos + 1, buf + pos, n - pos);
				buf[pos] = c;
				n++;
				break;
			default:
				if (n) {
					memmove(buf + pos, buf + pos + 1, n - pos - 1);
					n--;
				}
			}
		}
		compare(buf, n, "mutant");
	}
	st_free(buf);
}

/* Every .yaml file under dir, as a seed (the example catalog). */
static void from_dir(const char *dir, int depth)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d || depth > 4) {
		if (d)
			closedir(d);
		return;
	}
	while ((de = readdir(d))) {
		char path[4096];
		size_t n = strlen(de->d_name);
		FILE *fp;
		char *text;
		long size;

		if (de->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= sizeof(path))
			continue;
		if (n < 5 || strcmp(de->d_name + n - 5, ".yaml")) {
			from_dir(path, depth + 1);
			continue;
		}
		fp = fopen(path, "rb");
		if (!fp)
			continue;
		fseek(fp, 0, SEEK_END);
		size = ftell(fp);
		fseek(fp, 0, SEEK_SET);
		text = size > 0 && size < (1 << 20) ? st_malloc((size_t)size + 1) : NULL;
		if (text && fread(text, 1, (size_t)size, fp) == (size_t)size) {
			text[size] = '\0';
			compare((const unsigned char *)text, (size_t)size, path);
			mutate_all(text, 300);
		}
		st_free(text);
		fclose(fp);
	}
	closedir(d);
}

int main(void)
{
	const char *src = getenv("STEWARD_SRC");
	int before;

	for (size_t i = 0; i < sizeof(plain) / sizeof(*plain); i++) {
		before = accepted;
		compare((const unsigned char *)plain[i], strlen(plain[i]), plain[i]);
		CHECK(accepted == before + 1);
	}
	for (size_t i = 0; i < sizeof(hard) / sizeof(*hard); i++)
		compare((const unsigned char *)hard[i], strlen(hard[i]), hard[i]);
	/* "a: x\0y\n" is 7 bytes with a NUL inside: strlen() stops early, so give it whole. */
	compare((const unsigned char *)"a: x\0y\n", 7, "NUL");
	for (size_t i = 0; i < sizeof(plain) / sizeof(*plain); i++)
		mutate_all(plain[i], 20000);
	for (size_t i = 0; i < sizeof(hard) / sizeof(*hard); i++)
		mutate_all(hard[i], 500);
	if (src) {
		char dir[4096];

		snprintf(dir, sizeof(dir), "%s/examples/catalog", src);
		from_dir(dir, 0);
	}
	printf("# fast path: %d inputs accepted, %d declined\n", accepted, declined);
	CHECK(mismatches == 0);
	CHECK(accepted > 20000);
	return t_done();
}
