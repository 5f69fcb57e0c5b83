//! `sock_*`: the socket calls of WASI preview 1 on sockets the embedder
//! preopens (`WasiCtx::preopen_socket`, `walmart run --tcplisten`): accept
//! connections on a listening socket, receive from and send to a
//! connected one, shut it down. A guest cannot open sockets of its own or
//! name addresses: what it reaches is what it was given.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use super::ctx::WasiCtx;
use super::fd::check;
use super::perms::Perms;
use super::types::{fdflags, filetype, Errno, GuestMemory, WasiResult};

/// `riflags` of `sock_recv`.
const RECV_PEEK: u16 = 1;
const RECV_WAITALL: u16 = 2;
/// `roflags` of `sock_recv`: a datagram was cut short.
const RECV_DATA_TRUNCATED: u16 = 1;
/// `sdflags` of `sock_shutdown`.
const SHUT_RD: u8 = 1;
const SHUT_WR: u8 = 2;

/// An integer option of host socket `fd` (`SOL_SOCKET`'s `name`); `None`
/// for a descriptor that is not a socket.
fn int_option(fd: RawFd, name: libc::c_int) -> Option<libc::c_int> {
    let mut value: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: getsockopt writes at most `len` bytes into `value`.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            name,
            (&mut value as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    (rc == 0).then_some(value)
}

/// The WASI file type of a host socket: stream or datagram, by its
/// `SO_TYPE`; `None` for a descriptor that is not a socket.
pub(crate) fn socket_filetype(fd: RawFd) -> Option<u8> {
    match int_option(fd, libc::SO_TYPE)? {
        libc::SOCK_DGRAM => Some(filetype::SOCKET_DGRAM),
        _ => Some(filetype::SOCKET_STREAM),
    }
}

/// Whether host socket `fd` listens for connections (`SO_ACCEPTCONN`).
pub(super) fn listens(fd: RawFd) -> bool {
    int_option(fd, libc::SO_ACCEPTCONN).is_some_and(|on| on != 0)
}

/// The most buffers one receive or send takes (the kernel's `UIO_MAXIOV`):
/// more are left for the next call, as a short count says.
const MAX_IOVECS: u32 = 1024;

/// A guest's buffers (pointer and length) and the same as host `iovec`s.
type Buffers = (Vec<(u32, u32)>, Vec<libc::iovec>);

/// The guest's buffers as host `iovec`s, each checked to lie in memory
/// (and marked written, when `writable`); at most [`MAX_IOVECS`].
fn host_iovecs(
    mem: &mut GuestMemory<'_>,
    iovs: u32,
    count: u32,
    writable: bool,
) -> WasiResult<Buffers> {
    let guest = mem.iovecs(iovs, count.min(MAX_IOVECS))?;
    let host = guest
        .iter()
        .map(|&(ptr, len)| {
            let base = if writable {
                mem.raw_mut(ptr, len)?
            } else {
                mem.raw(ptr, len)?.cast_mut()
            };
            Ok(libc::iovec {
                iov_base: base.cast(),
                iov_len: len as usize,
            })
        })
        .collect::<WasiResult<_>>()?;
    Ok((guest, host))
}

/// A flags argument that must fit in `bits` bits: WASI passes them in an
/// `i32`, and a value with bits beyond is invalid, not truncated.
fn flags(raw: u32, bits: u32) -> WasiResult<u32> {
    if raw >> bits != 0 {
        return Err(Errno::INVAL);
    }
    Ok(raw)
}

impl WasiCtx {
    /// The host descriptor of socket `fd` and its input stream
    /// (`FdEntry::stream`); `NOTSOCK` for another kind.
    fn socket(&mut self, fd: u32) -> WasiResult<(RawFd, u64)> {
        let e = self.get(fd)?;
        match e.filetype() {
            filetype::SOCKET_STREAM | filetype::SOCKET_DGRAM => Ok((e.fd, e.stream)),
            _ => Err(Errno::NOTSOCK),
        }
    }

    /// `sock_accept`: a new descriptor for the next connection on
    /// listening socket `fd`, non-blocking when `flags` asks.
    pub(crate) fn sock_accept(
        &mut self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        flags_arg: u32,
        out: u32,
    ) -> WasiResult<()> {
        let flags = flags(flags_arg, 16)? as u16;
        if flags & !fdflags::NONBLOCK != 0 {
            return Err(Errno::INVAL);
        }
        // Where the descriptor goes is checked first: a connection taken
        // is a client served, not one dropped for a bad pointer.
        mem.write_u32(out, 0)?;
        // The connection is taken without holding a shared context: a
        // thread waiting for one holds up no other thread's calls.
        let conn = self.unlocked_io(
            |c| Ok((c.socket(fd)?.0, ())),
            |host, ()| {
                let mut how = libc::SOCK_CLOEXEC;
                if flags & fdflags::NONBLOCK != 0 {
                    how |= libc::SOCK_NONBLOCK;
                }
                // SAFETY: accept4 with no address to fill; the result is
                // checked and owned below.
                let conn = check(unsafe {
                    libc::accept4(host, std::ptr::null_mut(), std::ptr::null_mut(), how)
                })?;
                // SAFETY: a fresh descriptor no one else owns.
                Ok(unsafe { OwnedFd::from_raw_fd(conn) })
            },
        )?;
        let slot = self.with_state(|c| {
            let raw = std::os::fd::IntoRawFd::into_raw_fd(conn);
            c.insert(raw, filetype::SOCKET_STREAM, flags, Perms::ALL)
        })?;
        mem.write_u32(out, slot)
    }

    /// `sock_recv`: reads from socket `fd` into the guest's buffers;
    /// writes the byte count to `out_len` and `roflags` to `out_flags`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn sock_recv(
        &mut self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        iovs: u32,
        count: u32,
        riflags_arg: u32,
        out_len: u32,
        out_flags: u32,
    ) -> WasiResult<()> {
        let riflags = flags(riflags_arg, 16)? as u16;
        if riflags & !(RECV_PEEK | RECV_WAITALL) != 0 {
            return Err(Errno::INVAL);
        }
        // The results' places first: bytes taken from the socket are not
        // to be lost to a bad pointer.
        mem.write_u32(out_len, 0)?;
        mem.write(out_flags, &0u16.to_le_bytes())?;
        let (n, truncated, guest, stream) = self.unlocked_io(
            |c| c.socket(fd),
            |host, stream| {
                // Marked written only once the descriptor is known good.
                let (guest, mut host_iovs) = host_iovecs(mem, iovs, count, true)?;
                // SAFETY: a zeroed msghdr is an empty message.
                let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
                msg.msg_iov = host_iovs.as_mut_ptr();
                msg.msg_iovlen = host_iovs.len();
                let mut how = libc::MSG_CMSG_CLOEXEC;
                if riflags & RECV_PEEK != 0 {
                    how |= libc::MSG_PEEK;
                }
                if riflags & RECV_WAITALL != 0 {
                    how |= libc::MSG_WAITALL;
                }
                // SAFETY: the iovecs point at guest memory checked to hold
                // them; no control buffer.
                let n = unsafe { libc::recvmsg(host, &mut msg, how) };
                if n < 0 {
                    return Err(Errno::last());
                }
                let truncated = msg.msg_flags & libc::MSG_TRUNC != 0;
                Ok((n as usize, truncated, guest, stream))
            },
        )?;
        // What arrived is input, as a read's is (attestation's input
        // runs), in the socket's stream: a receive goes on from the last.
        // A peek's bytes come again: they are not the stream's yet.
        let stream = (riflags & RECV_PEEK == 0).then_some(stream);
        let mut left = n;
        for (ptr, len) in guest {
            if left == 0 {
                break;
            }
            let got = left.min(len as usize);
            if got > 0 {
                mem.supplied(ptr, got, stream);
                left -= got;
            }
        }
        mem.write_u32(out_len, n as u32)?;
        let flags = if truncated { RECV_DATA_TRUNCATED } else { 0 };
        mem.write(out_flags, &flags.to_le_bytes())
    }

    /// `sock_send`: writes the guest's buffers to socket `fd`; the byte
    /// count to `out`.
    pub(crate) fn sock_send(
        &mut self,
        mem: &mut GuestMemory<'_>,
        fd: u32,
        iovs: u32,
        count: u32,
        siflags: u32,
        out: u32,
    ) -> WasiResult<()> {
        // WASI defines no `siflags`.
        if siflags != 0 {
            return Err(Errno::INVAL);
        }
        mem.write_u32(out, 0)?;
        // An asynchronous call waited for room: what fits, without waiting
        // for more (`WasiCtx::bounded_io`).
        let flags = libc::MSG_NOSIGNAL
            | if self.bounded_io {
                libc::MSG_DONTWAIT
            } else {
                0
            };
        let n = self.unlocked_io(
            |c| Ok((c.socket(fd)?.0, ())),
            |host, ()| {
                let (_, mut host_iovs) = host_iovecs(mem, iovs, count, false)?;
                // SAFETY: a zeroed msghdr is an empty message.
                let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
                msg.msg_iov = host_iovs.as_mut_ptr();
                msg.msg_iovlen = host_iovs.len();
                // A peer that went away is an error to the guest
                // (`PIPE`), never a SIGPIPE to the host process.
                // SAFETY: the iovecs point at guest memory checked to hold
                // them.
                let n = unsafe { libc::sendmsg(host, &msg, flags) };
                if n < 0 {
                    return Err(Errno::last());
                }
                Ok(n as usize)
            },
        )?;
        mem.write_u32(out, n as u32)
    }

    /// `sock_shutdown`: shuts socket `fd` down for reading, writing or
    /// both (`sdflags`).
    pub(crate) fn sock_shutdown(&mut self, fd: u32, how: u32) -> WasiResult<()> {
        let (host, _) = self.socket(fd)?;
        let how = match flags(how, 8)? as u8 {
            SHUT_RD => libc::SHUT_RD,
            SHUT_WR => libc::SHUT_WR,
            h if h == SHUT_RD | SHUT_WR => libc::SHUT_RDWR,
            _ => return Err(Errno::INVAL),
        };
        // SAFETY: plain syscall on a descriptor we hold.
        check(unsafe { libc::shutdown(host, how) })?;
        Ok(())
    }

    /// Puts a non-blocking socket the guest made (`wasi:sockets`) in the
    /// table: its number there.
    pub(crate) fn insert_socket(&mut self, socket: OwnedFd) -> WasiResult<u32> {
        let kind = socket_filetype(socket.as_raw_fd()).unwrap_or(filetype::SOCKET_STREAM);
        self.insert_owned(socket, kind)
    }

    /// Puts a non-blocking host descriptor of the runtime's own (an
    /// eventfd a WASI 0.2 pollable waits on) in the table: its number.
    pub(crate) fn insert_owned(&mut self, fd: OwnedFd, kind: u8) -> WasiResult<u32> {
        let raw = std::os::fd::IntoRawFd::into_raw_fd(fd);
        self.insert(raw, kind, fdflags::NONBLOCK, Perms::ALL)
    }

    /// Gives the guest a socket the host opened (a listening socket,
    /// usually: `std::net::TcpListener`), at the lowest free descriptor,
    /// blocking or not as the host left it (`fd_fdstat_get` tells).
    /// The guest accepts connections on it (`sock_accept`, `accept` in
    /// wasi-libc) and uses them; it cannot open sockets of its own.
    pub fn preopen_socket(
        &mut self,
        socket: impl Into<OwnedFd>,
    ) -> crate::error::Result<&mut Self> {
        let socket: OwnedFd = socket.into();
        let kind = socket_filetype(socket.as_raw_fd()).ok_or_else(|| {
            crate::error::Error::Usage("preopen_socket: the descriptor is not a socket".into())
        })?;
        // Its blocking mode is the host's choice; the guest sees it.
        // SAFETY: F_GETFL on a descriptor we own.
        let status = unsafe { libc::fcntl(socket.as_raw_fd(), libc::F_GETFL) };
        let flags = if status >= 0 && status & libc::O_NONBLOCK != 0 {
            fdflags::NONBLOCK
        } else {
            0
        };
        let raw = std::os::fd::IntoRawFd::into_raw_fd(socket);
        self.with_state(|c| c.insert(raw, kind, flags, Perms::ALL))
            .map_err(|_| crate::error::Error::Usage("too many preopened descriptors".into()))?;
        Ok(self)
    }
}
