//! The WASI 0.2 resources a guest holds: streams, pollables, errors,
//! directory listings and descriptors, by representation.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};

use super::sockets::Family;

use crate::wasi::Errno;

/// Where an output stream writes.
#[derive(Clone, Copy, Debug)]
pub(crate) enum WritePos {
    /// At the descriptor's own position (standard output and error).
    Current,
    /// At this offset, which moves as it writes.
    At(u64),
    /// At the file's end, each write.
    Append,
    /// A connection's socket: at its position, never blocking where WASI
    /// says a call does not (what it cannot take at once waits in the
    /// table's unsent bytes).
    Socket,
}

/// What a pollable waits for.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Wait {
    /// The monotonic clock's reaching this instant (nanoseconds).
    Until(u64),
    /// Bytes to read on the descriptor.
    Read(u32),
    /// Room to write on the descriptor.
    Write(u32),
    /// What the TCP socket of this representation waits for in its state
    /// when polled (a connection, a client to accept, or nothing): one
    /// pollable serves the socket's whole life, as WASI says.
    Tcp(u32),
}

/// One resource of the table.
#[derive(Debug)]
pub(crate) enum Entry {
    /// Reads from descriptor `fd`: at its position, or from `offset`.
    Input {
        fd: u32,
        offset: Option<u64>,
    },
    Output {
        fd: u32,
        pos: WritePos,
    },
    Pollable(Wait),
    /// A failed operation's message and its code.
    Error(String, Option<Errno>),
    /// A directory's entries (name, WASI file type) and the next one.
    Entries {
        entries: Vec<(String, u8)>,
        next: usize,
    },
    /// A descriptor of the context's table; `close`: dropping it closes
    /// it (a preopened directory's handles do not).
    Descriptor {
        fd: u32,
        close: bool,
    },
    /// A terminal (standard input, output or error's).
    Terminal,
    /// The network a guest's sockets reach (`wasi:sockets/network`).
    Network,
    /// A TCP socket: the context's descriptor `fd`.
    Tcp {
        fd: u32,
        family: Family,
        state: TcpState,
        backlog: u32,
    },
    /// A UDP socket: the context's descriptor `fd`; `remote`: the peer
    /// its streams are fixed to.
    Udp {
        fd: u32,
        family: Family,
        state: UdpState,
        remote: Option<SocketAddr>,
    },
    /// A UDP socket's datagrams in (`fd`: the socket's descriptor);
    /// `remote`: the only peer whose datagrams it gives.
    Incoming {
        fd: u32,
        remote: Option<SocketAddr>,
    },
    /// A UDP socket's datagrams out; `permit`: how many `check-send`
    /// allowed.
    Outgoing {
        fd: u32,
        family: Family,
        remote: Option<SocketAddr>,
        permit: u64,
    },
    /// A name lookup: its addresses still to give, or the resolver's
    /// answer to come; `fd`: the context's descriptor (an eventfd) that
    /// becomes readable when it came.
    Lookup {
        fd: u32,
        answer: Lookup,
    },
    /// A `wasi:http` resource.
    Http(Box<super::http::HttpEntry>),
}

/// Where a resolver thread puts its answer: the addresses, or the
/// error code of its failure.
pub(crate) type Answer =
    std::sync::Arc<std::sync::Mutex<Option<Result<Vec<IpAddr>, &'static str>>>>;

/// A name lookup's answer.
#[derive(Debug)]
pub(crate) enum Lookup {
    /// The resolver thread's, to come (it fills the slot).
    Pending(Answer),
    /// The addresses still to give.
    Addresses(VecDeque<IpAddr>),
    /// Why there are none.
    Failed(&'static str),
}

/// A TCP socket's state, as `wasi:sockets/tcp` names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TcpState {
    Unbound,
    BindStarted,
    Bound,
    ListenStarted,
    Listening,
    Connecting,
    Connected,
    /// A connection failed or ended: the socket serves no more.
    Closed,
}

/// A UDP socket's binding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum UdpState {
    Unbound,
    BindStarted,
    Bound,
}

impl Entry {
    /// The context's descriptor the entry owns: closed with it.
    pub(crate) fn owned_fd(&self) -> Option<u32> {
        match self {
            Entry::Descriptor { fd, close: true }
            | Entry::Tcp { fd, .. }
            | Entry::Udp { fd, .. }
            | Entry::Lookup { fd, .. } => Some(*fd),
            Entry::Http(h) => h.owned_fd(),
            _ => None,
        }
    }
}

/// The resources, by representation.
#[derive(Debug, Default)]
pub struct Table {
    entries: HashMap<u32, Entry>,
    next: u32,
    /// Bytes a socket's output stream took but its socket did not yet
    /// (by the stream's representation).
    pub(crate) unsent: HashMap<u32, Vec<u8>>,
    /// How the incoming HTTP body read through descriptor `fd` ended:
    /// its end read as a failure when it was cut short.
    pub(crate) http_in: HashMap<u32, std::sync::Arc<super::http::BodyOutcome>>,
    /// The bytes written so far to the outgoing HTTP body of descriptor
    /// `fd` (its unsent ones once handed on).
    pub(crate) http_out: HashMap<u32, u64>,
    /// The length an outgoing HTTP body of descriptor `fd` may have (its
    /// `content-length`), and whether it is a request's.
    pub(crate) http_limit: HashMap<u32, (u64, bool)>,
    /// The `error-code` of the HTTP body whose read failed last, until
    /// the stream error's resource takes it (`http_errors`).
    pub(crate) http_failure: Option<crate::component::Val>,
    /// The `error-code` behind an `io-error` (by its representation): what
    /// `http-error-code` gives.
    pub(crate) http_errors: HashMap<u32, crate::component::Val>,
}

impl Table {
    /// Adds a resource: its representation.
    pub(crate) fn push(&mut self, entry: Entry) -> u32 {
        loop {
            self.next = self.next.wrapping_add(1);
            if !self.entries.contains_key(&self.next) {
                self.entries.insert(self.next, entry);
                return self.next;
            }
        }
    }

    pub(crate) fn get(&self, rep: u32) -> Option<&Entry> {
        self.entries.get(&rep)
    }

    pub(crate) fn get_mut(&mut self, rep: u32) -> Option<&mut Entry> {
        self.entries.get_mut(&rep)
    }

    pub(crate) fn remove(&mut self, rep: u32) -> Option<Entry> {
        self.unsent.remove(&rep);
        self.http_errors.remove(&rep);
        let e = self.entries.remove(&rep);
        if let Some(fd) = e.as_ref().and_then(Entry::owned_fd) {
            self.http_in.remove(&fd);
            self.http_out.remove(&fd);
            self.http_limit.remove(&fd);
        }
        e
    }

    /// Puts an entry back at `rep` (one taken out by mistake).
    pub(crate) fn put(&mut self, rep: u32, entry: Entry) {
        self.entries.insert(rep, entry);
    }

    /// Whether the incoming HTTP body read through `fd` was cut short
    /// (its `error-code` kept for the stream error to come).
    pub(crate) fn body_failed(&mut self, fd: u32) -> bool {
        match self.http_in.get(&fd).and_then(|o| o.failure()) {
            Some(code) => {
                self.http_failure = Some(code);
                true
            }
            None => false,
        }
    }

    /// The output streams writing to the context's descriptor `fd`.
    pub(crate) fn outputs_of(&self, fd: u32) -> Vec<u32> {
        self.entries
            .iter()
            .filter(|(_, e)| matches!(e, Entry::Output { fd: f, .. } if *f == fd))
            .map(|(&rep, _)| rep)
            .collect()
    }

    /// Whether a pollable waits on the TCP socket `rep`'s state.
    pub(crate) fn watches(&self, rep: u32) -> bool {
        self.entries
            .values()
            .any(|e| matches!(e, Entry::Pollable(Wait::Tcp(r)) if *r == rep))
    }

    /// Whether a stream or pollable reads, writes or waits on the
    /// context's descriptor `fd`.
    pub(crate) fn uses_fd(&self, fd: u32) -> bool {
        self.entries.values().any(|e| {
            matches!(e,
                Entry::Input { fd: f, .. } | Entry::Output { fd: f, .. }
                | Entry::Pollable(Wait::Read(f) | Wait::Write(f))
                | Entry::Incoming { fd: f, .. } | Entry::Outgoing { fd: f, .. } if *f == fd)
        })
    }
}
