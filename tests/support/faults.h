/* Fault injection for test builds: failing allocations and SQLite writes and syncs, or a
 * pause at a write, on request from the environment. Linked into the steward binary and the test programs only
 * when meson is configured with -Dtest_build=true; the product libraries know nothing of it. */
#ifndef ST_TEST_FAULTS_H
#define ST_TEST_FAULTS_H

/* Reads the environment once and, when asked, registers the SQLite VFS shim as the default
 * VFS for every database the process opens from then on:
 *
 *   STEWARD_FAIL_WRITE=N   the Nth xWrite (1-based, counted over every file of every
 *                          database the process opens) returns SQLITE_IOERR_WRITE
 *   STEWARD_FAIL_SYNC=N    the Nth xSync returns SQLITE_IOERR_FSYNC
 *   STEWARD_FAIL_MODE=M    "after" (default, like STEWARD_FAIL_ALLOC): the Nth call and
 *                          every later one fail, as on a full or dead disk; "once": only
 *                          the Nth, as on a transient error
 *   STEWARD_FAULT_COUNT=1  count writes and syncs for st_test_faultvfs_counts()
 *   STEWARD_PAUSE_WRITE=S  with STEWARD_PAUSE_DIR=D: the process's first xWrite to a file
 *                          whose name ends in S writes "paused" to the FIFO D/paused,
 *                          then waits until a writer of the FIFO D/resume closes it, and
 *                          goes on (a test's way to act while, say, a load is committing)
 *
 * The shim wraps the default VFS it finds ("unix") and forwards every other method
 * unchanged. Later calls do nothing; thread-safe; cannot fail (if the shim cannot be
 * registered, databases open on the ordinary VFS and nothing is counted). */
void st_test_faultvfs_init(void);
/* Fills the writes and syncs made so far. Returns 1 when STEWARD_FAULT_COUNT asked for
 * them, else 0. */
int st_test_faultvfs_counts(long *writes, long *syncs);

#endif
