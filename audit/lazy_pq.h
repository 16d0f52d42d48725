/* libpq, loaded on first use (common/lazy.h). Include this instead of <libpq-fe.h>: the
 * calls below then go through the table st_pq, which st_pq_load() fills. */
#ifndef ST_LAZY_PQ_H
#define ST_LAZY_PQ_H

#include "error.h"
#include "lazy.h"

#include <libpq-fe.h>

#define ST_PQ_FUNCS(X, t) \
	X(t, PQclear) \
	X(t, PQcmdTuples) \
	X(t, PQconnectdbParams) \
	X(t, PQconninfoFree) \
	X(t, PQconninfoParse) \
	X(t, PQdb) \
	X(t, PQerrorMessage) \
	X(t, PQescapeIdentifier) \
	X(t, PQexecParams) \
	X(t, PQfinish) \
	X(t, PQfname) \
	X(t, PQfreemem) \
	X(t, PQftype) \
	X(t, PQgetisnull) \
	X(t, PQgetlength) \
	X(t, PQgetvalue) \
	X(t, PQnfields) \
	X(t, PQntuples) \
	X(t, PQresultErrorField) \
	X(t, PQresultStatus) \
	X(t, PQsetNoticeProcessor) \
	X(t, PQstatus)

struct st_pq {
	ST_PQ_FUNCS(ST_LAZY_SLOT, st_pq)
};
extern struct st_pq st_pq;

/* Loads libpq.so.5 once per process and fills st_pq: 0, or -1 with err naming the Debian
 * package. Every call of a function below comes after it. */
int st_pq_load(struct st_error *err);

#ifndef ST_LAZY_PQ_IMPL
#define PQclear (st_pq.PQclear)
#define PQcmdTuples (st_pq.PQcmdTuples)
#define PQconnectdbParams (st_pq.PQconnectdbParams)
#define PQconninfoFree (st_pq.PQconninfoFree)
#define PQconninfoParse (st_pq.PQconninfoParse)
#define PQdb (st_pq.PQdb)
#define PQerrorMessage (st_pq.PQerrorMessage)
#define PQescapeIdentifier (st_pq.PQescapeIdentifier)
#define PQexecParams (st_pq.PQexecParams)
#define PQfinish (st_pq.PQfinish)
#define PQfname (st_pq.PQfname)
#define PQfreemem (st_pq.PQfreemem)
#define PQftype (st_pq.PQftype)
#define PQgetisnull (st_pq.PQgetisnull)
#define PQgetlength (st_pq.PQgetlength)
#define PQgetvalue (st_pq.PQgetvalue)
#define PQnfields (st_pq.PQnfields)
#define PQntuples (st_pq.PQntuples)
#define PQresultErrorField (st_pq.PQresultErrorField)
#define PQresultStatus (st_pq.PQresultStatus)
#define PQsetNoticeProcessor (st_pq.PQsetNoticeProcessor)
#define PQstatus (st_pq.PQstatus)
#endif

#endif
