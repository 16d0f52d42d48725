/* Graphviz (libgvc, libcgraph and the dot layout and core plugins), loaded on first use
 * (common/lazy.h). Include this instead of <graphviz/gvc.h>: the calls below then go through
 * the table st_gvc, which st_gvc_load() fills. */
#ifndef ST_LAZY_GVC_H
#define ST_LAZY_GVC_H

#include "error.h"

#include <graphviz/gvc.h>
#include <graphviz/gvplugin.h>

#define ST_GVC_FUNCS(X)                                                                      \
	X(gvAddLibrary)                                                                      \
	X(gvContextPlugins)                                                                  \
	X(gvFreeLayout)                                                                      \
	X(gvFreeRenderData)                                                                  \
	X(gvLayout)                                                                          \
	X(gvRenderData)

#define ST_CGRAPH_FUNCS(X)                                                                   \
	X(agclose)                                                                           \
	X(agmemread)                                                                         \
	X(agseterr)                                                                          \
	X(agseterrf)

struct st_gvc {
#define ST_GVC_SLOT(f) __typeof__(f) *f;
	ST_GVC_FUNCS(ST_GVC_SLOT)
	ST_CGRAPH_FUNCS(ST_GVC_SLOT)
#undef ST_GVC_SLOT
	/* the plugins' libraries, for gvAddLibrary() */
	gvplugin_library_t *dot_layout, *core;
};
extern struct st_gvc st_gvc;

/* Loads libgvc.so.6, libcgraph.so.6 and the two plugins once per process and fills st_gvc:
 * 0, or -1 with err naming the Debian package. Every call of a function below comes after. */
int st_gvc_load(struct st_error *err);

#ifndef ST_LAZY_GVC_IMPL
#define gvAddLibrary (st_gvc.gvAddLibrary)
#define gvContextPlugins (st_gvc.gvContextPlugins)
#define gvFreeLayout (st_gvc.gvFreeLayout)
#define gvFreeRenderData (st_gvc.gvFreeRenderData)
#define gvLayout (st_gvc.gvLayout)
#define gvRenderData (st_gvc.gvRenderData)
#define agclose (st_gvc.agclose)
#define agmemread (st_gvc.agmemread)
#define agseterr (st_gvc.agseterr)
#define agseterrf (st_gvc.agseterrf)
#endif

#endif
