/* Graphviz (libgvc, libcgraph and the dot layout and core plugins), loaded on first use
 * (common/lazy.h). Include this instead of <graphviz/gvc.h>: the calls below then go through
 * the table st_gvc, which st_gvc_load() fills. */
#ifndef ST_LAZY_GVC_H
#define ST_LAZY_GVC_H

#include "error.h"
#include "lazy.h"

#include <graphviz/gvc.h>
#include <graphviz/gvplugin.h>

#define ST_GVC_FUNCS(X, t)                                                                    \
	X(t, gvAddLibrary)                                                                      \
	X(t, gvContextPlugins)                                                                  \
	X(t, gvFreeLayout)                                                                      \
	X(t, gvFreeRenderData)                                                                  \
	X(t, gvLayout)                                                                          \
	X(t, gvRenderData)

#define ST_CGRAPH_FUNCS(X, t)                                                                 \
	X(t, agclose)                                                                           \
	X(t, agmemread)                                                                         \
	X(t, agseterr)                                                                          \
	X(t, agseterrf)

struct st_gvc {
	ST_GVC_FUNCS(ST_LAZY_SLOT, st_gvc)
	ST_CGRAPH_FUNCS(ST_LAZY_SLOT, st_gvc)
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
