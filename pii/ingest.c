/* The pre-ingest hook for JSON lines and CSV: the plan built from the catalog (one spec per
 * field, its transform checked), and the API that runs it (pii_ingest_new/run/free). The
 * record path is ingest_record.c, the pipeline ingest_pipeline.c, CSV ingest_csv.c. */
#include "ingest.h"
#include "ingest_int.h"
#include "alloc.h"
#include "buf.h"

#include <stdio.h>
#include <string.h>

/* ---- the plan ---- */

static const char *const type_names[] = {"string", "int", "int64", "float", "decimal", "bool",
					 "date", "timestamp", "object", "array"};

static int parse_type(const char *t)
{
	for (int i = 0; i < (int)(sizeof(type_names) / sizeof(*type_names)); i++)
		if (t && !strcmp(t, type_names[i]))
			return i;
	return F_STRING;
}

static void spec_release(struct spec *s)
{
	for (size_t i = 0; i < s->nfields; i++)
		spec_release(&s->fields[i]);
	st_free(s->fields);
	if (s->items) {
		spec_release(s->items);
		st_free(s->items);
	}
	st_free(s->name);
	st_free(s->path);
	st_free(s->category);
}

/* The spec that holds members at path prefix: the root, an object field, or an array
 * field's element. */
static struct spec *holder(struct spec *root, const char *path, size_t plen)
{
	struct spec *s = root;
	size_t i = 0;

	while (i < plen) {
		size_t j = i;
		struct spec *next = NULL;

		while (j < plen && path[j] != '.')
			j++;
		for (size_t k = 0; k < s->nfields; k++)
			if (s->fields[k].name_len == j - i && !memcmp(s->fields[k].name, path + i, j - i))
				next = &s->fields[k];
		if (!next)
			return NULL;
		s = next->type == F_ARRAY && next->items ? next->items : next;
		i = j + 1;
	}
	return s;
}

static int problem(struct st_diags *d, const char *ds, const char *path, const char *fmt,
		   const char *a)
{
	char msg[512];

	snprintf(msg, sizeof(msg), fmt, a);
	return st_diags_add(d, ST_SEV_ERROR, "", 0, 0, "%s: field '%s' %s", ds, path, msg);
}

/* Checks that a field's transform is explicit and applies to its type, and fills the
 * transform details. Adds a problem and returns 1 when it cannot start, 2 when the field
 * has no pii class yet. */
static int check_field(struct spec *s, const struct catalog_field *f, const char *ds,
		       struct st_diags *d)
{
	int sensitive = f->pii && (!strcmp(f->pii, "direct") || !strcmp(f->pii, "indirect") ||
				   !strcmp(f->pii, "sensitive"));

	/* A column from a dbt manifest nobody classified yet: tagging comes before ingestion. */
	if (f->pii && !strcmp(f->pii, "unknown")) {
		problem(d, ds, f->path, "has pii class %s: tag it before ingesting data", f->pii);
		return 2;
	}
	s->transform = f->transform ? pii_transform_parse(f->transform) : PII_T_KEEP;
	s->norm = f->normalize ? pii_norm_parse(f->normalize) : pii_norm_for_category(f->category);
	s->scan = f->scan;
	if (sensitive && !f->transform) {
		problem(d, ds, f->path, "is %s but declares no transform", f->pii);
		return 1;
	}
	if (s->transform == PII_T_TRUNCATE) {
		if (s->type == F_DATE || s->type == F_TIMESTAMP)
			s->trunc = PII_TRUNC_DATE;
		else if (s->norm == PII_NORM_IP)
			s->trunc = PII_TRUNC_IP;
		else if (s->type == F_FLOAT || s->type == F_DECIMAL)
			s->trunc = PII_TRUNC_COORD;
		else {
			problem(d, ds, f->path, "cannot be truncated: it is a %s, not a date, an IP "
						"address or a coordinate",
				type_names[s->type]);
			return 1;
		}
	}
	if ((s->transform == PII_T_HASH || s->transform == PII_T_MASK ||
	     s->transform == PII_T_TRUNCATE) &&
	    (s->type == F_OBJECT || s->type == F_ARRAY || s->type == F_BOOL)) {
		problem(d, ds, f->path, "is a %s; only drop or keep apply to it", type_names[s->type]);
		return 1;
	}
	if (s->scan && s->type != F_STRING) {
		problem(d, ds, f->path, "has scan: true but is a %s, not a string",
			type_names[s->type]);
		return 1;
	}
	return 0;
}

/* Flags the fields whose category is on the suppression list, so only they are checked;
 * notes each object's required fields as a bit mask and what the fast path takes itself,
 * and gives each field the fast path pseudonymizes a slot of the workers' subkey cache
 * (*nkeys, counted up). */
static void mark_suppressed(struct spec *s, const struct pii_ingest_opts *o, size_t *nkeys)
{
	s->required_mask = 0;
	for (size_t i = 0; i < s->nfields && i < 64; i++)
		if (s->fields[i].required)
			s->required_mask |= UINT64_C(1) << i;
	for (size_t i = 0; s->category && !s->suppress && i < o->nsuppress; i++)
		s->suppress = !strcmp(o->suppress_categories[i], s->category);
	/* After the suppression flag: a field on the list is checked the full way. */
	s->quick = Q_NONE;
	if (s->transform == PII_T_DROP)
		s->sep_mask = 0; /* dropped with its comma: by the member loop, not the script */
	/* A dropped value is checked as a kept one is, then left out. */
	if ((s->transform == PII_T_KEEP || s->transform == PII_T_DROP) && !s->scan && !s->suppress)
		s->quick = s->type == F_STRING ? Q_KEEP_STRING
			   : s->type == F_DATE || s->type == F_TIMESTAMP ? Q_KEEP_DATE
			   : s->type == F_INT || s->type == F_INT64 ? Q_KEEP_NUMBER
			   : s->type == F_FLOAT || s->type == F_DECIMAL ? Q_KEEP_DECIMAL
			   : s->type == F_BOOL ? Q_KEEP_BOOL
					       : Q_NONE;
	else if (s->transform == PII_T_KEEP && !s->suppress && s->type == F_STRING)
		s->quick = Q_SCAN_STRING; /* scanned */
	else if (s->transform == PII_T_HASH && !s->suppress)
		s->quick = s->type == F_STRING			     ? Q_HASH_STRING
			   : s->type == F_INT || s->type == F_INT64 ? Q_HASH_INT
								    : Q_NONE;
	else if (s->transform == PII_T_MASK && !s->suppress && s->type == F_STRING)
		s->quick = Q_MASK_STRING;
	else if (s->transform == PII_T_TRUNCATE && !s->suppress && s->trunc == PII_TRUNC_DATE)
		s->quick = Q_TRUNC_DATE;
	if (s->quick == Q_HASH_STRING || s->quick == Q_HASH_INT)
		s->key_slot = (*nkeys)++;
	for (size_t i = 0; i < s->nfields; i++)
		mark_suppressed(&s->fields[i], o, nkeys);
	if (s->items)
		mark_suppressed(s->items, o, nkeys);
	/* After the fields' own flags (a dropped one takes no step): where the script stops. */
	for (s->script_end = 0; s->script_end < s->nfields && s->fields[s->script_end].sep_mask;
	     s->script_end++)
		;
}

static int build_plan(struct plan *p, struct catalog *c, const char *name,
		      const struct pii_ingest_opts *o, struct st_diags *d, struct st_error *err)
{
	struct catalog_card card;
	int bad = 0, ret = -1;

	memset(p, 0, sizeof(*p));
	p->root.type = F_OBJECT;
	if (catalog_card_get(c, name, 0, &card, err))
		goto out;
	if (!(p->name = st_strdup(name)) || !(p->root.path = st_strdup("")))
		goto nomem;
	p->short_name = strchr(p->name, '.') + 1;
	p->detect.min_score = card.detect_threshold; /* 0: PII_SCORE_THRESHOLD */
	if (pii_detect_regions(card.detect_regions, o->region, p->regions, sizeof(p->regions))) {
		st_error_set(err, ST_E_INVALID, "dataset '%s' declares detect regions steward cannot "
						"use: load the catalog again", name);
		goto out;
	}
	p->detect.regions = p->regions;
	if (card.detect_country_field && !(p->country_field = st_strdup(card.detect_country_field)))
		goto nomem;
	p->short_len = strlen(p->short_name);
	memcpy(p->short_key, p->short_name,
	       p->short_len < sizeof(p->short_key) ? p->short_len : sizeof(p->short_key));
	for (size_t i = 0; i < card.nfields; i++) {
		const struct catalog_field *f = &card.fields[i];
		const char *dot = strrchr(f->path, '.');
		struct spec *parent = holder(&p->root, f->path, dot ? (size_t)(dot - f->path) : 0);
		struct spec *s;
		size_t cap;

		if (!parent)
			continue; /* under a field that is not an object: the loader said so */
		cap = parent->nfields;
		if (st_grow(&parent->fields, &cap, parent->nfields + 1, sizeof(*parent->fields)))
			goto nomem;
		s = &parent->fields[parent->nfields++];
		memset(s, 0, sizeof(*s));
		s->name = st_strdup(dot ? dot + 1 : f->path);
		s->path = st_strdup(f->path);
		s->category = f->category ? st_strdup(f->category) : NULL;
		if (!s->name || !s->path || (f->category && !s->category))
			goto nomem;
		s->name_len = strlen(s->name);
		s->plain = 1;
		for (size_t k = 0; k < s->name_len; k++)
			if ((unsigned char)s->name[k] < 0x20 || (unsigned char)s->name[k] >= 0x80 ||
			    s->name[k] == '"' || s->name[k] == '\\')
				s->plain = 0;
		if (s->plain && s->name_len + 3 <= 24) {
			unsigned char kb[24] = {0}, mb[24] = {0};

			kb[0] = '"';
			memcpy(kb + 1, s->name, s->name_len);
			kb[1 + s->name_len] = '"';
			kb[2 + s->name_len] = ':';
			memset(mb, 0xff, s->name_len + 3);
			memcpy(s->key_word, kb, 24);
			memcpy(s->key_mask, mb, 24);
			s->key16_mask = s->name_len + 3 >= 16 ? 0xffffu
							      : (1u << (s->name_len + 3)) - 1;
			s->quick_key = 1;
		}
		if (s->plain && s->name_len + 4 <= sizeof(s->sep)) {
			s->sep[0] = ',';
			s->sep[1] = '"';
			memcpy(s->sep + 2, s->name, s->name_len);
			s->sep[2 + s->name_len] = '"';
			s->sep[3 + s->name_len] = ':';
			s->sep_len = s->name_len + 4;
			s->sep_mask = s->sep_len == 32 ? 0xffffffffu : (1u << s->sep_len) - 1;
			if (parent->nfields == 1)
				s->sep_mask &= ~1u; /* the '{' */
		}
		s->type = parse_type(f->type);
		s->required = f->required;
		s->nullable = f->nullable;
		if (s->type == F_ARRAY) {
			s->items = st_calloc(1, sizeof(*s->items));
			if (!s->items || !(s->items->path = st_strdup(f->path)) ||
			    !(s->items->name = st_strdup(s->name)))
				goto nomem;
			s->items->type = parse_type(f->item_type ? f->item_type : "string");
			s->items->transform = PII_T_KEEP;
		}
		bad |= check_field(s, f, name, d);
	}
	ret = bad; /* 1: a transform is missing or wrong; 2: a class is unknown */
	goto out;
nomem:
	st_error_oom(err);
out:
	catalog_card_release(&card);
	return ret;
}

void pii_ingest_free(struct pii_ingest *ing)
{
	if (!ing)
		return;
	for (size_t i = 0; i < ing->nplans; i++) {
		spec_release(&ing->plans[i].root);
		st_free(ing->plans[i].name);
		st_free(ing->plans[i].country_field);
	}
	st_free(ing->plans);
	st_free(ing);
}

int pii_ingest_new(struct pii_ingest **out, struct catalog *c, const struct pii_key *key,
		   const struct pii_ingest_opts *o, struct st_diags *problems,
		   struct st_error *err)
{
	struct pii_ingest *ing = st_calloc(1, sizeof(*ing));
	char **names = NULL;
	size_t nnames = 0, len = strlen(o->dataset);
	int bad = 0, ret = -1;

	if (!ing)
		return st_error_oom(err);
	ing->o = *o;
	if (!ing->o.max_record)
		ing->o.max_record = PII_INGEST_DEFAULT_MAX_RECORD;
	if (!ing->o.label)
		ing->o.label = "event_type";
	ing->label_len = strlen(ing->o.label);
	if (ing->label_len + 4 <= sizeof(ing->label_key)) {
		ing->label_key[0] = '"';
		memcpy(ing->label_key + 1, ing->o.label, ing->label_len);
		memcpy(ing->label_key + 1 + ing->label_len, "\":\"", 3);
		ing->label_key_len = ing->label_len + 4;
	}
	ing->pattern = len > 2 && !strcmp(o->dataset + len - 2, ".*");
	if (ing->pattern && o->format == PII_FMT_CSV) {
		st_error_set(err, ST_E_USAGE, "CSV input goes to one dataset, not to '%s'",
			     o->dataset);
		goto out;
	}
	if (ing->pattern) {
		char ns[256];

		if (len - 2 >= sizeof(ns)) {
			st_error_set(err, ST_E_USAGE, "dataset pattern '%s' is too long", o->dataset);
			goto out;
		}
		memcpy(ns, o->dataset, len - 2);
		ns[len - 2] = '\0';
		if (catalog_names_in(c, ns, &names, &nnames, err))
			goto out;
		if (!nnames) {
			st_error_set(err, ST_E_NOTFOUND, "no datasets match '%s'", o->dataset);
			goto out;
		}
	} else {
		names = st_calloc(1, sizeof(*names));
		if (!names || !(names[0] = st_strdup(o->dataset))) {
			st_error_oom(err);
			goto out;
		}
		nnames = 1;
	}
	ing->plans = st_calloc(nnames, sizeof(*ing->plans));
	if (!ing->plans) {
		st_error_oom(err);
		goto out;
	}
	for (size_t i = 0; i < nnames; i++) {
		int r = build_plan(&ing->plans[i], c, names[i], o, problems, err);

		ing->nplans++; /* a half-built plan is freed with the rest */
		if (r < 0)
			goto out;
		bad |= r;
		mark_suppressed(&ing->plans[i].root, o, &ing->nkeys);
		if (ing->pattern)
			ing->plans[i].label = ing_find_spec(&ing->plans[i].root, ing->o.label,
							    ing->label_len);
	}
	for (size_t i = 0; i < ing->nplans; i++) {
		uint8_t *slot = &ing->plan_slot[ing_plan_slot(ing->plans[i].short_name,
							      ing->plans[i].short_len)];

		*slot = *slot || ing->nplans >= ING_SLOT_MANY ? ING_SLOT_MANY : (uint8_t)(i + 1);
	}
	if (bad & 2) {
		st_error_set(err, ST_E_INVALID,
			     "%zu field%s cannot be ingested as declared; give every field a pii "
			     "class ('steward pii check' lists the unknown ones) and a transform",
			     problems->nerrors, problems->nerrors == 1 ? "" : "s");
		goto out;
	}
	if (bad) {
		st_error_set(err, ST_E_INVALID,
			     "%zu field%s hold%s personal data without a transform; declare one for "
			     "each (keep, hash, drop, mask or truncate) before ingesting",
			     problems->nerrors, problems->nerrors == 1 ? "" : "s",
			     problems->nerrors == 1 ? "s" : "");
		goto out;
	}
	if (!key->secret) {
		st_error_set(err, ST_E_SYSTEM, "key '%s' is not loaded", key->id);
		goto out;
	}
	ing->key = key;
	*out = ing;
	ing = NULL;
	ret = 0;
out:
	st_free_strv(names, nnames);
	pii_ingest_free(ing);
	return ret;
}

/* ---- running ---- */

int pii_ingest_run(struct pii_ingest *ing, int in_fd, int out_fd, int rej_fd, int threads,
		   struct pii_ingest_stats *stats, struct st_error *err)
{
	struct reader rd = {in_fd, 0, NULL, 0, 0, 0, 0};
	struct sink out = {out_fd, "the output", {0}}, rej = {rej_fd, "the rejects file", {0}};
	int ret = -1;

	memset(stats, 0, sizeof(*stats));
	rd.cap = 2 * (CHUNK + ing->o.max_record + 2);
	rd.buf = st_malloc(rd.cap);
	st_buf_init(&out.b, 1 << 20);
	st_buf_init(&rej.b, 1 << 20);
	if (!rd.buf) {
		st_error_oom(err);
		goto out;
	}
	if (ing->o.format == PII_FMT_CSV)
		ret = ing_run_csv(ing, &rd, &out, &rej, stats, err);
	else if (threads > 1)
		ret = ing_run_threaded(ing, &rd, &out, &rej, stats, threads, err);
	else
		ret = ing_run_serial(ing, &rd, &out, &rej, stats, err);
	if (!ret && (ing_sink_flush(&out, err) || ing_sink_flush(&rej, err)))
		ret = -1;
out:
	st_free(rd.buf);
	st_buf_release(&out.b);
	st_buf_release(&rej.b);
	return ret;
}
