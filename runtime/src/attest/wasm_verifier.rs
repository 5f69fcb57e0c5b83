//! The `wasm` verifier back end: the CNN compiled to WebAssembly
//! ([`crate::attest::model::Model::classifier_wat`]) and run by walmart's
//! own JIT in a store of its own, on a thread of its own. The classifier
//! then reaches nothing but its memory: a bug in it, or a model file made
//! to exploit one, stays inside the sandbox.
//!
//! [`WasmScorer`] is the back end; [`wasm_cnn_verifier`] puts it under the
//! same [`CnnVerifier`] as the CPU back end (dirty pages only, remembered
//! scores, threshold). A store cannot move between threads, so each
//! sandbox lives on one thread from creation to drop; the scorer hands it
//! pages over a channel and waits for the logits. The threads are
//! walmart's parked attestation threads, and each keeps the sandboxes of
//! its last lanes for the next scorer of the same classifier. There is one sandbox
//! per core the final flush may use (up to four), so the verdict at exit
//! is split across them as the CPU back end splits it.

use std::sync::mpsc::{self, Receiver, Sender};

use walmart_attest::model::verifier::{
    check_page_model, scoring_shares, scoring_threads, CnnVerifier, PageScorer,
};
use walmart_attest::model::wasm::{pack_nonzero_blocks, ClassifierWat};
use walmart_attest::model::{class1_log_odds, padded, Model};
use walmart_attest::PAGE_SIZE;

use super::threads;
use crate::{Config, Engine, Error, Instance, Memory, Module, Result, Store, TypedFunc};

/// Sandboxes a thread keeps for its next lanes: the next scorer of the
/// same classifier on that thread takes one instead of instantiating its
/// own (a memory mapped and the weights copied in, per run).
const KEPT_PER_THREAD: usize = 2;

/// `model`'s CNN verifier on the `wasm` back end.
pub fn wasm_cnn_verifier(model: &Model) -> Result<CnnVerifier<WasmScorer>> {
    WasmClassifier::new(model)?.verifier()
}

/// A model's classifier generated and compiled once; every
/// [`WasmClassifier::verifier`] instantiates it in a sandbox of its own
/// (compiling takes tens of milliseconds, instantiating far less).
#[derive(Clone)]
pub struct WasmClassifier {
    engine: Engine,
    module: Module,
    classes: usize,
    block: usize,
    threshold: f32,
}

impl WasmClassifier {
    /// Generates and compiles `model`'s classifier. Fails for a model the
    /// generator does not take (see `classifier_wat`) or whose pages are
    /// not whole pages.
    pub fn new(model: &Model) -> Result<WasmClassifier> {
        check_page_model(model).map_err(|e| Error::Usage(e.to_string()))?;
        let ClassifierWat {
            text,
            classes,
            block,
        } = model
            .classifier_wat()
            .map_err(|e| Error::Usage(e.to_string()))?;
        let engine = Engine::new(&Config::new())?;
        let module = Module::new(&engine, text.as_bytes())?;
        Ok(WasmClassifier {
            engine,
            module,
            classes,
            block,
            threshold: model.threshold,
        })
    }

    /// A CNN verifier on a fresh sandbox of this classifier.
    pub fn verifier(&self) -> Result<CnnVerifier<WasmScorer>> {
        Ok(CnnVerifier::with_scorer(
            WasmScorer::new(self)?,
            self.threshold,
        ))
    }
}

/// Scores pages with the model's network running as WebAssembly: one
/// sandbox per thread a final flush may be split across, each on a thread
/// of its own from when the scorer is made (instantiated then, or kept by
/// that thread from an earlier scorer of the same classifier).
pub struct WasmScorer {
    lanes: Vec<Lane>,
    classes: usize,
    block: usize,
}

/// A sandbox's thread and the channels to it.
struct Lane {
    requests: Option<Sender<Packed>>,
    replies: Receiver<std::result::Result<Vec<f32>, String>>,
    worker: Option<threads::Running>,
}

/// Pages as the classifier takes them: each page's slot holds its blocks
/// that are not all zeros, and `blocks` says how many.
struct Packed {
    slots: Vec<u8>,
    blocks: Vec<i32>,
}

/// The instantiated classifier, on its thread.
struct Sandbox {
    /// What it is an instance of.
    module: Module,
    store: Store<()>,
    memory: Memory,
    score: TypedFunc<i32, ()>,
    input: usize,
    blocks: usize,
    output: usize,
    capacity: usize,
    classes: usize,
}

impl WasmScorer {
    /// `classifier` instantiated in as many sandboxes as a final flush may
    /// use threads, each on a thread of its own.
    pub fn new(classifier: &WasmClassifier) -> Result<WasmScorer> {
        let lanes = (0..scoring_threads())
            .map(|_| Lane::start(classifier))
            .collect::<Result<Vec<_>>>()?;
        Ok(WasmScorer {
            lanes,
            classes: classifier.classes,
            block: classifier.block,
        })
    }

    /// `pages` as the classifier takes them; one of another length is cut
    /// or zero-padded, as on the CPU.
    fn pack(&self, pages: &[&[u8]]) -> Packed {
        let mut packed = Packed {
            slots: vec![0; pages.len() * PAGE_SIZE],
            blocks: Vec::with_capacity(pages.len()),
        };
        let (mut kept, mut whole) = (Vec::with_capacity(PAGE_SIZE), Vec::new());
        for (page, slot) in pages.iter().zip(packed.slots.chunks_exact_mut(PAGE_SIZE)) {
            let page = padded(page, PAGE_SIZE, &mut whole);
            let count = pack_nonzero_blocks(page, self.block, &mut kept);
            slot[..kept.len()].copy_from_slice(&kept);
            packed.blocks.push(count as i32);
        }
        packed
    }
}

impl Lane {
    fn start(classifier: &WasmClassifier) -> Result<Lane> {
        let WasmClassifier {
            engine,
            module,
            classes,
            ..
        } = classifier.clone();
        let (requests, from_verifier) = mpsc::channel::<Packed>();
        let (to_verifier, replies) = mpsc::channel();
        let worker = threads::start(move || {
            let kept = threads::take_kept::<Sandbox>(|s| s.module.same(&module));
            let mut sandbox = match kept.map_or_else(|| Sandbox::new(&engine, &module, classes), Ok)
            {
                Ok(s) => {
                    let _ = to_verifier.send(Ok(Vec::new()));
                    s
                }
                Err(e) => {
                    let _ = to_verifier.send(Err(e.to_string()));
                    return;
                }
            };
            let mut healthy = true;
            while let Ok(pages) = from_verifier.recv() {
                let reply = sandbox.logits(&pages).map_err(|e| e.to_string());
                healthy &= reply.is_ok();
                if to_verifier.send(reply).is_err() {
                    break;
                }
            }
            // A sandbox whose call failed is not trusted with another run.
            if healthy {
                threads::keep(sandbox, KEPT_PER_THREAD);
            }
        })
        .map_err(|e| Error::Resource(format!("cannot start the wasm verifier thread: {e}")))?;
        match replies.recv() {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => return Err(Error::Usage(format!("the wasm verifier: {e}"))),
            Err(_) => return Err(Error::Usage("the wasm verifier thread stopped".into())),
        }
        Ok(Lane {
            requests: Some(requests),
            replies,
            worker: Some(worker),
        })
    }

    fn send(&self, pages: Packed) -> std::result::Result<(), String> {
        self.requests
            .as_ref()
            .ok_or("the sandbox is gone")?
            .send(pages)
            .map_err(|_| "the sandbox thread stopped".to_string())
    }

    fn receive(&self) -> std::result::Result<Vec<f32>, String> {
        self.replies
            .recv()
            .map_err(|_| "the sandbox thread stopped".to_string())?
    }
}

impl PageScorer for WasmScorer {
    fn name(&self) -> &str {
        "cnn-wasm"
    }

    /// Each page is sent as its blocks that are not all zeros; a large
    /// final flush is split across the sandboxes, the others are one
    /// sandbox's work.
    fn score(&mut self, pages: &[&[u8]], all_cores: bool) -> std::result::Result<Vec<f32>, String> {
        let n = pages.len();
        let parts = scoring_shares(n, all_cores, self.lanes.len());
        let shares: Vec<&[&[u8]]> = pages.chunks(n.div_ceil(parts).max(1)).collect();
        // Every share sent is received, even after a failure, so no reply
        // is left to be taken for the next batch's.
        let mut failed = None;
        let mut sent = 0;
        for (share, lane) in shares.iter().zip(&self.lanes) {
            match lane.send(self.pack(share)) {
                Ok(()) => sent += 1,
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        let mut logits = Vec::with_capacity(n * self.classes);
        for lane in self.lanes.iter().take(sent) {
            match lane.receive() {
                Ok(part) => logits.extend(part),
                Err(e) => {
                    failed.get_or_insert(e);
                }
            }
        }
        if let Some(e) = failed {
            return Err(e);
        }
        if logits.len() != n * self.classes {
            return Err("the sandbox returned logits of the wrong size".into());
        }
        Ok(logits
            .chunks_exact(self.classes)
            .map(class1_log_odds)
            .collect())
    }
}

impl Sandbox {
    fn new(engine: &Engine, module: &Module, classes: usize) -> Result<Sandbox> {
        let mut store = Store::new(engine, ());
        let instance = Instance::new(&mut store, module, &[])?;
        let missing = |what: &str| Error::Usage(format!("the classifier module lacks `{what}`"));
        let memory = instance
            .get_memory(&mut store, "memory")
            .ok_or_else(|| missing("memory"))?;
        let get = |store: &mut Store<()>, name: &str| -> Result<usize> {
            let f = instance
                .get_func(&mut *store, name)
                .ok_or_else(|| missing(name))?
                .typed::<(), i32>(&*store)?;
            Ok(f.call(&mut *store, ())? as u32 as usize)
        };
        let input = get(&mut store, "input_ptr")?;
        let blocks = get(&mut store, "blocks_ptr")?;
        let output = get(&mut store, "output_ptr")?;
        let capacity = get(&mut store, "capacity")?;
        let score = instance
            .get_func(&mut store, "score")
            .ok_or_else(|| missing("score"))?
            .typed::<i32, ()>(&store)?;
        Ok(Sandbox {
            module: module.clone(),
            store,
            memory,
            score,
            input,
            blocks,
            output,
            capacity,
            classes,
        })
    }

    /// The logits of `pages`.
    fn logits(&mut self, pages: &Packed) -> Result<Vec<f32>> {
        let mut logits = Vec::with_capacity(pages.blocks.len() * self.classes);
        let mut raw = Vec::new();
        for (chunk, counts) in pages
            .slots
            .chunks(self.capacity * PAGE_SIZE)
            .zip(pages.blocks.chunks(self.capacity))
        {
            let n = counts.len();
            let counts: Vec<u8> = counts.iter().flat_map(|c| c.to_le_bytes()).collect();
            self.memory.write(&mut self.store, self.blocks, &counts)?;
            self.memory.write(&mut self.store, self.input, chunk)?;
            self.score.call(&mut self.store, n as i32)?;
            raw.resize(n * self.classes * 4, 0);
            self.memory.read(&self.store, self.output, &mut raw)?;
            logits.extend(
                raw.chunks_exact(4)
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            );
        }
        Ok(logits)
    }
}

impl Drop for Lane {
    fn drop(&mut self) {
        // Closing the channel ends the sandbox thread's loop.
        self.requests = None;
        if let Some(worker) = self.worker.take() {
            worker.wait();
        }
    }
}
