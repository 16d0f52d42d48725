/* The fault-injection VFS (see faults.h): a pass-through wrapper around SQLite's default
 * VFS that counts xWrite and xSync calls (with st_fdatasync()'s) and fails the Nth one, or
 * holds the process at its first write to a given file until a test lets it go on.
 * Linked into test builds only, by tests/support/meson.build. */
#include "faults.h"
#include "file.h"

#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FAULT_VFS_NAME "steward-fault"

/* An open file: our header, then the wrapped VFS's own file object (szOsFile bytes). The
 * method table lives in the file because the wrapped VFS picks one of several tables, of
 * different versions, per file, and ours must offer exactly the methods it offers. */
struct ffile {
	sqlite3_file base;
	sqlite3_io_methods methods;
	sqlite3_file *real;
	int pause; /* its name ends in STEWARD_PAUSE_WRITE */
};

static sqlite3_vfs *real_vfs;
static sqlite3_vfs fault_vfs;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static long fail_write, fail_sync; /* 0: never */
static int fail_once;              /* 1: only the Nth call fails; 0: the Nth and later */
static atomic_long nwrite, nsync;
static const char *pause_suffix, *pause_dir; /* STEWARD_PAUSE_WRITE, STEWARD_PAUSE_DIR */
static atomic_int paused;

/* Writes a line to the FIFO pause_dir/name, opened for writing (which waits for a reader). */
static void fifo_say(const char *name, const char *line)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", pause_dir, name);
	if ((fd = open(path, O_WRONLY)) < 0)
		return;
	if (write(fd, line, strlen(line)) < 0)
		(void)0; /* the test sees no line */
	close(fd);
}

/* The first write to a file named *STEWARD_PAUSE_WRITE: says "paused" on the FIFO
 * STEWARD_PAUSE_DIR/paused, then waits until something is written to (and closed on) the
 * FIFO STEWARD_PAUSE_DIR/resume. Later writes go on at once. */
static void pause_here(void)
{
	char path[4096], buf[64];
	int fd;

	if (atomic_exchange(&paused, 1))
		return;
	fifo_say("paused", "paused\n");
	snprintf(path, sizeof(path), "%s/resume", pause_dir);
	if ((fd = open(path, O_RDONLY)) < 0)
		return;
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	close(fd);
}

/* Counts a call; returns 1 when it is to fail. */
static int injected(atomic_long *counter, long at)
{
	long n = atomic_fetch_add(counter, 1) + 1;

	if (at <= 0)
		return 0;
	return fail_once ? n == at : n >= at;
}

static sqlite3_file *real_file(sqlite3_file *f)
{
	return ((struct ffile *)f)->real;
}

/* ---- sqlite3_io_methods: all forwarded, xWrite and xSync counted ---- */

static int f_close(sqlite3_file *f)
{
	sqlite3_file *r = real_file(f);
	int rc = SQLITE_OK;

	if (r->pMethods)
		rc = r->pMethods->xClose(r);
	f->pMethods = NULL;
	return rc;
}

static int f_read(sqlite3_file *f, void *buf, int n, sqlite3_int64 off)
{
	sqlite3_file *r = real_file(f);

	return r->pMethods->xRead(r, buf, n, off);
}

static int f_write(sqlite3_file *f, const void *buf, int n, sqlite3_int64 off)
{
	sqlite3_file *r = real_file(f);

	if (((struct ffile *)f)->pause)
		pause_here();
	if (injected(&nwrite, fail_write))
		return SQLITE_IOERR_WRITE;
	return r->pMethods->xWrite(r, buf, n, off);
}

static int f_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	sqlite3_file *r = real_file(f);

	return r->pMethods->xTruncate(r, size);
}

static int f_sync(sqlite3_file *f, int flags)
{
	sqlite3_file *r = real_file(f);

	if (injected(&nsync, fail_sync))
		return SQLITE_IOERR_FSYNC;
	return r->pMethods->xSync(r, flags);
}

static int f_file_size(sqlite3_file *f, sqlite3_int64 *size)
{
	sqlite3_file *r = real_file(f);

	return r->pMethods->xFileSize(r, size);
}

static int f_lock(sqlite3_file *f, int level)
{
	sqlite3_file *r = real_file(f);

	return r->pMethods->xLock(r, level);
}

static int f_unlock(sqlite3_file *f, int level)
{
	sqlite3_file *r = real_file(f);

	return r->pMethods->xUnlock(r, level);
}

static int f_check_reserved_lock(sqlite3_file *f, int *out)
{
	sqlite3_file *r = real_file(f);

	return r->pMethods->xCheckReservedLock(r, out);
}

static int f_file_control(sqlite3_file *f, int op, void *arg)
{
	sqlite3_file *r = real_file(f);

	return r->pMethods->xFileControl(r, op, arg);
}

static int f_sector_size(sqlite3_file *f)
{
	sqlite3_file *r = real_file(f);

	return r->pMethods->xSectorSize(r);
}

static int f_device_characteristics(sqlite3_file *f)
{
	sqlite3_file *r = real_file(f);

	return r->pMethods->xDeviceCharacteristics(r);
}

static int f_shm_map(sqlite3_file *f, int region, int size, int extend, void volatile **pp)
{
	sqlite3_file *r = real_file(f);

	return r->pMethods->xShmMap(r, region, size, extend, pp);
}

static int f_shm_lock(sqlite3_file *f, int offset, int n, int flags)
{
	sqlite3_file *r = real_file(f);

	return r->pMethods->xShmLock(r, offset, n, flags);
}

static void f_shm_barrier(sqlite3_file *f)
{
	sqlite3_file *r = real_file(f);

	r->pMethods->xShmBarrier(r);
}

static int f_shm_unmap(sqlite3_file *f, int del)
{
	sqlite3_file *r = real_file(f);

	return r->pMethods->xShmUnmap(r, del);
}

static int f_fetch(sqlite3_file *f, sqlite3_int64 off, int n, void **pp)
{
	sqlite3_file *r = real_file(f);

	return r->pMethods->xFetch(r, off, n, pp);
}

static int f_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
	sqlite3_file *r = real_file(f);

	return r->pMethods->xUnfetch(r, off, p);
}

/* Fills m with a forwarder for each method the wrapped table has, and NULL where it has
 * none, at the same version: SQLite decides what a file supports (WAL needs xShmMap,
 * memory-mapped I/O xFetch) by what the table holds. */
static void wrap_methods(sqlite3_io_methods *m, const sqlite3_io_methods *r)
{
	memset(m, 0, sizeof(*m));
	m->iVersion = r->iVersion;
	m->xClose = f_close;
	m->xRead = r->xRead ? f_read : NULL;
	m->xWrite = r->xWrite ? f_write : NULL;
	m->xTruncate = r->xTruncate ? f_truncate : NULL;
	m->xSync = r->xSync ? f_sync : NULL;
	m->xFileSize = r->xFileSize ? f_file_size : NULL;
	m->xLock = r->xLock ? f_lock : NULL;
	m->xUnlock = r->xUnlock ? f_unlock : NULL;
	m->xCheckReservedLock = r->xCheckReservedLock ? f_check_reserved_lock : NULL;
	m->xFileControl = r->xFileControl ? f_file_control : NULL;
	m->xSectorSize = r->xSectorSize ? f_sector_size : NULL;
	m->xDeviceCharacteristics = r->xDeviceCharacteristics ? f_device_characteristics : NULL;
	if (r->iVersion >= 2) {
		m->xShmMap = r->xShmMap ? f_shm_map : NULL;
		m->xShmLock = r->xShmLock ? f_shm_lock : NULL;
		m->xShmBarrier = r->xShmBarrier ? f_shm_barrier : NULL;
		m->xShmUnmap = r->xShmUnmap ? f_shm_unmap : NULL;
	}
	if (r->iVersion >= 3) {
		m->xFetch = r->xFetch ? f_fetch : NULL;
		m->xUnfetch = r->xUnfetch ? f_unfetch : NULL;
	}
}

/* ---- sqlite3_vfs: all forwarded to the wrapped VFS, with its own pointer ---- */

static int v_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags,
		  int *out_flags)
{
	struct ffile *p = (struct ffile *)f;
	int rc;

	(void)vfs;
	p->real = (sqlite3_file *)(p + 1);
	p->pause = pause_suffix && name && strlen(name) >= strlen(pause_suffix) &&
		   !strcmp(name + strlen(name) - strlen(pause_suffix), pause_suffix);
	rc = real_vfs->xOpen(real_vfs, name, p->real, flags, out_flags);
	/* SQLite closes a file whose pMethods is set even when the open failed, so ours is set
	 * exactly when the wrapped one is */
	if (p->real->pMethods) {
		wrap_methods(&p->methods, p->real->pMethods);
		f->pMethods = &p->methods;
	} else {
		f->pMethods = NULL;
	}
	return rc;
}

static int v_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
	(void)vfs;
	return real_vfs->xDelete(real_vfs, name, sync_dir);
}

static int v_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
	(void)vfs;
	return real_vfs->xAccess(real_vfs, name, flags, out);
}

static int v_full_pathname(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
	(void)vfs;
	return real_vfs->xFullPathname(real_vfs, name, n, out);
}

static void *v_dl_open(sqlite3_vfs *vfs, const char *name)
{
	(void)vfs;
	return real_vfs->xDlOpen(real_vfs, name);
}

static void v_dl_error(sqlite3_vfs *vfs, int n, char *msg)
{
	(void)vfs;
	real_vfs->xDlError(real_vfs, n, msg);
}

static void (*v_dl_sym(sqlite3_vfs *vfs, void *h, const char *sym))(void)
{
	(void)vfs;
	return real_vfs->xDlSym(real_vfs, h, sym);
}

static void v_dl_close(sqlite3_vfs *vfs, void *h)
{
	(void)vfs;
	real_vfs->xDlClose(real_vfs, h);
}

static int v_randomness(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	return real_vfs->xRandomness(real_vfs, n, out);
}

static int v_sleep(sqlite3_vfs *vfs, int us)
{
	(void)vfs;
	return real_vfs->xSleep(real_vfs, us);
}

static int v_current_time(sqlite3_vfs *vfs, double *out)
{
	(void)vfs;
	return real_vfs->xCurrentTime(real_vfs, out);
}

static int v_get_last_error(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	return real_vfs->xGetLastError ? real_vfs->xGetLastError(real_vfs, n, out) : 0;
}

static int v_current_time_int64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
	(void)vfs;
	return real_vfs->xCurrentTimeInt64(real_vfs, out);
}

static int v_set_system_call(sqlite3_vfs *vfs, const char *name, sqlite3_syscall_ptr fn)
{
	(void)vfs;
	return real_vfs->xSetSystemCall(real_vfs, name, fn);
}

static sqlite3_syscall_ptr v_get_system_call(sqlite3_vfs *vfs, const char *name)
{
	(void)vfs;
	return real_vfs->xGetSystemCall(real_vfs, name);
}

static const char *v_next_system_call(sqlite3_vfs *vfs, const char *name)
{
	(void)vfs;
	return real_vfs->xNextSystemCall(real_vfs, name);
}

/* ---- setup ---- */

static long env_count(const char *name)
{
	const char *v = getenv(name);

	return v ? strtol(v, NULL, 10) : 0;
}

static int counting; /* STEWARD_FAULT_COUNT is set and the shim is registered */

/* st_fdatasync()'s hook: the syncs steward makes by itself are counted with SQLite's. */
static int sync_fails(void)
{
	return injected(&nsync, fail_sync);
}

static void setup(void)
{
	const char *mode = getenv("STEWARD_FAIL_MODE");
	const char *count = getenv("STEWARD_FAULT_COUNT");
	int want_count = count && *count && strcmp(count, "0");

	fail_write = env_count("STEWARD_FAIL_WRITE");
	fail_sync = env_count("STEWARD_FAIL_SYNC");
	fail_once = mode && !strcmp(mode, "once");
	pause_suffix = getenv("STEWARD_PAUSE_WRITE");
	pause_dir = getenv("STEWARD_PAUSE_DIR");
	if (!pause_suffix || !*pause_suffix || !pause_dir)
		pause_suffix = NULL;
	if (fail_write <= 0 && fail_sync <= 0 && !want_count && !pause_suffix)
		return;
	real_vfs = sqlite3_vfs_find(NULL);
	if (!real_vfs)
		return;
	fault_vfs.iVersion = real_vfs->iVersion < 3 ? real_vfs->iVersion : 3;
	fault_vfs.szOsFile = (int)sizeof(struct ffile) + real_vfs->szOsFile;
	fault_vfs.mxPathname = real_vfs->mxPathname;
	fault_vfs.zName = FAULT_VFS_NAME;
	fault_vfs.xOpen = v_open;
	fault_vfs.xDelete = v_delete;
	fault_vfs.xAccess = v_access;
	fault_vfs.xFullPathname = v_full_pathname;
	fault_vfs.xDlOpen = real_vfs->xDlOpen ? v_dl_open : NULL;
	fault_vfs.xDlError = real_vfs->xDlError ? v_dl_error : NULL;
	fault_vfs.xDlSym = real_vfs->xDlSym ? v_dl_sym : NULL;
	fault_vfs.xDlClose = real_vfs->xDlClose ? v_dl_close : NULL;
	fault_vfs.xRandomness = v_randomness;
	fault_vfs.xSleep = v_sleep;
	fault_vfs.xCurrentTime = v_current_time;
	fault_vfs.xGetLastError = v_get_last_error;
	if (fault_vfs.iVersion >= 2)
		fault_vfs.xCurrentTimeInt64 =
			real_vfs->xCurrentTimeInt64 ? v_current_time_int64 : NULL;
	if (fault_vfs.iVersion >= 3) {
		fault_vfs.xSetSystemCall = real_vfs->xSetSystemCall ? v_set_system_call : NULL;
		fault_vfs.xGetSystemCall = real_vfs->xGetSystemCall ? v_get_system_call : NULL;
		fault_vfs.xNextSystemCall = real_vfs->xNextSystemCall ? v_next_system_call : NULL;
	}
	if (sqlite3_vfs_register(&fault_vfs, 1) != SQLITE_OK)
		return;
	st_sync_fail_hook = sync_fails;
	counting = want_count;
}

int st_test_faultvfs_counts(long *writes, long *syncs)
{
	*writes = atomic_load(&nwrite);
	*syncs = atomic_load(&nsync);
	return counting;
}

void st_test_faultvfs_init(void)
{
	pthread_once(&once, setup);
}
