/* Unit tests for PII propagation (pii/pii_map.c): inheritance, chains, hashing, the
 * strongest of several sources, pii_reason, cycles, declared classes, the map and the check. */
#include "catalog.h"
#include "harness.h"
#include "pii_map.h"

#include <stdio.h>
#include <string.h>

static const char fixture[] =
	"kind: table\n"
	"name: src.people\n"
	"columns:\n"
	"  - {name: email, type: string, pii: direct, category: user.contact.email}\n"
	"  - {name: ssn, type: string, pii: sensitive,"
	" category: user.government_id.national_identification_number}\n"
	"  - {name: country, type: string, pii: indirect, category: user.location.imprecise}\n"
	"  - {name: account, type: int64, pii: direct, category: user.unique_id, transform: hash}\n"
	"  - {name: key, type: string, pii: pseudonymous, category: user.unique_id}\n"
	"  - {name: note, type: string, pii: none}\n"
	"---\n"
	"kind: table\n"
	"name: t.copy\n"
	"columns:\n"
	"  - {name: email, type: string, pii: none, from: [src.people.email]}\n"
	"  - {name: account, type: string, pii: none, from: [src.people.account]}\n"
	"  - {name: key2, type: string, pii: none, from: [src.people.key]}\n"
	"  - {name: mixed, type: string, pii: none,"
	" from: [src.people.country, src.people.ssn, src.people.key]}\n"
	"  - {name: count, type: int64, pii: none, pii_reason: count of people,"
	" from: [src.people.email]}\n"
	"  - {name: plain, type: string, pii: none, from: [src.people.note]}\n"
	"  - {name: strong, type: string, pii: sensitive, from: [src.people.country]}\n"
	"  - {name: weak, type: string, pii: indirect, from: [src.people.email]}\n"
	"  - {name: hashed, type: string, pii: pseudonymous, from: [src.people.email]}\n"
	"  - {name: ext, type: string, pii: none, from: [nowhere.table.col]}\n"
	"---\n"
	"kind: table\n"
	"name: t.chain\n"
	"columns:\n"
	"  - {name: b, type: string, pii: none, from: [t.copy.email]}\n"
	"  - {name: after_reason, type: int64, pii: none, from: [t.copy.count]}\n"
	"---\n"
	"kind: table\n"
	"name: t.chain2\n"
	"columns:\n"
	"  - {name: c, type: string, pii: none, from: [t.chain.b]}\n"
	"---\n"
	"kind: table\n"
	"name: cyc.a\n"
	"columns:\n"
	"  - {name: x, type: string, pii: none, from: [cyc.b.y, src.people.country]}\n"
	"---\n"
	"kind: table\n"
	"name: cyc.b\n"
	"columns:\n"
	"  - {name: y, type: string, pii: none, from: [cyc.a.x]}\n"
	"---\n"
	"kind: table\n"
	"name: cyc.c\n"
	"columns:\n"
	"  - {name: p, type: string, pii: none, from: [cyc.d.q]}\n"
	"  - {name: self, type: string, pii: none, from: [cyc.c.self]}\n"
	"---\n"
	"kind: table\n"
	"name: cyc.d\n"
	"columns:\n"
	"  - {name: q, type: string, pii: none, from: [cyc.c.p]}\n"
	"---\n"
	"kind: table\n"
	"name: ver.t\n"
	"columns:\n"
	"  - {name: z, type: string, pii: none, from: [src.people.email]}\n"
	"---\n"
	"kind: table\n"
	"name: ver.t\n"
	"version: 2\n"
	"columns:\n"
	"  - {name: z, type: string, pii: none}\n";

static struct catalog *cat;

/* The index of dataset.path in g, or PII_MAP_NO_FIELD. */
static size_t find(const struct pii_graph *g, const char *dataset, const char *path)
{
	struct pii_field f;

	for (size_t i = 0; i < pii_graph_count(g); i++) {
		pii_graph_field(g, i, &f);
		if (!strcmp(f.dataset, dataset) && !strcmp(f.path, path))
			return i;
	}
	return PII_MAP_NO_FIELD;
}

static struct pii_field field(const struct pii_graph *g, const char *dataset, const char *path)
{
	struct pii_field f;
	size_t i = find(g, dataset, path);

	memset(&f, 0, sizeof(f));
	f.from = PII_MAP_NO_FIELD;
	if (i != PII_MAP_NO_FIELD)
		pii_graph_field(g, i, &f);
	else
		printf("# no field %s.%s in the graph\n", dataset, path);
	return f;
}

/* "dataset.path" of the field f inherits from, or "-". */
static const char *from_name(const struct pii_graph *g, const struct pii_field *f)
{
	static char buf[256];
	struct pii_field s;

	if (f->from == PII_MAP_NO_FIELD)
		return "-";
	pii_graph_field(g, f->from, &s);
	snprintf(buf, sizeof(buf), "%s.%s", s.dataset, s.path);
	return buf;
}

static void test_classes(void)
{
	CHECK_STR(pii_map_class_name(PII_MAP_PSEUDONYMOUS), "pseudonymous");
	CHECK_STR(pii_map_class_name(99), "?");
	CHECK(pii_map_class_parse("sensitive") == PII_MAP_SENSITIVE);
	CHECK(pii_map_class_parse("secret") == -1);
	CHECK(PII_MAP_SENSITIVE > PII_MAP_DIRECT && PII_MAP_DIRECT > PII_MAP_INDIRECT &&
	      PII_MAP_INDIRECT > PII_MAP_PSEUDONYMOUS && PII_MAP_PSEUDONYMOUS > PII_MAP_NONE);
}

static void test_catalog(void)
{
	struct st_error err = ST_ERROR_INIT;
	struct pii_graph *g = NULL;
	struct pii_field f;
	size_t chain[8], n;

	CHECK(pii_graph_catalog(cat, &g, &err) == 0);
	if (!g)
		return;

	/* Direct inheritance. */
	f = field(g, "t.copy", "email");
	CHECK(f.declared == PII_MAP_NONE && f.cls == PII_MAP_DIRECT && f.derived);
	CHECK_STR(from_name(g, &f), "src.people.email");

	/* Across a hash, and from a pseudonymous source: pseudonymous. */
	f = field(g, "t.copy", "account");
	CHECK(f.cls == PII_MAP_PSEUDONYMOUS && f.derived);
	CHECK_STR(from_name(g, &f), "src.people.account");
	f = field(g, "t.copy", "key2");
	CHECK(f.cls == PII_MAP_PSEUDONYMOUS && f.derived);

	/* Several sources: the strongest wins. */
	f = field(g, "t.copy", "mixed");
	CHECK(f.cls == PII_MAP_SENSITIVE && f.derived);
	CHECK_STR(from_name(g, &f), "src.people.ssn");

	/* A pii_reason stops inheritance and passes nothing on. */
	f = field(g, "t.copy", "count");
	CHECK(f.has_reason && f.cls == PII_MAP_NONE && !f.derived && f.from == PII_MAP_NO_FIELD);
	f = field(g, "t.chain", "after_reason");
	CHECK(f.cls == PII_MAP_NONE && !f.derived);

	/* Nothing to inherit: a none source, an undeclared source. */
	f = field(g, "t.copy", "plain");
	CHECK(f.cls == PII_MAP_NONE && !f.derived);
	f = field(g, "t.copy", "ext");
	CHECK(f.cls == PII_MAP_NONE && !f.derived);

	/* A declared class stronger than the inherited one stays; a weaker one is overridden. */
	f = field(g, "t.copy", "strong");
	CHECK(f.cls == PII_MAP_SENSITIVE && !f.derived && f.from == PII_MAP_NO_FIELD);
	f = field(g, "t.copy", "weak");
	CHECK(f.declared == PII_MAP_INDIRECT && f.cls == PII_MAP_DIRECT && f.derived);
	/* A field declared pseudonymous is the hash of its source. */
	f = field(g, "t.copy", "hashed");
	CHECK(f.cls == PII_MAP_PSEUDONYMOUS && !f.derived);

	/* Transitive: src.people.email -> t.copy.email -> t.chain.b -> t.chain2.c. */
	f = field(g, "t.chain2", "c");
	CHECK(f.cls == PII_MAP_DIRECT && f.derived);
	CHECK_STR(from_name(g, &f), "t.chain.b");
	n = pii_graph_chain(g, find(g, "t.chain2", "c"), chain, 8);
	CHECK(n == 3);
	if (n == 3) {
		CHECK(chain[0] == find(g, "t.chain", "b"));
		CHECK(chain[1] == find(g, "t.copy", "email"));
		CHECK(chain[2] == find(g, "src.people", "email"));
	}
	CHECK(pii_graph_chain(g, find(g, "t.chain2", "c"), chain, 2) == 2);
	CHECK(pii_graph_chain(g, find(g, "src.people", "email"), chain, 8) == 0);

	/* Cycles end: both fields of a cycle fed with PII inherit it, a cycle without none. */
	f = field(g, "cyc.a", "x");
	CHECK(f.cls == PII_MAP_INDIRECT && f.derived);
	CHECK_STR(from_name(g, &f), "src.people.country");
	f = field(g, "cyc.b", "y");
	CHECK(f.cls == PII_MAP_INDIRECT && f.derived);
	CHECK(pii_graph_chain(g, find(g, "cyc.b", "y"), chain, 8) == 2);
	f = field(g, "cyc.c", "p");
	CHECK(f.cls == PII_MAP_NONE && !f.derived);
	f = field(g, "cyc.c", "self");
	CHECK(f.cls == PII_MAP_NONE && !f.derived);

	/* Only the latest version counts: version 2 of ver.t has no from:. */
	f = field(g, "ver.t", "z");
	CHECK(f.cls == PII_MAP_NONE && !f.derived);
	pii_graph_free(g);
}

static void test_map_and_check(void)
{
	struct st_error err = ST_ERROR_INIT;
	struct pii_graph *g = NULL;
	struct pii_map m = {0};
	struct pii_findings fs = {0};
	struct pii_field f;
	static const char *const want[] = {"cyc.a.x",	  "cyc.b.y",	  "t.chain.b",
					   "t.chain2.c",  "t.copy.email", "t.copy.account",
					   "t.copy.key2", "t.copy.mixed"};
	int email_row = 0;

	CHECK(pii_graph_catalog(cat, &g, &err) == 0);
	if (!g)
		return;
	CHECK(pii_map_build(cat, g, &m, &err) == 0);
	/* Declared: 5 in src.people, strong, weak (overridden: counted as derived), hashed. */
	CHECK(m.ndeclared == 7);
	CHECK(m.nderived == 9);
	CHECK(m.n == m.ndeclared + m.nderived);
	CHECK(m.by_class[PII_MAP_SENSITIVE] == 3);
	for (size_t i = 0; i < m.n; i++) {
		pii_graph_field(g, m.rows[i].field, &f);
		if (i)
			CHECK(!m.rows[i].category ||
			      (m.rows[i - 1].category &&
			       strcmp(m.rows[i - 1].category, m.rows[i].category) <= 0));
		if (!strcmp(f.dataset, "t.chain2") && !strcmp(f.path, "c")) {
			/* A derived field without a category goes under its source's. */
			email_row = 1;
			CHECK_STR(m.rows[i].category, "user.contact.email");
			CHECK_STR(m.rows[i].category_name, "User Contact Email");
			CHECK(m.rows[i].origin == find(g, "src.people", "email"));
		}
	}
	CHECK(email_row);
	pii_map_release(&m);

	CHECK(pii_check(cat, g, &fs, &err) == 0);
	CHECK(fs.n == sizeof(want) / sizeof(*want));
	for (size_t i = 0; i < fs.n && i < sizeof(want) / sizeof(*want); i++) {
		char name[256];

		pii_graph_field(g, fs.v[i].field, &f);
		snprintf(name, sizeof(name), "%s.%s", f.dataset, f.path);
		CHECK_STR(name, want[i]);
		CHECK(fs.v[i].file && strstr(fs.v[i].file, "pii.yaml") && fs.v[i].line > 0 &&
		      fs.v[i].col > 0);
	}
	pii_findings_release(&fs);
	pii_graph_free(g);
}

static void test_dataset(void)
{
	struct st_error err = ST_ERROR_INIT;
	struct pii_graph *g = NULL;
	struct pii_field f;

	/* One dataset: its fields first, then what is upstream of them only. */
	CHECK(pii_graph_dataset(cat, "t.chain2", 0, &g, &err) == 0);
	if (g) {
		CHECK(pii_graph_nroots(g) == 1);
		pii_graph_field(g, 0, &f);
		CHECK_STR(f.path, "c");
		CHECK(f.cls == PII_MAP_DIRECT && f.derived);
		CHECK_STR(from_name(g, &f), "t.chain.b");
		CHECK(find(g, "t.chain", "b") != PII_MAP_NO_FIELD);
		CHECK(find(g, "t.copy", "account") == PII_MAP_NO_FIELD);
		CHECK(pii_graph_count(g) == 4);
	}
	pii_graph_free(g);
	g = NULL;

	CHECK(pii_graph_dataset(cat, "cyc.b", 0, &g, &err) == 0);
	if (g) {
		pii_graph_field(g, 0, &f);
		CHECK(f.cls == PII_MAP_INDIRECT && f.derived);
	}
	pii_graph_free(g);
	g = NULL;

	CHECK(pii_graph_dataset(cat, "t.copy", 0, &g, &err) == 0);
	if (g) {
		CHECK(pii_graph_nroots(g) == 10);
		pii_graph_field(g, 4, &f);
		CHECK_STR(f.path, "count");
		CHECK(f.has_reason && !f.derived);
		pii_graph_field(g, 3, &f);
		CHECK(f.cls == PII_MAP_SENSITIVE && f.derived);
	}
	pii_graph_free(g);
	g = NULL;

	/* An older version walks from its own from: edges. */
	CHECK(pii_graph_dataset(cat, "ver.t", 1, &g, &err) == 0);
	if (g) {
		pii_graph_field(g, 0, &f);
		CHECK(f.cls == PII_MAP_DIRECT && f.derived);
	}
	pii_graph_free(g);
	g = NULL;

	CHECK(pii_graph_dataset(cat, "t.chian2", 0, &g, &err) == -1);
	CHECK(g == NULL && err.code == ST_E_NOTFOUND);
	CHECK_HAS(err.msg, "did you mean 't.chain2'");
	st_error_init(&err);
	CHECK(pii_graph_dataset(cat, "t.chain2", 7, &g, &err) == -1);
	CHECK(err.code == ST_E_NOTFOUND);
}

int main(void)
{
	struct catalog_load_stats stats = {0};
	struct st_error err = ST_ERROR_INIT;
	struct st_diags d;
	const char *paths[1];

	st_diags_init(&d, 0);
	paths[0] = t_write(t_tmpdir(), "pii.yaml", fixture);
	CHECK(catalog_open_path(&cat, ":memory:", &err) == 0);
	CHECK(catalog_load(cat, paths, 1, CATALOG_LOAD_SERIAL, &stats, &d, &err) == 0);
	for (size_t i = 0; i < d.n; i++)
		printf("# %u:%u: %s\n", d.v[i].line, d.v[i].col, d.v[i].msg);
	test_classes();
	test_catalog();
	test_map_and_check();
	test_dataset();
	catalog_load_stats_release(&stats);
	st_diags_release(&d);
	catalog_free(cat);
	return t_done();
}
