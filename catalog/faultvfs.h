/* A SQLite VFS shim for fault-injection tests: it fails the Nth write or sync on purpose.
 * Test builds only (STEWARD_TEST_BUILD); elsewhere catalog_faultvfs_init() does nothing. */
#ifndef CATALOG_FAULTVFS_H
#define CATALOG_FAULTVFS_H

/* Call before every sqlite3_open*(). The first call in a test build reads the environment:
 *
 *   STEWARD_FAIL_WRITE=N   the Nth xWrite (1-based, counted over every file of every
 *                          database the process opens) returns SQLITE_IOERR_WRITE
 *   STEWARD_FAIL_SYNC=N    the Nth xSync returns SQLITE_IOERR_FSYNC
 *   STEWARD_FAIL_MODE=M    "after" (default, like STEWARD_FAIL_ALLOC): the Nth call and
 *                          every later one fail, as on a full or dead disk; "once": only
 *                          the Nth, as on a transient error
 *   STEWARD_FAULT_COUNT=1  count writes and syncs for catalog_faultvfs_counts() (the CLI
 *                          prints "steward-fault: writes=W syncs=S" to stderr at the end)
 *
 * When STEWARD_FAIL_WRITE, STEWARD_FAIL_SYNC or STEWARD_FAULT_COUNT is set it registers the
 * shim as SQLite's default VFS, for every database the process opens from then on. The shim
 * wraps the default VFS it finds ("unix") and forwards every other method unchanged. Later
 * calls do nothing; the function is thread-safe and cannot fail (if the shim cannot be
 * registered, databases open on the ordinary VFS and STEWARD_FAULT_COUNT counts nothing). */
void catalog_faultvfs_init(void);
/* Fills the writes and syncs made so far. Returns 1 when STEWARD_FAULT_COUNT asked for
 * them (test builds only), else 0. */
int catalog_faultvfs_counts(long *writes, long *syncs);

#endif
