/* libpq, loaded on first use (common/lazy.h). Include this instead of <libpq-fe.h>: the
 * calls below then go through the table st_pq, which st_pq_load() fills. */
#ifndef ST_LAZY_PQ_H
#define ST_LAZY_PQ_H

#include "error.h"

#include <libpq-fe.h>

#define ST_PQ_FUNCS(X) \
	X(PQclear) \
	X(PQcmdTuples) \
	X(PQconnectdbParams) \
	X(PQconninfoFree) \
	X(PQconninfoParse) \
	X(PQdb) \
	X(PQerrorMessage) \
	X(PQescapeIdentifier) \
	X(PQexecParams) \
	X(PQfinish) \
	X(PQfname) \
	X(PQfreemem) \
	X(PQftype) \
	X(PQgetisnull) \
	X(PQgetlength) \
	X(PQgetvalue) \
	X(PQnfields) \
	X(PQntuples) \
	X(PQresultErrorField) \
	X(PQresultStatus) \
	X(PQsetNoticeProcessor) \
	X(PQstatus)

struct st_pq {
#define ST_PQ_SLOT(f) __typeof__(f) *f;
	ST_PQ_FUNCS(ST_PQ_SLOT)
#undef ST_PQ_SLOT
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
