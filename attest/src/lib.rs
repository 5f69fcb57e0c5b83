//! `walmart-attest`: what attestation means, independent of the VM.
//!
//! The runtime weaves hooks into generated code by [`Policy`], turns each
//! armed hook into a batch of page snapshots ([`PageSnapshot`]) and hands
//! the batch to a [`Verifier`] on its own thread. Verdicts and host-tamper
//! findings become [`Event`]s, written as JSON lines and counted in
//! [`AttestStats`]. This crate sees only bytes and page indices: it never
//! touches the VM.

pub mod dataset;
mod digest;
mod event;
mod input_runs;
pub mod metrics;
pub mod model;
mod policy;
mod snapshot;
mod stats;
pub mod tags;
pub mod train;
mod verifier;

pub use digest::{block_digest, page_digest, unguessable, DigestVerifier};
pub use event::{Event, EventKind, EventLog};
pub use input_runs::{zero_spans, InputRuns, RunsSeen, INPUT_RUN_MIN, RUN_LOOK_MAX};
pub use policy::{Backpressure, OnDetect, Policy};
pub use snapshot::{
    shipped_digests, shipped_mask, zero_blocks, HookKind, HookSite, PageKind, PageSnapshot,
    PAGE_SIZE, SHIPPED_BLOCK,
};
pub use stats::AttestStats;
pub use tags::{TagAccess, TagAllocation, TagColours, TagMode, TagReport, ViolationKind};
pub use verifier::{Verdict, Verifier};
/// The seeded generator everything random in training and collection uses.
pub use walmart_kernels::rng;
