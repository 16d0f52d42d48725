/* libmicrohttpd, loaded on first use (common/lazy.h). Include this instead of <microhttpd.h>: the
 * calls below then go through the table st_mhd, which st_mhd_load() fills. */
#ifndef ST_LAZY_MHD_H
#define ST_LAZY_MHD_H

#include "error.h"
#include "lazy.h"

#include <microhttpd.h>

#define ST_MHD_FUNCS(X, t) \
	X(t, MHD_add_response_header) \
	X(t, MHD_create_response_from_buffer) \
	X(t, MHD_destroy_response) \
	X(t, MHD_get_connection_info) \
	X(t, MHD_get_connection_values_n) \
	X(t, MHD_get_daemon_info) \
	X(t, MHD_lookup_connection_value) \
	X(t, MHD_queue_response) \
	X(t, MHD_quiesce_daemon) \
	X(t, MHD_start_daemon) \
	X(t, MHD_stop_daemon)

struct st_mhd {
	ST_MHD_FUNCS(ST_LAZY_SLOT, st_mhd)
};
extern struct st_mhd st_mhd;

/* Loads libmicrohttpd.so.12 once per process and fills st_mhd: 0, or -1 with err naming the Debian
 * package. Every call of a function below comes after it. */
int st_mhd_load(struct st_error *err);

#ifndef ST_LAZY_MHD_IMPL
#define MHD_add_response_header (st_mhd.MHD_add_response_header)
#define MHD_create_response_from_buffer (st_mhd.MHD_create_response_from_buffer)
#define MHD_destroy_response (st_mhd.MHD_destroy_response)
#define MHD_get_connection_info (st_mhd.MHD_get_connection_info)
#define MHD_get_connection_values_n (st_mhd.MHD_get_connection_values_n)
#define MHD_get_daemon_info (st_mhd.MHD_get_daemon_info)
#define MHD_lookup_connection_value (st_mhd.MHD_lookup_connection_value)
#define MHD_queue_response (st_mhd.MHD_queue_response)
#define MHD_quiesce_daemon (st_mhd.MHD_quiesce_daemon)
#define MHD_start_daemon (st_mhd.MHD_start_daemon)
#define MHD_stop_daemon (st_mhd.MHD_stop_daemon)
#endif

#endif
