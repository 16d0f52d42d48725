/* One `request run` per request at a time: a lock file per request under .steward/locks/,
 * held with flock(2) for the whole run and naming its holder. Private to the audit library. */
#ifndef AUDIT_RUN_LOCK_H
#define AUDIT_RUN_LOCK_H

#include "error.h"

struct sqlite3;
struct audit_run_lock;

/* Takes the run lock of request id for this process: the file locks/ID.lock beside the
 * audit database db (mode 0600, the directory 0700), locked with flock(LOCK_EX | LOCK_NB),
 * which the kernel drops when the holder ends however it ends (no stale lock), and filled
 * with the holder's pid, user (actor), host and start time. Returns 0 with *out (free with
 * audit_run_lock_release(); NULL when db is not a file, which has nothing to lock), 1 with
 * err ST_E_DENIED naming the holder when another process holds the lock, or -1 with err
 * ST_E_SYSTEM when the file cannot be made. */
int audit_run_lock_acquire(struct sqlite3 *db, const char *id, const char *actor,
			   struct audit_run_lock **out, struct st_error *err);
/* Removes the lock file and drops the lock. NULL is fine. */
void audit_run_lock_release(struct audit_run_lock *lk);

#endif
