/* Rendering a built compliance report as Markdown, one self-contained HTML page, JSON or
 * CSV (docs/reports.md describes each), into a bounded buffer or a private file. */
#include "audit.h"
#include "report_int.h"
#include "alloc.h"
#include "buf.h"
#include "file.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* The largest rendered report; a month that needs more is refused, not truncated. */
#define REPORT_MAX ((size_t)512 << 20)

/* ---- Rendering ---------------------------------------------------------------------- */

/* The text being rendered. Appends stop at the first failure, which render() reports. */
struct out {
	struct st_buf b;
	int failed;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (!o->failed && st_buf_add(&o->b, s, n))
		o->failed = 1;
}

static void put_str(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void put_fmt(struct out *o, const char *fmt, ...) ST_PRINTF(2, 3);

static void put_fmt(struct out *o, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf))
		o->failed = 1;
	else
		put(o, buf, (size_t)n);
}

/* A number's text in buf, a text's own string, or NULL for null. */
static const char *value_text(const struct value *v, char *buf, size_t n)
{
	switch (v->type) {
	case V_INT:
		snprintf(buf, n, "%lld", (long long)v->i);
		return buf;
	case V_REAL:
		snprintf(buf, n, "%.1f", v->r);
		return buf;
	case V_TEXT:
		return v->s;
	default:
		return NULL;
	}
}

static int isalnum_ascii(unsigned char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

/* Markdown text that renders as itself, also inside a table cell: the characters GFM gives
 * a meaning are backslash-escaped; '_' only where it could begin or end emphasis. */
static void md_text(struct out *o, const char *s)
{
	for (size_t i = 0; s[i]; i++) {
		unsigned char ch = (unsigned char)s[i];
		int esc = strchr("\\|`*<>[]&~$", ch) != NULL;

		if (ch == '_')
			esc = !i || !s[i + 1] || !isalnum_ascii((unsigned char)s[i - 1]) ||
			      !isalnum_ascii((unsigned char)s[i + 1]);
		if (esc)
			put(o, "\\", 1);
		put(o, s + i, 1);
	}
}

static void md_value(struct out *o, const struct value *v, const char *null)
{
	char buf[64];
	const char *t = value_text(v, buf, sizeof(buf));

	if (!t)
		put_str(o, null);
	else if (v->type == V_TEXT)
		md_text(o, t);
	else
		put_str(o, t);
}

static void md_facts(struct out *o, const struct section *s)
{
	for (size_t i = 0; i < s->nfacts; i++) {
		put_fmt(o, "- **%s:** ", s->facts[i].label);
		md_value(o, &s->facts[i].v, "n/a");
		put_str(o, "\n");
	}
	if (s->nfacts)
		put_str(o, "\n");
}

static void md_table(struct out *o, const struct table *t)
{
	put_fmt(o, "### %s\n\n", t->title);
	if (!t->nrows) {
		put_str(o, "None.\n\n");
		return;
	}
	for (size_t c = 0; c < t->ncols; c++)
		put_fmt(o, "| %s ", t->cols[c].label);
	put_str(o, "|\n");
	for (size_t c = 0; c < t->ncols; c++)
		put_str(o, t->cols[c].num ? "|---:" : "|---");
	put_str(o, "|\n");
	for (size_t i = 0; i < t->nrows; i++) {
		for (size_t c = 0; c < t->ncols; c++) {
			put_str(o, "| ");
			md_value(o, &t->cells[i * t->ncols + c], "-");
			put_str(o, " ");
		}
		put_str(o, "|\n");
	}
	put_str(o, "\n");
}

static void render_md(struct out *o, const struct audit_report *r)
{
	put_fmt(o, "# %s %s\n\n", r->sec[SEC_HEADER].title, r->period);
	md_facts(o, &r->sec[SEC_HEADER]);
	for (size_t i = 1; i < NSEC; i++) {
		const struct section *s = &r->sec[i];

		put_fmt(o, "## %zu. %s\n\n", i, s->title);
		if (s->note) {
			md_text(o, s->note);
			put_str(o, "\n\n");
		}
		md_facts(o, s);
		for (size_t k = 0; k < s->ntables; k++)
			md_table(o, &s->tables[k]);
	}
}

static void html_text(struct out *o, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&':
			put_str(o, "&amp;");
			break;
		case '<':
			put_str(o, "&lt;");
			break;
		case '>':
			put_str(o, "&gt;");
			break;
		case '"':
			put_str(o, "&quot;");
			break;
		case '\'':
			put_str(o, "&#39;");
			break;
		default:
			put(o, s, 1);
			break;
		}
	}
}

static void html_value(struct out *o, const struct value *v, const char *null)
{
	char buf[64];
	const char *t = value_text(v, buf, sizeof(buf));

	html_text(o, t ? t : null);
}

static void html_facts(struct out *o, const struct section *s)
{
	if (!s->nfacts)
		return;
	put_str(o, "<table class=\"facts\">\n<tbody>\n");
	for (size_t i = 0; i < s->nfacts; i++) {
		const struct fact *f = &s->facts[i];

		put_str(o, "<tr><th scope=\"row\">");
		html_text(o, f->label);
		put_str(o, f->v.type == V_INT || f->v.type == V_REAL ? "</th><td class=\"n\">"
								     : "</th><td>");
		html_value(o, &f->v, "n/a");
		put_str(o, "</td></tr>\n");
	}
	put_str(o, "</tbody>\n</table>\n");
}

static void html_table(struct out *o, const struct table *t)
{
	put_str(o, "<h3>");
	html_text(o, t->title);
	put_str(o, "</h3>\n");
	if (!t->nrows) {
		put_str(o, "<p class=\"none\">None.</p>\n");
		return;
	}
	put_str(o, "<table>\n<thead>\n<tr>");
	for (size_t c = 0; c < t->ncols; c++) {
		put_str(o,
			t->cols[c].num ? "<th scope=\"col\" class=\"n\">" : "<th scope=\"col\">");
		html_text(o, t->cols[c].label);
		put_str(o, "</th>");
	}
	put_str(o, "</tr>\n</thead>\n<tbody>\n");
	for (size_t i = 0; i < t->nrows; i++) {
		put_str(o, "<tr>");
		for (size_t c = 0; c < t->ncols; c++) {
			put_str(o, t->cols[c].num ? "<td class=\"n\">" : "<td>");
			html_value(o, &t->cells[i * t->ncols + c], "-");
			put_str(o, "</td>");
		}
		put_str(o, "</tr>\n");
	}
	put_str(o, "</tbody>\n</table>\n");
}

/* Inline only: the page must open anywhere, offline, and print well. */
static const char html_style[] =
	"body{font-family:\"Helvetica Neue\",Arial,sans-serif;font-size:11pt;color:#111;"
	"background:#fff;line-height:1.4;max-width:72em;margin:2em auto;padding:0 1em}\n"
	"h1{font-size:1.6em;border-bottom:2px solid #111;padding-bottom:.2em}\n"
	"h2{font-size:1.3em;margin-top:1.8em;border-bottom:1px solid #999}\n"
	"h3{font-size:1.05em;margin:1.2em 0 .4em}\n"
	"p.note{color:#333;font-size:.95em}\n"
	"p.none{color:#555;font-style:italic}\n"
	"table{border-collapse:collapse;margin:.4em 0 1em;font-size:.95em}\n"
	"th,td{border:1px solid #777;padding:.2em .5em;text-align:left;vertical-align:top;"
	"overflow-wrap:anywhere}\n"
	"thead th{background:#e8e8e8}\n"
	"table.facts th{background:#f3f3f3;font-weight:600}\n"
	".n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\n"
	"footer{margin-top:2em;font-size:.85em;color:#555}\n"
	"@media print{\n"
	"@page{margin:1.5cm}\n"
	"body{max-width:none;margin:0;padding:0;font-size:9.5pt}\n"
	"h1,h2,h3{break-after:avoid;page-break-after:avoid}\n"
	"table{break-inside:auto;page-break-inside:auto}\n"
	"tr,p,table.facts{break-inside:avoid;page-break-inside:avoid}\n"
	"thead{display:table-header-group}\n"
	"th,td{border-color:#000}\n"
	"thead th,table.facts th{-webkit-print-color-adjust:exact;print-color-adjust:exact}\n"
	"}\n";

static void render_html(struct out *o, const struct audit_report *r)
{
	put_str(o, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		   "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
		   "style-src 'unsafe-inline'\">\n<meta name=\"viewport\" "
		   "content=\"width=device-width, initial-scale=1\">\n<title>");
	html_text(o, r->sec[SEC_HEADER].title);
	put_str(o, " ");
	html_text(o, r->period);
	put_str(o, "</title>\n<style>\n");
	put_str(o, html_style);
	put_str(o, "</style>\n</head>\n<body>\n<header>\n<h1>");
	html_text(o, r->sec[SEC_HEADER].title);
	put_str(o, " ");
	html_text(o, r->period);
	put_str(o, "</h1>\n");
	html_facts(o, &r->sec[SEC_HEADER]);
	put_str(o, "</header>\n<main>\n");
	for (size_t i = 1; i < NSEC; i++) {
		const struct section *s = &r->sec[i];

		put_fmt(o, "<section id=\"%s\">\n<h2>%zu. ", s->key, i);
		html_text(o, s->title);
		put_str(o, "</h2>\n");
		if (s->note) {
			put_str(o, "<p class=\"note\">");
			html_text(o, s->note);
			put_str(o, "</p>\n");
		}
		html_facts(o, s);
		for (size_t k = 0; k < s->ntables; k++)
			html_table(o, &s->tables[k]);
		put_str(o, "</section>\n");
	}
	put_str(o, "</main>\n<footer><p>");
	html_text(o, r->generator);
	put_str(o, ". Subjects of requests appear by data category only.</p></footer>\n"
		   "</body>\n</html>\n");
}

/* One RFC 4180 field. Text that a spreadsheet would run as a formula gets a leading
 * apostrophe, as OWASP advises for CSV exports. */
static void csv_field(struct out *o, const struct value *v)
{
	char buf[64];
	const char *t = value_text(v, buf, sizeof(buf));

	if (!t)
		return;
	if (v->type == V_TEXT && *t && strchr("=+-@", *t)) {
		put_str(o, "\"'");
	} else if (strpbrk(t, ",\"\r\n")) {
		put_str(o, "\"");
	} else {
		put_str(o, t);
		return;
	}
	for (; *t; t++)
		put(o, *t == '"' ? "\"\"" : t, *t == '"' ? 2 : 1);
	put_str(o, "\"");
}

static void csv_row(struct out *o, const char *section, const char *tab, size_t rown,
		    const char *key, const struct value *v)
{
	put_fmt(o, "%s,%s,", section, tab);
	if (rown)
		put_fmt(o, "%zu", rown);
	put_fmt(o, ",%s,", key);
	csv_field(o, v);
	put_str(o, "\r\n");
}

static void render_csv(struct out *o, const struct audit_report *r)
{
	put_str(o, "section,table,row,key,value\r\n");
	for (size_t i = 0; i < NSEC; i++) {
		const struct section *s = &r->sec[i];

		for (size_t k = 0; k < s->nfacts; k++)
			csv_row(o, s->key, "", 0, s->facts[k].key, &s->facts[k].v);
		for (size_t k = 0; k < s->ntables; k++) {
			const struct table *t = &s->tables[k];

			for (size_t n = 0; n < t->nrows; n++)
				for (size_t c = 0; c < t->ncols; c++)
					csv_row(o, s->key, t->key, n + 1, t->cols[c].key,
						&t->cells[n * t->ncols + c]);
		}
	}
}

static json_t *json_value(const struct value *v)
{
	switch (v->type) {
	case V_INT:
		return json_integer((json_int_t)v->i);
	case V_REAL:
		return json_real(v->r);
	case V_TEXT:
		return json_string(v->s);
	default:
		return json_null();
	}
}

/* Sets key of obj to val (consumed); clears *ok when either is missing. */
static void json_put(json_t *obj, const char *key, json_t *val, int *ok)
{
	if (!obj || !val || json_object_set_new(obj, key, val))
		*ok = 0;
}

static json_t *json_section(const struct section *s, int *ok)
{
	json_t *o = json_object();

	for (size_t k = 0; k < s->nfacts; k++)
		json_put(o, s->facts[k].key, json_value(&s->facts[k].v), ok);
	for (size_t k = 0; k < s->ntables; k++) {
		const struct table *t = &s->tables[k];
		json_t *arr = json_array();

		for (size_t n = 0; arr && n < t->nrows; n++) {
			json_t *rowo = json_object();

			for (size_t c = 0; c < t->ncols; c++)
				json_put(rowo, t->cols[c].key,
					 json_value(&t->cells[n * t->ncols + c]), ok);
			if (!rowo || json_array_append_new(arr, rowo))
				*ok = 0;
		}
		json_put(o, t->key, arr, ok);
	}
	return o;
}

static int json_sink(const char *buffer, size_t size, void *data)
{
	struct out *o = data;

	put(o, buffer, size);
	return o->failed ? -1 : 0;
}

static void render_json(struct out *o, const struct audit_report *r)
{
	json_t *doc = json_object();
	int ok = 1;

	json_put(doc, "format", json_string("steward-report"), &ok);
	json_put(doc, "version", json_integer(1), &ok);
	for (size_t i = 0; i < NSEC; i++)
		json_put(doc, r->sec[i].key, json_section(&r->sec[i], &ok), &ok);
	if (!ok || json_dump_callback(doc, json_sink, o, JSON_INDENT(2) | JSON_PRESERVE_ORDER))
		o->failed = 1;
	put_str(o, "\n");
	json_decref(doc);
}

int audit_report_render(const struct audit_report *r, int format, char **text, size_t *len,
			struct st_error *err)
{
	struct out o = {0};

	*text = NULL;
	*len = 0;
	st_buf_init(&o.b, REPORT_MAX);
	switch (format) {
	case AUDIT_REPORT_MD:
		render_md(&o, r);
		break;
	case AUDIT_REPORT_HTML:
		render_html(&o, r);
		break;
	case AUDIT_REPORT_JSON:
		render_json(&o, r);
		break;
	case AUDIT_REPORT_CSV:
		render_csv(&o, r);
		break;
	default:
		st_buf_release(&o.b);
		return st_error_set(err, ST_E_USAGE, "unknown report format %d", format);
	}
	if (o.failed) {
		st_buf_release(&o.b);
		return st_error_set(err, ST_E_SYSTEM,
				    "cannot render the report: out of memory, or over %zu MiB",
				    REPORT_MAX >> 20);
	}
	*len = o.b.len;
	if (!(*text = st_buf_detach(&o.b))) {
		st_buf_release(&o.b);
		return st_error_oom(err);
	}
	return 0;
}

int audit_report_save(const struct audit_report *r, int format, const char *path,
		      const struct st_output_guard *g, struct st_error *err)
{
	char *text = NULL;
	size_t len = 0;
	int ret = -1;

	if (audit_report_render(r, format, &text, &len, err) ||
	    st_file_write_output(path, "report file", g, text, len, err))
		goto out;
	ret = 0;
out:
	st_free(text);
	return ret;
}
