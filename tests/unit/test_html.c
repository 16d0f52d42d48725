/* Unit tests for the pages' HTML writer (serve/html.c): every value is text or a URL part,
 * never markup, and the CSRF form fields decode as browsers encode them. */
#include "harness.h"
#include "html.h"

#include <stdio.h>
#include <string.h>

static const char *render(const char *fmt, const char *a, const char *b)
{
	static char out[1024];
	struct html h;

	html_init(&h);
	html_f(&h, fmt, a, b);
	snprintf(out, sizeof(out), "%s", h.failed ? "(failed)" : st_buf_str(&h.b));
	html_release(&h);
	return out;
}

int main(void)
{
	struct html h;

	CHECK_STR(render("<p>%s</p>", "<script>alert(1)</script>", NULL),
		  "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>");
	CHECK_STR(render("<a title=\"%s\">", "\"><img src=x onerror=alert(2)>", NULL),
		  "<a title=\"&quot;&gt;&lt;img src=x onerror=alert(2)&gt;\">");
	CHECK_STR(render("<a title='%s'>", "' onmouseover='x", NULL),
		  "<a title='&#39; onmouseover=&#39;x'>");
	CHECK_STR(render("%s", "a & b", NULL), "a &amp; b");
	CHECK_STR(render("<a href=\"/datasets/%U\">%s</a>", "a b/../c?d=\"e\"&f", "x"),
		  "<a href=\"/datasets/a%20b%2F..%2Fc%3Fd%3D%22e%22%26f\">x</a>");
	CHECK_STR(render("<a href=\"/x?q=%U\">", "javascript:alert(1)", NULL),
		  "<a href=\"/x?q=javascript%3Aalert%281%29\">");
	CHECK_STR(render("%s", "esc\x1b[31m and \xff and line\nbreak", NULL),
		  "esc\\x1b[31m and \\xff and line\nbreak");
	CHECK_STR(render("[%s]", NULL, NULL), "[]");
	CHECK_STR(render("100%% %s", "x", NULL), "100% x");
	CHECK_STR(render("%x", "x", NULL), "(failed)"); /* no conversion for raw text */

	html_init(&h);
	html_f(&h, "%d %ld %lld %zu", -1, 2L, 3LL, (size_t)4);
	CHECK_STR(st_buf_str(&h.b), "-1 2 3 4");
	html_release(&h);
	return t_done();
}
