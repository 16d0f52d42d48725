/* The table of Graphviz functions that lazy_gvc.h routes calls through, and its loader: the
 * layout and SVG renderer are the plugins linked in before (no plugin configuration is read,
 * so no pango or fontconfig), now loaded by path from Graphviz's plugin directory. */
#define ST_LAZY_GVC_IMPL
#include "lazy_gvc.h"

struct st_gvc st_gvc;

static const struct st_lazy_sym gvc_syms[] = {ST_GVC_FUNCS(ST_LAZY_SYM, st_gvc)};
static const struct st_lazy_sym cgraph_syms[] = {ST_CGRAPH_FUNCS(ST_LAZY_SYM, st_gvc)};
static const struct st_lazy_sym dot_syms[] = {
	{"gvplugin_dot_layout_LTX_library", (void **)&st_gvc.dot_layout}};
static const struct st_lazy_sym core_syms[] = {
	{"gvplugin_core_LTX_library", (void **)&st_gvc.core}};

static struct st_lazy libs[] = {
	ST_LAZY_INIT("libgvc.so.6", "lineage graphs", "libgvc6", gvc_syms),
	ST_LAZY_INIT("libcgraph.so.6", "lineage graphs", "libcgraph6", cgraph_syms),
	ST_LAZY_INIT(GV_PLUGINDIR "/libgvplugin_dot_layout.so.6", "lineage graphs", "libgvc6",
		     dot_syms),
	ST_LAZY_INIT(GV_PLUGINDIR "/libgvplugin_core.so.6", "lineage graphs", "libgvc6",
		     core_syms),
};

int st_gvc_load(struct st_error *err)
{
	for (size_t i = 0; i < sizeof(libs) / sizeof(*libs); i++)
		if (st_lazy_load(&libs[i], err))
			return -1;
	return 0;
}
