/* The pages' static files: a fixed table compiled into the binary, looked up by exact name,
 * so that no path reaches the file system (no traversal, whatever the URL holds). */
#include "pages_int.h"

#include <string.h>

static const char css[] =
	"body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#1d2125;background:#fafbfc}\n"
	"header{display:flex;gap:1.2em;align-items:center;padding:.6em 1.2em;background:#20262e;"
	"color:#e6e6e6}\n"
	"header a{color:#e6e6e6;text-decoration:none}header a.brand{font-weight:700}\n"
	"header nav{display:flex;gap:1em}header .who{margin-left:auto;opacity:.8}\n"
	"main{padding:1em 1.6em;max-width:80em}\n"
	"a{color:#0b5cad}code{background:#eef0f3;padding:0 .25em}\n"
	"table{border-collapse:collapse;margin:.5em 0}th,td{padding:.2em .7em;text-align:left;"
	"border-bottom:1px solid #e1e4e8;vertical-align:top}\n"
	".muted{color:#6a737d}.note{color:#6a4a00;background:#fff8e1;padding:.3em .6em}\n"
	".error{color:#b00020}.ok{color:#1b7f3b}\n"
	".badge,.pii,.kind{display:inline-block;font-size:.8em;padding:0 .45em;border-radius:.7em;"
	"border:1px solid #c8ced6}\n"
	".certified{background:#e6f4ea;border-color:#1b7f3b;color:#1b7f3b}\n"
	".observed{background:#eef0f3}\n"
	".pii{background:#fde7e9;border-color:#c62828;color:#8e1b1b}\n"
	".pii-pseudonymous{background:#fff4e5;border-color:#b26a00;color:#7a4800}\n"
	".kind{color:#57606a}.external{font-style:italic}\n"
	".hits li{margin:.5em 0}.desc{color:#444;white-space:pre-wrap}\n"
	"form.search input,form.search select{margin:.2em}\n"
	".graph{overflow:auto;border:1px solid #e1e4e8;background:#fff;padding:.5em}\n"
	".graph svg{max-width:100%;height:auto}\n"
	/* Graphviz measures text with Helvetica's metrics: draw it in a face of the same widths */
	".graph svg text{font-family:'Liberation Sans',Arimo,Helvetica,Arial,sans-serif}\n"
	".group h2{margin-bottom:.2em}.late{color:#b00020;font-weight:600}\n"
	"tr.path td{background:#e8f0fe}\n"
	"td.tree{white-space:pre}\n";

/* A little script where it helps, and nothing a page needs: a lineage graph's node picked with
 * a click while Alt is held fills the form's "from" and "to" fields in turn. */
static const char js[] =
	"'use strict';\n"
	"document.addEventListener('DOMContentLoaded', function () {\n"
	"  var form = document.getElementById('pathform');\n"
	"  if (!form) return;\n"
	"  var next = 'from';\n"
	"  document.querySelectorAll('.graph g.node').forEach(function (n) {\n"
	"    n.addEventListener('click', function (e) {\n"
	"      if (!e.altKey) return;\n"
	"      e.preventDefault();\n"
	"      var t = n.querySelector('title');\n"
	"      if (!t) return;\n"
	"      form.elements[next].value = t.textContent;\n"
	"      next = next === 'from' ? 'to' : 'from';\n"
	"    });\n"
	"  });\n"
	"});\n";

static const struct {
	const char *name, *type, *data;
	size_t len;
} files[] = {
	{"steward.css", "text/css; charset=utf-8", css, sizeof(css) - 1},
	{"steward.js", "text/javascript; charset=utf-8", js, sizeof(js) - 1},
};

/* GET /static/NAME: one of the files above, by exact name; anything else is 404. */
enum MHD_Result page_static(struct server *s, struct MHD_Connection *c, struct request *r,
			    const struct audit_actor *a, const char *name)
{
	char shown[SERVE_TEXT_MAX];

	(void)s;
	(void)a;
	for (size_t i = 0; i < sizeof(files) / sizeof(*files); i++)
		if (!strcmp(name, files[i].name))
			return serve_reply_data(c, r, MHD_HTTP_OK, files[i].type, files[i].data,
						files[i].len, NULL);
	return serve_reply_error(c, r, MHD_HTTP_NOT_FOUND, "no such page '/static/%s'",
				 serve_escaped(name, shown, sizeof(shown)));
}
