//! A disk that fails on demand, for SQLite files in this process: a VFS that wraps the
//! platform's and is made the default, so every connection opened afterwards (the phone's
//! store, the server's database) goes through it without knowing. Files under a watched
//! folder have their writes (`write`, `truncate`, `fsync`) counted, and the Nth can be made to
//! fail with an I/O error (that one write) or a full disk (that write and every later one until
//! the disk is healed). Files elsewhere, and every read, pass straight through.

use std::ffi::{CStr, c_char, c_int, c_void};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, OnceLock};

use rusqlite::ffi;

/// How the Nth write fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DiskFault {
    /// That write fails with an I/O error; later ones succeed.
    IoError,
    /// That write and every later one fail: the disk is full.
    Full,
}

#[derive(Default)]
struct Plan {
    watched: Option<PathBuf>,
    writes: u64,
    fail_at: Option<(u64, DiskFault)>,
    failures: u64,
}

static PLAN: Mutex<Plan> = Mutex::new(Plan {
    watched: None,
    writes: 0,
    fail_at: None,
    failures: 0,
});

fn plan() -> MutexGuard<'static, Plan> {
    PLAN.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The process's faulty disk; there is one, installed on first use.
pub struct FaultyDisk(());

impl FaultyDisk {
    /// Installs the faulty disk as SQLite's default VFS (once) and returns it.
    pub fn install() -> &'static FaultyDisk {
        static DISK: OnceLock<FaultyDisk> = OnceLock::new();
        DISK.get_or_init(|| {
            // SAFETY: the VFS is leaked, so it outlives every connection; it wraps the
            // platform VFS SQLite already has.
            unsafe { register() };
            FaultyDisk(())
        })
    }

    /// Counts writes to files under `folder` from now on (and stops counting any other folder),
    /// failing none.
    pub fn watch(&self, folder: &Path) {
        let mut plan = plan();
        *plan = Plan {
            watched: Some(folder.to_path_buf()),
            ..Plan::default()
        };
    }

    /// Makes the `n`th write from now on (counting from 1) fail with `fault`.
    pub fn fail_at(&self, n: u64, fault: DiskFault) {
        let mut plan = plan();
        plan.writes = 0;
        plan.failures = 0;
        plan.fail_at = Some((n, fault));
    }

    /// Heals the disk: no more failures. The count goes on.
    pub fn heal(&self) {
        plan().fail_at = None;
    }

    /// Writes counted since the folder was watched or the failure armed.
    pub fn writes(&self) -> u64 {
        plan().writes
    }

    /// Writes that were made to fail.
    pub fn failures(&self) -> u64 {
        plan().failures
    }

    /// Stops watching.
    pub fn unwatch(&self) {
        *plan() = Plan::default();
    }
}

/// What a write does: pass, or fail with this SQLite result code.
fn next_write(kind: WriteKind) -> Option<c_int> {
    let mut plan = plan();
    plan.writes += 1;
    let n = plan.writes;
    let code = match plan.fail_at {
        Some((at, DiskFault::IoError)) if n == at => Some(match kind {
            WriteKind::Write => ffi::SQLITE_IOERR_WRITE,
            WriteKind::Truncate => ffi::SQLITE_IOERR_TRUNCATE,
            WriteKind::Sync => ffi::SQLITE_IOERR_FSYNC,
        }),
        Some((at, DiskFault::Full)) if n >= at && kind != WriteKind::Sync => Some(ffi::SQLITE_FULL),
        _ => None,
    };
    if code.is_some() {
        plan.failures += 1;
    }
    code
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum WriteKind {
    Write,
    Truncate,
    Sync,
}

/// A file as SQLite sees it: our methods, whether it is watched, then the platform's file.
#[repr(C)]
struct FaultFile {
    base: ffi::sqlite3_file,
    watched: bool,
}

/// Bytes before the platform's file inside a [`FaultFile`] allocation, aligned for it.
const HEADER: usize = std::mem::size_of::<FaultFile>().next_multiple_of(16);

unsafe fn real_file(file: *mut ffi::sqlite3_file) -> *mut ffi::sqlite3_file {
    unsafe { (file as *mut u8).add(HEADER) as *mut ffi::sqlite3_file }
}

unsafe fn real_vfs(vfs: *mut ffi::sqlite3_vfs) -> *mut ffi::sqlite3_vfs {
    unsafe { (*vfs).pAppData as *mut ffi::sqlite3_vfs }
}

unsafe fn register() {
    unsafe {
        assert_eq!(ffi::sqlite3_initialize(), ffi::SQLITE_OK);
        let platform = ffi::sqlite3_vfs_find(std::ptr::null());
        assert!(!platform.is_null(), "SQLite has a default VFS");
        let vfs = Box::new(ffi::sqlite3_vfs {
            iVersion: 2,
            szOsFile: (HEADER as c_int) + (*platform).szOsFile,
            mxPathname: (*platform).mxPathname,
            pNext: std::ptr::null_mut(),
            zName: c"doorstep-faulty-disk".as_ptr(),
            pAppData: platform as *mut c_void,
            xOpen: Some(open),
            xDelete: Some(delete),
            xAccess: Some(access),
            xFullPathname: Some(full_pathname),
            xDlOpen: (*platform).xDlOpen,
            xDlError: (*platform).xDlError,
            xDlSym: (*platform).xDlSym,
            xDlClose: (*platform).xDlClose,
            xRandomness: Some(randomness),
            xSleep: Some(sleep),
            xCurrentTime: Some(current_time),
            xGetLastError: Some(last_error),
            xCurrentTimeInt64: Some(current_time_int64),
            xSetSystemCall: None,
            xGetSystemCall: None,
            xNextSystemCall: None,
        });
        let rc = ffi::sqlite3_vfs_register(Box::into_raw(vfs), 1);
        assert_eq!(rc, ffi::SQLITE_OK, "register the faulty disk");
    }
}

fn is_watched(name: *const c_char) -> bool {
    if name.is_null() {
        return false;
    }
    // SAFETY: SQLite passes a NUL-terminated path.
    let name = unsafe { CStr::from_ptr(name) };
    let Ok(name) = name.to_str() else {
        return false;
    };
    plan()
        .watched
        .as_ref()
        .is_some_and(|folder| Path::new(name).starts_with(folder))
}

unsafe extern "C" fn open(
    vfs: *mut ffi::sqlite3_vfs,
    name: ffi::sqlite3_filename,
    file: *mut ffi::sqlite3_file,
    flags: c_int,
    out_flags: *mut c_int,
) -> c_int {
    unsafe {
        let platform = real_vfs(vfs);
        let real = real_file(file);
        let rc = ((*platform).xOpen.expect("xOpen"))(platform, name, real, flags, out_flags);
        let ours = file as *mut FaultFile;
        if (*real).pMethods.is_null() {
            (*ours).base.pMethods = std::ptr::null();
        } else {
            (*ours).base.pMethods = &METHODS;
            (*ours).watched = is_watched(name);
        }
        rc
    }
}

unsafe extern "C" fn delete(vfs: *mut ffi::sqlite3_vfs, name: *const c_char, sync: c_int) -> c_int {
    unsafe {
        let platform = real_vfs(vfs);
        ((*platform).xDelete.expect("xDelete"))(platform, name, sync)
    }
}

unsafe extern "C" fn access(
    vfs: *mut ffi::sqlite3_vfs,
    name: *const c_char,
    flags: c_int,
    out: *mut c_int,
) -> c_int {
    unsafe {
        let platform = real_vfs(vfs);
        ((*platform).xAccess.expect("xAccess"))(platform, name, flags, out)
    }
}

unsafe extern "C" fn full_pathname(
    vfs: *mut ffi::sqlite3_vfs,
    name: *const c_char,
    n: c_int,
    out: *mut c_char,
) -> c_int {
    unsafe {
        let platform = real_vfs(vfs);
        ((*platform).xFullPathname.expect("xFullPathname"))(platform, name, n, out)
    }
}

unsafe extern "C" fn randomness(vfs: *mut ffi::sqlite3_vfs, n: c_int, out: *mut c_char) -> c_int {
    unsafe {
        let platform = real_vfs(vfs);
        ((*platform).xRandomness.expect("xRandomness"))(platform, n, out)
    }
}

unsafe extern "C" fn sleep(vfs: *mut ffi::sqlite3_vfs, micros: c_int) -> c_int {
    unsafe {
        let platform = real_vfs(vfs);
        ((*platform).xSleep.expect("xSleep"))(platform, micros)
    }
}

unsafe extern "C" fn current_time(vfs: *mut ffi::sqlite3_vfs, out: *mut f64) -> c_int {
    unsafe {
        let platform = real_vfs(vfs);
        ((*platform).xCurrentTime.expect("xCurrentTime"))(platform, out)
    }
}

unsafe extern "C" fn last_error(vfs: *mut ffi::sqlite3_vfs, n: c_int, out: *mut c_char) -> c_int {
    unsafe {
        let platform = real_vfs(vfs);
        ((*platform).xGetLastError.expect("xGetLastError"))(platform, n, out)
    }
}

unsafe extern "C" fn current_time_int64(vfs: *mut ffi::sqlite3_vfs, out: *mut i64) -> c_int {
    unsafe {
        let platform = real_vfs(vfs);
        ((*platform).xCurrentTimeInt64.expect("xCurrentTimeInt64"))(platform, out)
    }
}

static METHODS: ffi::sqlite3_io_methods = ffi::sqlite3_io_methods {
    iVersion: 2,
    xClose: Some(close),
    xRead: Some(read),
    xWrite: Some(write),
    xTruncate: Some(truncate),
    xSync: Some(sync),
    xFileSize: Some(file_size),
    xLock: Some(lock),
    xUnlock: Some(unlock),
    xCheckReservedLock: Some(check_reserved_lock),
    xFileControl: Some(file_control),
    xSectorSize: Some(sector_size),
    xDeviceCharacteristics: Some(device_characteristics),
    xShmMap: Some(shm_map),
    xShmLock: Some(shm_lock),
    xShmBarrier: Some(shm_barrier),
    xShmUnmap: Some(shm_unmap),
    xFetch: None,
    xUnfetch: None,
};

/// Calls the platform file's method `$method` with the same arguments.
macro_rules! forward {
    ($file:expr, $method:ident $(, $arg:expr)*) => {
        unsafe {
            let real = real_file($file);
            ((*(*real).pMethods).$method.expect(stringify!($method)))(real $(, $arg)*)
        }
    };
}

fn watched(file: *mut ffi::sqlite3_file) -> bool {
    // SAFETY: SQLite only calls our methods with files our `open` filled in.
    unsafe { (*(file as *mut FaultFile)).watched }
}

/// Counts a write to a watched file; the code to fail it with, if it fails.
fn injected(file: *mut ffi::sqlite3_file, kind: WriteKind) -> Option<c_int> {
    if watched(file) {
        next_write(kind)
    } else {
        None
    }
}

unsafe extern "C" fn close(file: *mut ffi::sqlite3_file) -> c_int {
    forward!(file, xClose)
}

unsafe extern "C" fn read(
    file: *mut ffi::sqlite3_file,
    buf: *mut c_void,
    n: c_int,
    at: i64,
) -> c_int {
    forward!(file, xRead, buf, n, at)
}

unsafe extern "C" fn write(
    file: *mut ffi::sqlite3_file,
    buf: *const c_void,
    n: c_int,
    at: i64,
) -> c_int {
    if let Some(code) = injected(file, WriteKind::Write) {
        return code;
    }
    forward!(file, xWrite, buf, n, at)
}

unsafe extern "C" fn truncate(file: *mut ffi::sqlite3_file, size: i64) -> c_int {
    if let Some(code) = injected(file, WriteKind::Truncate) {
        return code;
    }
    forward!(file, xTruncate, size)
}

unsafe extern "C" fn sync(file: *mut ffi::sqlite3_file, flags: c_int) -> c_int {
    if let Some(code) = injected(file, WriteKind::Sync) {
        return code;
    }
    forward!(file, xSync, flags)
}

unsafe extern "C" fn file_size(file: *mut ffi::sqlite3_file, out: *mut i64) -> c_int {
    forward!(file, xFileSize, out)
}

unsafe extern "C" fn lock(file: *mut ffi::sqlite3_file, level: c_int) -> c_int {
    forward!(file, xLock, level)
}

unsafe extern "C" fn unlock(file: *mut ffi::sqlite3_file, level: c_int) -> c_int {
    forward!(file, xUnlock, level)
}

unsafe extern "C" fn check_reserved_lock(file: *mut ffi::sqlite3_file, out: *mut c_int) -> c_int {
    forward!(file, xCheckReservedLock, out)
}

unsafe extern "C" fn file_control(
    file: *mut ffi::sqlite3_file,
    op: c_int,
    arg: *mut c_void,
) -> c_int {
    forward!(file, xFileControl, op, arg)
}

unsafe extern "C" fn sector_size(file: *mut ffi::sqlite3_file) -> c_int {
    forward!(file, xSectorSize)
}

unsafe extern "C" fn device_characteristics(file: *mut ffi::sqlite3_file) -> c_int {
    forward!(file, xDeviceCharacteristics)
}

unsafe extern "C" fn shm_map(
    file: *mut ffi::sqlite3_file,
    region: c_int,
    size: c_int,
    extend: c_int,
    out: *mut *mut c_void,
) -> c_int {
    forward!(file, xShmMap, region, size, extend, out)
}

unsafe extern "C" fn shm_lock(
    file: *mut ffi::sqlite3_file,
    offset: c_int,
    n: c_int,
    flags: c_int,
) -> c_int {
    forward!(file, xShmLock, offset, n, flags)
}

unsafe extern "C" fn shm_barrier(file: *mut ffi::sqlite3_file) {
    forward!(file, xShmBarrier)
}

unsafe extern "C" fn shm_unmap(file: *mut ffi::sqlite3_file, delete: c_int) -> c_int {
    forward!(file, xShmUnmap, delete)
}
