//! Eventfds that a host thread or task raises once something a guest
//! polls for is ready (a name lookup's answer, an HTTP response).

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// An eventfd, and a second descriptor of it for whoever raises it.
pub(crate) fn event_pair() -> std::io::Result<(OwnedFd, OwnedFd)> {
    // SAFETY: eventfd makes a new descriptor, checked and owned here.
    let raw = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
    if raw < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: fresh, owned by no one else.
    let event = unsafe { OwnedFd::from_raw_fd(raw) };
    let signal = event.try_clone()?;
    Ok((event, signal))
}

/// Makes the eventfd `event` readable (its pollable ready) for good.
pub(crate) fn raise(event: &OwnedFd) {
    let one = 1u64.to_ne_bytes();
    // SAFETY: an 8-byte write from a local buffer to an eventfd we hold.
    unsafe { libc::write(event.as_raw_fd(), one.as_ptr().cast(), one.len()) };
}
