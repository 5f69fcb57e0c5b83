//! The `wasm` verifier back end: the CNN compiled to WebAssembly
//! ([`crate::attest::model::Model::classifier_wat`]) and run by walmart's
//! own JIT in a store of its own, on a thread of its own. The classifier
//! then reaches nothing but its memory: a bug in it, or a model file made
//! to exploit one, stays inside the sandbox.
//!
//! A store cannot move between threads, so the sandbox lives on its own
//! thread from creation to drop; the verifier hands it pages over a
//! channel and waits for the logits.

use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::JoinHandle;

use walmart_attest::model::wasm::ClassifierWat;
use walmart_attest::model::{class1_probability, Model};
use walmart_attest::{EventKind, PageKind, PageSnapshot, Verdict, Verifier, PAGE_SIZE};

use crate::{Config, Engine, Error, Instance, Memory, Module, Result, Store, TypedFunc};

/// Scores pages with the model's network running as WebAssembly.
pub struct WasmCnnVerifier {
    requests: Option<Sender<Vec<u8>>>,
    replies: Receiver<std::result::Result<Vec<f32>, String>>,
    worker: Option<JoinHandle<()>>,
    threshold: f32,
    classes: usize,
    /// Set after the sandbox failed: its pages are flagged from then on
    /// (a verifier that cannot judge must not pass pages as clean).
    failed: bool,
}

/// The instantiated classifier, on its thread.
struct Sandbox {
    store: Store<()>,
    memory: Memory,
    score: TypedFunc<i32, ()>,
    input: usize,
    output: usize,
    capacity: usize,
    classes: usize,
}

impl WasmCnnVerifier {
    /// Generates, compiles and instantiates `model`'s classifier. Fails for
    /// a model the generator does not take (see `classifier_wat`) or whose
    /// pages are not whole pages.
    pub fn new(model: &Model) -> Result<WasmCnnVerifier> {
        if model.arch.input_len != PAGE_SIZE {
            return Err(Error::Usage(format!(
                "the wasm verifier scores {PAGE_SIZE}-byte pages; the model takes {}",
                model.arch.input_len
            )));
        }
        let ClassifierWat { text, classes } = model
            .classifier_wat()
            .map_err(|e| Error::Usage(e.to_string()))?;
        let engine = Engine::new(&Config::new())?;
        let module = Module::new(&engine, text.as_bytes())?;
        let (requests, from_verifier) = mpsc::channel::<Vec<u8>>();
        let (to_verifier, replies) = mpsc::channel();
        let worker = std::thread::Builder::new()
            .name("walmart-cnn-wasm".into())
            .spawn(move || {
                let mut sandbox = match Sandbox::new(&engine, &module, classes) {
                    Ok(s) => {
                        let _ = to_verifier.send(Ok(Vec::new()));
                        s
                    }
                    Err(e) => {
                        let _ = to_verifier.send(Err(e.to_string()));
                        return;
                    }
                };
                while let Ok(pages) = from_verifier.recv() {
                    let reply = sandbox.logits(&pages).map_err(|e| e.to_string());
                    if to_verifier.send(reply).is_err() {
                        return;
                    }
                }
            })
            .map_err(|e| Error::Resource(format!("cannot start the wasm verifier thread: {e}")))?;
        match replies.recv() {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => return Err(Error::Usage(format!("the wasm verifier: {e}"))),
            Err(_) => return Err(Error::Usage("the wasm verifier thread stopped".into())),
        }
        Ok(WasmCnnVerifier {
            requests: Some(requests),
            replies,
            worker: Some(worker),
            threshold: model.threshold,
            classes,
            failed: false,
        })
    }

    /// Class probabilities of class 1 (corrupted) for `pages`, back to
    /// back, or why the sandbox could not give them.
    pub fn scores(&mut self, pages: Vec<u8>) -> std::result::Result<Vec<f32>, String> {
        let n = pages.len() / PAGE_SIZE;
        let requests = self.requests.as_ref().ok_or("the sandbox is gone")?;
        requests
            .send(pages)
            .map_err(|_| "the sandbox thread stopped".to_string())?;
        let logits = self
            .replies
            .recv()
            .map_err(|_| "the sandbox thread stopped".to_string())??;
        if logits.len() != n * self.classes {
            return Err("the sandbox returned logits of the wrong size".into());
        }
        Ok(logits
            .chunks_exact(self.classes)
            .map(class1_probability)
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
        let output = get(&mut store, "output_ptr")?;
        let capacity = get(&mut store, "capacity")?;
        let score = instance
            .get_func(&mut store, "score")
            .ok_or_else(|| missing("score"))?
            .typed::<i32, ()>(&store)?;
        Ok(Sandbox {
            store,
            memory,
            score,
            input,
            output,
            capacity,
            classes,
        })
    }

    /// The logits of `pages` (whole pages, back to back).
    fn logits(&mut self, pages: &[u8]) -> Result<Vec<f32>> {
        let mut logits = Vec::with_capacity(pages.len() / PAGE_SIZE * self.classes);
        let mut raw = Vec::new();
        for chunk in pages.chunks(self.capacity * PAGE_SIZE) {
            let n = chunk.len() / PAGE_SIZE;
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

impl Verifier for WasmCnnVerifier {
    fn name(&self) -> &str {
        "cnn-wasm"
    }

    fn event_kind(&self) -> EventKind {
        EventKind::Cnn
    }

    /// Scores the `Dirty` pages in the sandbox; `Audit` pages are the
    /// digest check's, as with the CPU back end.
    fn verify(&mut self, pages: &[PageSnapshot<'_>], out: &mut Vec<Verdict>) {
        let first = out.len();
        out.resize(first + pages.len(), Verdict::CLEAN);
        let dirty: Vec<usize> = (0..pages.len())
            .filter(|&i| pages[i].kind == PageKind::Dirty)
            .collect();
        if dirty.is_empty() {
            return;
        }
        let mut batch = Vec::with_capacity(dirty.len() * PAGE_SIZE);
        for &i in &dirty {
            let bytes = pages[i].bytes;
            let n = bytes.len().min(PAGE_SIZE);
            batch.extend_from_slice(&bytes[..n]);
            batch.resize(batch.len() + PAGE_SIZE - n, 0);
        }
        let scores = if self.failed {
            Err(String::new())
        } else {
            self.scores(batch)
        };
        match scores {
            Ok(scores) => {
                for (&i, score) in dirty.iter().zip(scores) {
                    out[first + i] = Verdict {
                        score,
                        flagged: score >= self.threshold,
                    };
                }
            }
            Err(e) => {
                if !self.failed {
                    eprintln!("walmart: the wasm verifier failed ({e}); its pages are flagged");
                    self.failed = true;
                }
                for &i in &dirty {
                    out[first + i] = Verdict {
                        score: 1.0,
                        flagged: true,
                    };
                }
            }
        }
    }
}

impl Drop for WasmCnnVerifier {
    fn drop(&mut self) {
        // Closing the channel ends the sandbox thread's loop.
        self.requests = None;
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}
