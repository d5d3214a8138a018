//! Locks that outlive a panic.

use std::sync::{Mutex, MutexGuard, PoisonError};

/// A poisoned lock only means a thread panicked mid-request; the data is still usable and a
/// test simulator should keep answering.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
