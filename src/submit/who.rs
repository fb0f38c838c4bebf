//! Who submits a job, as slurmctld knows them: the job's owner
//! (`job_desc->user_id`), their name and groups from the user database
//! (NSS: getpwuid_r, getgrouplist, getgrgid_r), and the account the job is
//! charged to (`-A`, else the user's default account in slurmctld's
//! association manager).
//!
//! # Never stalling slurmctld
//!
//! A user database (LDAP through sssd, NIS...) can be slow or hang, and
//! job_submit runs inside slurmctld's RPC threads with its job locks held.
//! So lookups never run on slurmctld's thread: they run on short-lived
//! helper threads (at most [`MAX_LOOKUPS`] at once), and their answers are
//! cached per uid:
//!
//! - an answer is used as is for [`FRESH_FOR`] (60 s);
//! - after that it is still used (stale) while a helper thread looks the
//!   user up again, and the next submission gets the new answer;
//! - an answer is dropped [`KEPT_FOR`] (10 min) after it was fetched, so a
//!   directory that stops answering for longer does not keep old groups
//!   forever; at most [`MAX_USERS`] users are kept (the oldest answer goes
//!   first);
//! - a submission with no usable answer waits at most [`LOOKUP_WAIT`]
//!   (100 ms) for the helper thread. If it does not answer in time the
//!   submission goes on with what is known: the name (if an earlier answer
//!   had it) and `groups_known = false`, which the engine turns into a
//!   refusal of rules that depend on groups (and no exemption by group).
//!
//! How stale a group change may be: a user added to or removed from a
//! group is seen by submissions at most [`FRESH_FOR`] (60 s) after
//! hetpolicy last looked the user up, plus the user database's own cache
//! (nscd, sssd's `entry_cache_timeout`); while the directory does not
//! answer, up to [`KEPT_FOR`] (10 min).
//!
//! Helper threads run code of this shared object, so the first one pins it
//! in memory (`dlopen(RTLD_NOLOAD | RTLD_NODELETE)`): slurmctld's
//! `dlclose` at shutdown or reconfiguration never unmaps code a thread
//! stuck in a lookup would return to.
//!
//! # Cost of a cached answer
//!
//! Each answer is kept as shared [`Submitter`] values built once, on the
//! helper thread, when the lookup ends; a submission served from the cache
//! gets a reference-counted handle to one of them, so it allocates nothing.

use std::collections::BTreeMap;
use std::ffi::{c_char, c_int, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use hetpolicy_core::engine::Submitter;

/// The longest a submission waits for the user database.
pub(crate) const LOOKUP_WAIT: Duration = Duration::from_millis(100);
/// How long an answer is used before it is looked up again.
pub(crate) const FRESH_FOR: Duration = Duration::from_secs(60);
/// How long after it was fetched an answer may still be used (stale, while
/// a new lookup runs).
pub(crate) const KEPT_FOR: Duration = Duration::from_secs(600);
/// Users whose answers are kept.
pub(crate) const MAX_USERS: usize = 4096;
/// Helper threads looking users up at once; a user database that hangs
/// holds at most this many threads.
pub(crate) const MAX_LOOKUPS: usize = 4;

/// The largest buffer a single passwd or group entry may need (a group
/// with very many members is large).
const MAX_ENTRY_BUFFER: usize = 16 << 20;
/// The most groups one user may be in that are read.
const MAX_GROUPS: usize = 65536;

/// One user's answer from the user database, as the two views a
/// submission may get (shared, so that serving one allocates nothing).
#[derive(Clone, Debug)]
struct Answer {
    /// The name, and the groups when they were asked for: what a
    /// submission that asks for the groups gets (`groups_known` is true
    /// only when they were looked up and every lookup succeeded).
    full: Arc<Submitter>,
    /// The name only (no groups, `groups_known` false): what a submission
    /// that does not ask for the groups gets, and what is known of the
    /// user while no answer is usable. Kept apart from `full` so a
    /// submission gets exactly the same [`Submitter`] whether or not an
    /// earlier one asked for the groups. (Were it given `full`, the
    /// verdict would still be the same: a submission does not ask for the
    /// groups only when no rule of its policy lists groups
    /// (`Policy::needs_groups`), and the engine reads `groups` and
    /// `groups_known` only against a rule's group list. Keeping the
    /// views apart makes that hold by construction, not by that
    /// reasoning.) It is the same allocation as `full` when the answer
    /// has no groups.
    name_only: Arc<Submitter>,
    /// Groups were asked for.
    with_groups: bool,
}

struct Entry {
    answer: Answer,
    fetched: Instant,
}

#[derive(Default)]
struct Cache {
    entries: BTreeMap<u32, Entry>,
    /// Lookups running, by uid: whether they are to read the groups too.
    pending: BTreeMap<u32, bool>,
}

struct Shared {
    cache: Mutex<Cache>,
    /// Notified when a lookup ends.
    done: Condvar,
}

fn shared() -> &'static Shared {
    static SHARED: OnceLock<Shared> = OnceLock::new();
    SHARED.get_or_init(|| Shared {
        cache: Mutex::new(Cache::default()),
        done: Condvar::new(),
    })
}

fn lock(shared: &Shared) -> MutexGuard<'_, Cache> {
    shared.cache.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Answer {
    /// Builds both views of a lookup's answer (on the helper thread).
    fn new(
        uid: u32,
        user: Option<String>,
        groups: Vec<String>,
        groups_known: bool,
        with_groups: bool,
    ) -> Self {
        let has_groups = groups_known || !groups.is_empty();
        let full = Arc::new(Submitter {
            uid,
            user,
            groups,
            groups_known,
        });
        let name_only = if has_groups {
            Arc::new(Submitter {
                uid,
                user: full.user.clone(),
                groups: Vec::new(),
                groups_known: false,
            })
        } else {
            Arc::clone(&full)
        };
        Answer {
            full,
            name_only,
            with_groups,
        }
    }

    fn serves(&self, with_groups: bool) -> bool {
        self.with_groups || !with_groups
    }

    /// The view for a submission that asks for the groups or not: a
    /// reference count, no allocation.
    fn submitter(&self, with_groups: bool) -> Arc<Submitter> {
        Arc::clone(if with_groups {
            &self.full
        } else {
            &self.name_only
        })
    }
}

/// Who `uid` is: their name always, their groups when `with_groups` (the
/// policy names groups). Never waits more than [`LOOKUP_WAIT`]. Served
/// from the cache (the usual case), it allocates nothing.
pub(crate) fn submitter(uid: u32, with_groups: bool) -> Arc<Submitter> {
    let shared = shared();
    let asked = Instant::now();
    let mut cache = lock(shared);
    if let Some(entry) = cache.entries.get(&uid) {
        let age = asked.saturating_duration_since(entry.fetched);
        if age < KEPT_FOR && entry.answer.serves(with_groups) {
            let answer = entry.answer.submitter(with_groups);
            let refresh_groups = with_groups || entry.answer.with_groups;
            if age >= FRESH_FOR {
                // Stale: served now, refreshed for the next submission.
                start(&mut cache, uid, refresh_groups);
            }
            return answer;
        }
    }
    if !start(&mut cache, uid, with_groups) {
        log::info!(
            "uid {uid}: {MAX_LOOKUPS} user database lookups are already running; going on \
             without this user's groups"
        );
        return unanswered(&cache, uid);
    }
    let deadline = asked + LOOKUP_WAIT;
    loop {
        if let Some(entry) = cache.entries.get(&uid) {
            if entry.fetched >= asked && entry.answer.serves(with_groups) {
                return entry.answer.submitter(with_groups);
            }
        }
        if !cache.pending.contains_key(&uid) {
            // The lookup ended without an answer (a panic, caught).
            return unanswered(&cache, uid);
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            log::info!(
                "uid {uid}: the user database did not answer within {} ms; going on without \
                 this user's groups (rules about groups refuse the job)",
                LOOKUP_WAIT.as_millis()
            );
            return unanswered(&cache, uid);
        }
        cache = shared
            .done
            .wait_timeout(cache, left)
            .unwrap_or_else(PoisonError::into_inner)
            .0;
    }
}

/// What is known of `uid` without an answer: the name of an older answer
/// (names do not change under a uid in practice), never its groups.
fn unanswered(cache: &Cache, uid: u32) -> Arc<Submitter> {
    match cache.entries.get(&uid) {
        Some(entry) => Arc::clone(&entry.answer.name_only),
        None => Arc::new(Submitter {
            uid,
            user: None,
            groups: Vec::new(),
            groups_known: false,
        }),
    }
}

/// Makes sure a lookup of `uid` runs (reading the groups too when
/// `with_groups`). False when none runs and none could be started.
fn start(cache: &mut Cache, uid: u32, with_groups: bool) -> bool {
    if let Some(wanted) = cache.pending.get_mut(&uid) {
        // The running lookup reads the groups too before it ends.
        *wanted |= with_groups;
        return true;
    }
    if cache.pending.len() >= MAX_LOOKUPS || !pin_in_memory() {
        return false;
    }
    cache.pending.insert(uid, with_groups);
    let spawned = std::thread::Builder::new()
        .name("hetpolicy-nss".to_owned())
        .spawn(move || look_up_in_background(uid));
    if let Err(error) = spawned {
        log::error!("cannot start a thread to look uid {uid} up: {error}");
        cache.pending.remove(&uid);
        return false;
    }
    true
}

/// A helper thread's work: looks `uid` up (again with the groups, if a
/// submission asked for them meanwhile), stores the answer, wakes the
/// waiting submissions.
fn look_up_in_background(uid: u32) {
    let shared = shared();
    let mut with_groups = lock(shared).pending.get(&uid).copied().unwrap_or(false);
    loop {
        let answer = catch_unwind(AssertUnwindSafe(|| look_up(uid, with_groups))).ok();
        let mut cache = lock(shared);
        // Checked under the same lock as the answer is stored: a submission
        // that asks for the groups meanwhile is never left without them.
        let wanted = cache.pending.get(&uid).copied().unwrap_or(false);
        if answer.is_some() && wanted && !with_groups {
            with_groups = true;
            continue;
        }
        cache.pending.remove(&uid);
        if let Some(answer) = answer {
            store(&mut cache, uid, answer);
        }
        drop(cache);
        shared.done.notify_all();
        return;
    }
}

/// Keeps `answer`, making room if [`MAX_USERS`] are kept: answers older
/// than [`KEPT_FOR`] go first, then the oldest one.
fn store(cache: &mut Cache, uid: u32, answer: Answer) {
    let fetched = Instant::now();
    if !cache.entries.contains_key(&uid) && cache.entries.len() >= MAX_USERS {
        cache
            .entries
            .retain(|_, e| fetched.saturating_duration_since(e.fetched) < KEPT_FOR);
        if cache.entries.len() >= MAX_USERS {
            let oldest = cache
                .entries
                .iter()
                .min_by_key(|(_, e)| e.fetched)
                .map(|(uid, _)| *uid);
            if let Some(oldest) = oldest {
                cache.entries.remove(&oldest);
            }
        }
    }
    cache.entries.insert(uid, Entry { answer, fetched });
}

/// Keeps this shared object loaded for the life of the process (once);
/// false if that failed, and then no helper thread is started.
pub(crate) fn pin_in_memory() -> bool {
    static PINNED: OnceLock<bool> = OnceLock::new();
    // A test binary is a program, never unloaded (and not found by
    // dlopen's RTLD_NOLOAD under its path).
    if cfg!(test) {
        return true;
    }
    *PINNED.get_or_init(|| {
        // SAFETY: dladdr reads the loader's tables for an address of this
        // object; dli_fname is a NUL-terminated path owned by the loader.
        // dlopen with RTLD_NOLOAD only sets RTLD_NODELETE on the object
        // that is already loaded (the handle is kept on purpose).
        unsafe {
            let mut info: libc::Dl_info = std::mem::zeroed();
            let here = pin_in_memory as *const ();
            if libc::dladdr(here.cast(), &mut info) == 0 || info.dli_fname.is_null() {
                log::error!("cannot find this plugin's file to keep it loaded");
                return false;
            }
            let handle = libc::dlopen(
                info.dli_fname,
                libc::RTLD_LAZY | libc::RTLD_NOLOAD | libc::RTLD_NODELETE,
            );
            if handle.is_null() {
                log::error!("cannot keep this plugin loaded for its lookup threads");
                return false;
            }
            true
        }
    })
}

/// Reads `uid` from the user database (runs on a helper thread).
fn look_up(uid: u32, with_groups: bool) -> Answer {
    let Some((name, gid)) = passwd(uid) else {
        // Unknown or unreadable: no name, and groups that cannot be judged.
        return Answer::new(uid, None, Vec::new(), false, with_groups);
    };
    let user = Some(String::from_utf8_lossy(name.as_bytes()).into_owned());
    let groups = with_groups.then(|| groups(&name, gid)).flatten();
    match groups {
        Some(groups) => Answer::new(uid, user, groups, true, with_groups),
        None => Answer::new(uid, user, Vec::new(), false, with_groups),
    }
}

/// Calls a `get*_r` function with a buffer that grows while it says ERANGE.
fn with_buffer<T>(mut call: impl FnMut(&mut [c_char]) -> Result<Option<T>, c_int>) -> Option<T> {
    let mut size = 4096;
    loop {
        let mut buffer = vec![0 as c_char; size];
        match call(&mut buffer) {
            Ok(found) => return found,
            Err(libc::ERANGE) if size < MAX_ENTRY_BUFFER => size *= 4,
            Err(_) => return None,
        }
    }
}

/// The user's name and primary group.
fn passwd(uid: u32) -> Option<(CString, libc::gid_t)> {
    with_buffer(|buffer| {
        // SAFETY: getpwuid_r writes into `entry` and `buffer` (of the length
        // given) and sets `found` to NULL or &entry; the name read after it
        // points into `buffer`, which lives until the copy is made.
        unsafe {
            let mut entry: libc::passwd = std::mem::zeroed();
            let mut found: *mut libc::passwd = std::ptr::null_mut();
            let rc = libc::getpwuid_r(
                uid,
                &mut entry,
                buffer.as_mut_ptr(),
                buffer.len(),
                &mut found,
            );
            if rc != 0 {
                return Err(rc);
            }
            if found.is_null() || entry.pw_name.is_null() {
                return Ok(None);
            }
            Ok(Some((
                CStr::from_ptr(entry.pw_name).to_owned(),
                entry.pw_gid,
            )))
        }
    })
}

/// The names of the user's groups, primary first; None when a lookup
/// failed (a gid the database does not know is left out).
fn groups(name: &CStr, primary: libc::gid_t) -> Option<Vec<String>> {
    let mut gids: Vec<libc::gid_t> = vec![0; 64];
    loop {
        let mut count = c_int::try_from(gids.len()).unwrap_or(c_int::MAX);
        // SAFETY: getgrouplist writes at most `count` gids into `gids` and
        // sets `count` to the number the user has.
        let rc =
            unsafe { libc::getgrouplist(name.as_ptr(), primary, gids.as_mut_ptr(), &mut count) };
        let count = usize::try_from(count).unwrap_or(0);
        if rc >= 0 {
            gids.truncate(count.min(gids.len()));
            break;
        }
        if count <= gids.len() || count > MAX_GROUPS {
            return None;
        }
        gids.resize(count, 0);
    }
    if let Some(at) = gids.iter().position(|g| *g == primary) {
        gids.remove(at);
    }
    gids.insert(0, primary);
    let mut names: Vec<String> = Vec::with_capacity(gids.len());
    for gid in gids {
        match group_name(gid) {
            Lookup::Found(name) => {
                if !names.contains(&name) {
                    names.push(name);
                }
            }
            Lookup::Unknown => {}
            Lookup::Failed => return None,
        }
    }
    Some(names)
}

enum Lookup {
    Found(String),
    Unknown,
    Failed,
}

fn group_name(gid: libc::gid_t) -> Lookup {
    let mut failed = false;
    let found = with_buffer(|buffer| {
        // SAFETY: as in `passwd`, for getgrgid_r.
        let result = unsafe {
            let mut entry: libc::group = std::mem::zeroed();
            let mut found: *mut libc::group = std::ptr::null_mut();
            let rc = libc::getgrgid_r(
                gid,
                &mut entry,
                buffer.as_mut_ptr(),
                buffer.len(),
                &mut found,
            );
            if rc != 0 {
                Err(rc)
            } else if found.is_null() || entry.gr_name.is_null() {
                Ok(None)
            } else {
                Ok(Some(
                    CStr::from_ptr(entry.gr_name).to_string_lossy().into_owned(),
                ))
            }
        };
        if matches!(result, Err(rc) if rc != libc::ERANGE) {
            failed = true;
        }
        result
    });
    match (found, failed) {
        (Some(name), _) => Lookup::Found(name),
        (None, false) => Lookup::Unknown,
        (None, true) => Lookup::Failed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_is_found_with_its_groups() {
        let root = submitter(0, true);
        assert_eq!(root.user.as_deref(), Some("root"));
        assert!(root.groups_known, "{root:?}");
        assert_eq!(root.groups.first().map(String::as_str), Some("root"));
    }

    #[test]
    fn without_groups_asked_none_are_known() {
        let root = submitter(0, false);
        assert_eq!(root.user.as_deref(), Some("root"));
        assert!(!root.groups_known && root.groups.is_empty(), "{root:?}");
    }

    #[test]
    fn an_unknown_uid_has_no_name_and_unknown_groups() {
        let nobody = submitter(3_999_999_999, true);
        assert_eq!(nobody.user, None);
        assert!(!nobody.groups_known);
    }

    #[test]
    fn a_call_without_groups_gets_none_after_one_with_them() {
        // uid 1 (daemon on Debian; unknown elsewhere is fine too).
        let full = submitter(1, true);
        let name_only = submitter(1, false);
        assert_eq!(name_only.user, full.user);
        assert!(
            !name_only.groups_known && name_only.groups.is_empty(),
            "{name_only:?}"
        );
        assert_eq!(submitter(1, true), full);
    }

    #[test]
    fn the_views_of_an_answer_are_the_submitters_asked_for() {
        let groups = vec!["staff".to_owned(), "hpcadmin".to_owned()];
        let answer = Answer::new(7, Some("ann".to_owned()), groups.clone(), true, true);
        let full = answer.submitter(true);
        assert_eq!(
            *full,
            Submitter {
                uid: 7,
                user: Some("ann".to_owned()),
                groups,
                groups_known: true,
            }
        );
        let name_only = answer.submitter(false);
        assert_eq!(
            *name_only,
            Submitter {
                uid: 7,
                user: Some("ann".to_owned()),
                groups: Vec::new(),
                groups_known: false,
            }
        );
        // Groups asked for but not known: both views are one.
        let failed = Answer::new(7, Some("ann".to_owned()), Vec::new(), false, true);
        assert!(Arc::ptr_eq(&failed.full, &failed.name_only));
        assert!(!failed.submitter(true).groups_known);
        // A user in no group at all, known: groups_known, none listed.
        let none = Answer::new(7, Some("ann".to_owned()), Vec::new(), true, true);
        assert!(none.submitter(true).groups_known);
        assert!(!none.submitter(false).groups_known);
    }

    #[test]
    fn a_cached_answer_is_served_without_allocating() {
        // The counter counts: a first lookup starts a thread.
        let (_, cold) = counting::allocations(|| submitter(2, true));
        assert!(cold > 0);
        for with_groups in [true, false] {
            let first = submitter(0, with_groups);
            let (again, allocations) = counting::allocations(|| submitter(0, with_groups));
            assert!(Arc::ptr_eq(&first, &again), "{first:?} {again:?}");
            assert_eq!(allocations, 0, "with_groups {with_groups}");
        }
    }

    #[test]
    fn the_wait_is_bounded() {
        assert!(LOOKUP_WAIT <= Duration::from_millis(100));
        assert!(FRESH_FOR < KEPT_FOR);
    }

    /// Counts this thread's heap allocations (tests run on threads of
    /// their own, so others' do not count).
    mod counting {
        use std::alloc::{GlobalAlloc, Layout, System};
        use std::cell::Cell;

        struct Counting;

        thread_local! {
            static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
        }

        // SAFETY: forwards to the system allocator unchanged.
        unsafe impl GlobalAlloc for Counting {
            unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
                let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
                // SAFETY: the caller's contract, passed on.
                unsafe { System.alloc(layout) }
            }

            unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
                // SAFETY: the caller's contract, passed on.
                unsafe { System.dealloc(ptr, layout) }
            }

            unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, size: usize) -> *mut u8 {
                let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
                // SAFETY: the caller's contract, passed on.
                unsafe { System.realloc(ptr, layout, size) }
            }
        }

        #[global_allocator]
        static COUNTING: Counting = Counting;

        /// What `f` returns, and how many allocations it made.
        pub(super) fn allocations<T>(f: impl FnOnce() -> T) -> (T, u64) {
            let before = ALLOCATIONS.with(Cell::get);
            let value = f();
            (value, ALLOCATIONS.with(Cell::get) - before)
        }
    }
}
