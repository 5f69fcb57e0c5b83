//! Training: Adam on weighted cross-entropy, deterministic under a seed,
//! with a validation split in time (the end of every run), early stopping
//! on validation loss, and a decision threshold chosen on validation for a
//! target false-positive rate.

use ndarray::ArrayD;

use crate::dataset::{Dataset, Label, Record};
use crate::metrics::{roc_auc, threshold_for_fpr, Metrics};
use crate::model::{batch_of, zeros_like, Architecture, Model, TrainingMeta, CLASSES};
use crate::rng::Rng;
use crate::snapshot::PAGE_SIZE;

/// Training settings.
#[derive(Clone, Debug)]
pub struct TrainOptions {
    pub arch: Architecture,
    pub epochs: usize,
    pub learning_rate: f32,
    pub batch: usize,
    pub seed: u64,
    /// Epochs without a lower validation loss before stopping.
    pub patience: usize,
    /// Share of each run (its last records) held out for validation.
    pub validation: f64,
    /// Consecutive stretches each run is cut into, the last `validation`
    /// share of each held out (1: the run's end only). Content that
    /// comes only late in a run (base64 of zeroed tables at the end of an
    /// input) is then in training as well as in validation, instead of
    /// only setting the threshold.
    pub validation_stretches: usize,
    /// The false-positive rate the threshold is chosen for.
    pub max_fpr: f64,
    /// Weights to start from (fine-tuning), instead of random ones drawn
    /// from `seed`; its architecture must be `arch`.
    pub init: Option<Model>,
    /// Extra times each clean training page the model scored as corrupted
    /// (log-odds above 0) after an epoch is shown in the next one; 0 shows
    /// every page once. A few clean pages unlike the rest (base64 of a
    /// table of 0xff: runs of `/`) otherwise keep the scores a start from
    /// the built-in model gave them, and with them the threshold. The
    /// model learns to pass over whatever they hold: clean pages holding
    /// an attack's own padding teach it to miss those attacks.
    pub hard_negative_repeats: usize,
}

impl Default for TrainOptions {
    fn default() -> TrainOptions {
        TrainOptions {
            arch: Architecture::default_cnn(),
            epochs: 12,
            learning_rate: 2e-3,
            batch: 64,
            seed: 1,
            patience: 3,
            validation: 0.2,
            validation_stretches: 1,
            max_fpr: 0.001,
            init: None,
            hard_negative_repeats: 0,
        }
    }
}

/// What one epoch achieved.
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct EpochReport {
    pub epoch: usize,
    pub train_loss: f64,
    pub validation_loss: f64,
    pub validation_auc: f64,
    /// Recall on validation at the threshold for `max_fpr`.
    pub validation_recall: f64,
}

/// Why training could not run.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error("the dataset has no {0} pages: training needs both clean and corrupted ones")]
    MissingClass(&'static str),
    #[error("the dataset's pages are {found} bytes, the model takes {expected}")]
    PageSize { expected: usize, found: usize },
    #[error("the model to start from has another architecture than the one to train")]
    InitArchitecture,
}

/// Adam's moment estimates.
struct Adam {
    m: Vec<Vec<ArrayD<f32>>>,
    v: Vec<Vec<ArrayD<f32>>>,
    t: i32,
}

impl Adam {
    const B1: f32 = 0.9;
    const B2: f32 = 0.999;
    const EPS: f32 = 1e-8;

    fn step(&mut self, params: &mut [Vec<ArrayD<f32>>], grads: &[Vec<ArrayD<f32>>], lr: f32) {
        self.t += 1;
        let c1 = 1.0 - Self::B1.powi(self.t);
        let c2 = 1.0 - Self::B2.powi(self.t);
        for (l, layer) in params.iter_mut().enumerate() {
            for (k, p) in layer.iter_mut().enumerate() {
                let Some(g) = grads[l].get(k) else { continue };
                ndarray::Zip::from(p)
                    .and(g)
                    .and(&mut self.m[l][k])
                    .and(&mut self.v[l][k])
                    .for_each(|p, &g, m, v| {
                        *m = Self::B1 * *m + (1.0 - Self::B1) * g;
                        *v = Self::B2 * *v + (1.0 - Self::B2) * g * g;
                        *p -= lr * (*m / c1) / ((*v / c2).sqrt() + Self::EPS);
                    });
            }
        }
    }
}

/// Splits record indices into training and validation: every run's
/// records (in the order they were taken) are cut into `stretches`
/// consecutive stretches, and the last `share` of each is validation.
/// Every program and input is represented in both, and each validation
/// page comes from a later point of its stretch than any training page of
/// that stretch, so the threshold is calibrated on states training never
/// saw for every program (holding out whole runs left some programs out of
/// calibration entirely). A run whose clean pages hit `--max-pages` early
/// has few of them in its tail; splitting by label instead was tried and
/// made early stopping pick a first-epoch model (recall 0.73 on
/// use-after-free), so it stays by run.
pub fn split_by_time(records: &[Record], share: f64, stretches: usize) -> (Vec<usize>, Vec<usize>) {
    let mut by_group: std::collections::BTreeMap<u32, Vec<usize>> = Default::default();
    for (i, r) in records.iter().enumerate() {
        by_group.entry(r.group).or_default().push(i);
    }
    let (mut train, mut val) = (Vec::new(), Vec::new());
    for idx in by_group.values() {
        let stretch = idx.len().div_ceil(stretches.max(1)).max(1);
        for part in idx.chunks(stretch) {
            let held = ((part.len() as f64 * share).round() as usize).min(part.len());
            let cut = part.len() - held;
            train.extend_from_slice(&part[..cut]);
            val.extend_from_slice(&part[cut..]);
        }
    }
    (train, val)
}

/// Scores `records[idx]` with `model`, in floats on every CPU: training
/// (its early stopping, hard negatives and threshold) and its reports
/// are then the same whatever the CPU, where the `cpu` back end's 16-bit
/// build, on CPUs with AVX2, scores within a few hundredths of a log-odd
/// of these.
pub fn score(model: &Model, records: &[Record], idx: &[usize]) -> Vec<f32> {
    let pages: Vec<&[u8]> = idx.iter().map(|&i| records[i].bytes.as_slice()).collect();
    model.score_pages(&mut model.plan_in_floats(), &pages)
}

/// Trains a model on `data`, calling `progress` after each epoch.
pub fn train(
    data: &Dataset,
    dataset_name: &str,
    opts: &TrainOptions,
    mut progress: impl FnMut(&EpochReport),
) -> Result<Model, TrainError> {
    if opts.arch.input_len != PAGE_SIZE {
        return Err(TrainError::PageSize {
            expected: opts.arch.input_len,
            found: PAGE_SIZE,
        });
    }
    let recs = &data.records;
    let positives = recs.iter().filter(|r| r.label.is_attack()).count();
    if positives == 0 {
        return Err(TrainError::MissingClass("corrupted"));
    }
    if positives == recs.len() {
        return Err(TrainError::MissingClass("clean"));
    }
    let (mut train_idx, val_idx) = split_by_time(recs, opts.validation, opts.validation_stretches);
    let val_idx = if val_idx.is_empty() {
        train_idx.clone()
    } else {
        val_idx
    };
    let pos_train = train_idx
        .iter()
        .filter(|&&i| recs[i].label.is_attack())
        .count()
        .max(1);
    // Rare positives weigh as much, in total, as the clean pages (capped so
    // a handful of positives cannot dominate).
    let w_pos = ((train_idx.len() - pos_train) as f32 / pos_train as f32).clamp(1.0, 100.0);
    let class_weights: [f32; CLASSES] = [1.0, w_pos];

    let mut model = match &opts.init {
        Some(m) if m.arch != opts.arch => return Err(TrainError::InitArchitecture),
        Some(m) => m.clone(),
        None => Model::init(opts.arch.clone(), opts.seed),
    };
    let mut adam = Adam {
        m: zeros_like(&model.params),
        v: zeros_like(&model.params),
        t: 0,
    };
    let mut rng = Rng::new(opts.seed);
    let val_pos: Vec<bool> = val_idx.iter().map(|&i| recs[i].label.is_attack()).collect();
    let mut best: Option<(f64, Model, EpochReport)> = None;
    let mut since_best = 0;
    let clean_train: Vec<usize> = train_idx
        .iter()
        .copied()
        .filter(|&i| !recs[i].label.is_attack())
        .collect();
    let mut hard: Vec<usize> = Vec::new();
    for epoch in 1..=opts.epochs {
        rng.shuffle(&mut train_idx);
        // The hard negatives, where any, shuffled in among the rest.
        let mined: Vec<usize>;
        let order: &[usize] = if hard.is_empty() {
            &train_idx
        } else {
            let mut all = train_idx.clone();
            for _ in 0..opts.hard_negative_repeats {
                all.extend_from_slice(&hard);
            }
            rng.shuffle(&mut all);
            mined = all;
            &mined
        };
        let (mut loss_sum, mut batches) = (0.0f64, 0usize);
        for chunk in order.chunks(opts.batch.max(1)) {
            let pages: Vec<&[u8]> = chunk.iter().map(|&i| recs[i].bytes.as_slice()).collect();
            let labels: Vec<usize> = chunk
                .iter()
                .map(|&i| recs[i].label.is_attack() as usize)
                .collect();
            let b = batch_of(&pages, PAGE_SIZE);
            let trace = model.forward(b.view()).expect("page size checked");
            let (loss, grads) = model.backward(b.view(), &trace, &labels, &class_weights);
            adam.step(&mut model.params, &grads, opts.learning_rate);
            loss_sum += f64::from(loss);
            batches += 1;
        }
        if opts.hard_negative_repeats > 0 {
            let clean_scores = score(&model, recs, &clean_train);
            hard = clean_train
                .iter()
                .zip(&clean_scores)
                .filter(|(_, &s)| s > 0.0)
                .map(|(&i, _)| i)
                .collect();
        }
        let scores = score(&model, recs, &val_idx);
        let val_loss = weighted_log_loss(&scores, &val_pos, &class_weights);
        let auc = roc_auc(&scores, &val_pos);
        let t = threshold_for_fpr(&scores, &val_pos, opts.max_fpr);
        let recall = Metrics::compute(&scores, &val_pos, t).recall;
        let report = EpochReport {
            epoch,
            train_loss: loss_sum / batches.max(1) as f64,
            validation_loss: val_loss,
            validation_auc: auc,
            validation_recall: recall,
        };
        progress(&report);
        // Validation loss, not recall at the target rate: on separable
        // validation data recall sits at 1.0 from the first epochs and
        // picks an early, barely separated model; the loss keeps
        // rewarding a wider margin, which is what unseen pages need.
        let better = match &best {
            None => true,
            Some((l, ..)) => val_loss < *l,
        };
        if better {
            let mut m = model.clone();
            m.threshold = t;
            best = Some((val_loss, m, report));
            since_best = 0;
        } else {
            since_best += 1;
            if since_best >= opts.patience {
                break;
            }
        }
    }
    let (_, mut model, report) = best.expect("at least one epoch runs");
    model.meta = TrainingMeta {
        dataset: dataset_name.to_string(),
        seed: opts.seed,
        epochs: report.epoch,
        learning_rate: opts.learning_rate,
        metrics: vec![
            ("validation_auc".into(), report.validation_auc),
            ("validation_recall".into(), report.validation_recall),
            ("validation_loss".into(), report.validation_loss),
        ],
    };
    Ok(model)
}

fn weighted_log_loss(scores: &[f32], positive: &[bool], w: &[f32; CLASSES]) -> f64 {
    let (mut sum, mut weight) = (0.0f64, 0.0f64);
    // -ln p(label) from log-odds `s`: ln(1 + e^-s) for a corrupted page,
    // ln(1 + e^s) for a clean one; capped as a probability of 1e-12 was.
    let softplus = |x: f64| x.max(0.0) + (-x.abs()).exp().ln_1p();
    let cap = -(1e-12f64.ln());
    for (s, p) in scores.iter().zip(positive) {
        let s = f64::from(*s);
        let (nll, wt) = if *p {
            (softplus(-s), f64::from(w[1]))
        } else {
            (softplus(s), f64::from(w[0]))
        };
        sum += wt * nll.min(cap);
        weight += wt;
    }
    sum / weight.max(1e-12)
}

/// Metrics of a model on a dataset: overall and per attack kind (that
/// kind's pages against all clean pages).
#[derive(Clone, Debug, serde::Serialize)]
pub struct EvalReport {
    pub overall: Metrics,
    pub per_attack: Vec<(Label, Metrics)>,
    /// The clean pages scored highest at or above the threshold (false
    /// positives), worst first, at most [`WORST`].
    pub false_positives: Vec<PageScore>,
    /// The corrupted pages scored lowest below the threshold (misses),
    /// worst first, at most [`WORST`].
    pub misses: Vec<PageScore>,
    /// The clean pages scored highest below the threshold, highest first,
    /// at most [`WORST`]: how close the threshold came to a false
    /// positive on these pages.
    pub closest_clean: Vec<PageScore>,
}

/// How many false positives and misses an [`EvalReport`] names.
pub const WORST: usize = 10;

/// One page's score, to find it again in its dataset.
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct PageScore {
    /// Index of the record in the (merged) dataset.
    pub record: usize,
    /// The run it came from and its page number there.
    pub group: u32,
    pub page: u32,
    pub label: Label,
    pub score: f32,
}

/// Evaluates `model` on every record of `data`.
pub fn evaluate(model: &Model, data: &Dataset) -> EvalReport {
    let recs = &data.records;
    let all: Vec<usize> = (0..recs.len()).collect();
    let scores = score(model, recs, &all);
    let positive: Vec<bool> = recs.iter().map(|r| r.label.is_attack()).collect();
    let overall = Metrics::compute(&scores, &positive, model.threshold);
    let per_attack = Label::ATTACKS
        .into_iter()
        .filter(|k| recs.iter().any(|r| r.label == *k))
        .map(|k| {
            let keep: Vec<usize> = (0..recs.len())
                .filter(|&i| recs[i].label == k || !recs[i].label.is_attack())
                .collect();
            let s: Vec<f32> = keep.iter().map(|&i| scores[i]).collect();
            let p: Vec<bool> = keep.iter().map(|&i| positive[i]).collect();
            (k, Metrics::compute(&s, &p, model.threshold))
        })
        .collect();
    let t = model.threshold;
    let worst = |wrong: &dyn Fn(usize) -> bool, highest_first: bool| {
        let mut idx: Vec<usize> = (0..recs.len()).filter(|&i| wrong(i)).collect();
        idx.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
        if highest_first {
            idx.reverse();
        }
        idx.truncate(WORST);
        idx.into_iter()
            .map(|i| PageScore {
                record: i,
                group: recs[i].group,
                page: recs[i].page,
                label: recs[i].label,
                score: scores[i],
            })
            .collect()
    };
    EvalReport {
        overall,
        per_attack,
        false_positives: worst(&|i| !positive[i] && scores[i] >= t, true),
        misses: worst(&|i| positive[i] && scores[i] < t, false),
        closest_clean: worst(&|i| !positive[i] && scores[i] < t, true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::LayerSpec;

    /// Clean pages hold small structured values; corrupted ones carry a run
    /// of 0x41 somewhere. A tiny network must learn that.
    fn toy(groups: u32, per_group: usize, seed: u64) -> Dataset {
        let mut rng = Rng::new(seed);
        let mut records = Vec::new();
        for g in 0..groups {
            for i in 0..per_group {
                let mut bytes: Vec<u8> = (0..PAGE_SIZE).map(|_| rng.below(29) as u8).collect();
                let attack = i % 4 == 0;
                if attack {
                    let at = rng.below((PAGE_SIZE - 64) as u64) as usize;
                    bytes[at..at + 48].fill(0x41);
                }
                records.push(Record {
                    group: g,
                    seed: 0,
                    page: i as u32,
                    label: if attack {
                        Label::HeapOverflow
                    } else {
                        Label::Benign
                    },
                    bytes,
                });
            }
        }
        Dataset {
            meta: Default::default(),
            records,
        }
    }

    fn small_arch() -> Architecture {
        use LayerSpec::*;
        Architecture::new(
            PAGE_SIZE,
            vec![
                Embed { dim: 2 },
                Conv1d {
                    out: 8,
                    kernel: 8,
                    stride: 8,
                    padding: 0,
                },
                Relu,
                GlobalAvgPool,
                Dense { out: 2 },
            ],
        )
        .unwrap()
    }

    /// Options that learn the toy pattern in a few seconds.
    fn toy_options() -> TrainOptions {
        TrainOptions {
            arch: small_arch(),
            epochs: 20,
            batch: 16,
            learning_rate: 1e-2,
            patience: 20,
            ..TrainOptions::default()
        }
    }

    #[test]
    fn training_learns_a_pattern_and_is_bit_identical_under_a_seed() {
        let data = toy(4, 48, 5);
        let opts = toy_options();
        let a = train(&data, "toy", &opts, |_| {}).unwrap();
        let b = train(&data, "toy", &opts, |_| {}).unwrap();
        assert_eq!(a.to_bytes(), b.to_bytes());
        let report = evaluate(&a, &toy(2, 48, 99));
        assert!(report.overall.roc_auc > 0.95, "{report:?}");
        assert_eq!(report.per_attack.len(), 1);
    }

    #[test]
    fn fine_tuning_starts_from_the_given_weights() {
        let data = toy(4, 48, 5);
        let base = toy_options();
        let trained = train(&data, "toy", &base, |_| {}).unwrap();
        // One epoch at a tiny rate from the trained weights stays as good;
        // from random weights (a different seed) it is not.
        let tune = |init: Option<Model>, seed: u64| TrainOptions {
            epochs: 1,
            learning_rate: 1e-6,
            init,
            seed,
            ..base.clone()
        };
        let tuned = train(&data, "toy", &tune(Some(trained.clone()), 7), |_| {}).unwrap();
        let fresh = train(&data, "toy", &tune(None, 7), |_| {}).unwrap();
        let held_out = toy(2, 48, 99);
        assert!(evaluate(&tuned, &held_out).overall.roc_auc > 0.95);
        assert!(evaluate(&fresh, &held_out).overall.roc_auc < 0.9);
        // The starting model must have the trained architecture.
        let other = Model::init(Architecture::default_cnn(), 1);
        assert!(matches!(
            train(&data, "toy", &tune(Some(other), 7), |_| {}),
            Err(TrainError::InitArchitecture)
        ));
    }

    #[test]
    fn validation_is_the_end_of_each_stretch_of_every_run() {
        // Two runs, interleaved as collections write them, of 10 and 5.
        let data = toy(1, 15, 3);
        let mut records = data.records;
        for (i, r) in records.iter_mut().enumerate() {
            r.group = u32::from(i % 3 == 2);
        }
        let run0: Vec<usize> = (0..15).filter(|i| i % 3 != 2).collect();
        let run1: Vec<usize> = (0..15).filter(|i| i % 3 == 2).collect();
        let (train, val) = split_by_time(&records, 0.2, 1);
        assert_eq!(val, [run0[8], run0[9], run1[4]]);
        assert_eq!(train.len() + val.len(), 15);
        let (train, val) = split_by_time(&records, 0.2, 2);
        assert_eq!(val, [run0[4], run0[9], run1[2]]);
        assert_eq!(train.len() + val.len(), 15);
        assert!(train.iter().all(|i| !val.contains(i)));
        // More stretches than records: each record its own stretch, and
        // a share of 0.2 of one record holds none out.
        let (train, val) = split_by_time(&records, 0.2, 100);
        assert!(val.is_empty());
        assert_eq!(train.len(), 15);
    }

    /// `toy`'s pages, with one clean page in `every` holding a run of
    /// 0x41 broken by 0x40 every fifth byte: clean pages that look like the
    /// attacks, as base64 of a zeroed table looks like a payload's padding.
    fn with_look_alikes(mut data: Dataset, every: usize) -> Dataset {
        let mut k = 0;
        for r in data.records.iter_mut().filter(|r| !r.label.is_attack()) {
            k += 1;
            if k % every == 0 {
                let at = 100 + (k * 37) % 3000;
                for (j, b) in r.bytes[at..at + 48].iter_mut().enumerate() {
                    *b = if j % 5 == 4 { 0x40 } else { 0x41 };
                }
            }
        }
        data
    }

    #[test]
    fn clean_pages_scored_as_corrupted_are_shown_again_until_they_are_not() {
        let base = toy_options();
        let trained = train(&toy(4, 48, 5), "toy", &base, |_| {}).unwrap();
        let look_alikes = |data: &Dataset| -> Vec<usize> {
            let plain = toy(2, 48, 99);
            (0..data.records.len())
                .filter(|&i| {
                    !data.records[i].label.is_attack()
                        && data.records[i].bytes != plain.records[i].bytes
                })
                .collect()
        };
        let held_out = with_look_alikes(toy(2, 48, 99), 3);
        let idx = look_alikes(&held_out);
        assert!(!idx.is_empty());
        let mean = |m: &Model| {
            let s = score(m, &held_out.records, &idx);
            s.iter().map(|&x| f64::from(x)).sum::<f64>() / s.len() as f64
        };
        // The model that never saw them takes them for attacks.
        assert!(mean(&trained) > 0.0, "{}", mean(&trained));
        let data = with_look_alikes(toy(4, 48, 5), 12);
        let tune = |hard_negative_repeats| TrainOptions {
            epochs: 10,
            init: Some(trained.clone()),
            hard_negative_repeats,
            ..base.clone()
        };
        let plain = train(&data, "toy", &tune(0), |_| {}).unwrap();
        let mined = train(&data, "toy", &tune(8), |_| {}).unwrap();
        assert_eq!(
            mined.to_bytes(),
            train(&data, "toy", &tune(8), |_| {}).unwrap().to_bytes()
        );
        let (mined_mean, plain_mean) = (mean(&mined), mean(&plain));
        assert!(mined_mean + 0.25 < plain_mean, "{mined_mean} {plain_mean}");
        assert!(evaluate(&mined, &toy(2, 48, 99)).overall.roc_auc > 0.95);
    }

    #[test]
    fn a_dataset_without_attacks_is_refused() {
        let mut data = toy(1, 8, 1);
        data.records.retain(|r| !r.label.is_attack());
        assert!(matches!(
            train(&data, "toy", &TrainOptions::default(), |_| {}),
            Err(TrainError::MissingClass(_))
        ));
    }
}
