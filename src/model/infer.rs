//! Inference: a sparse dot product over the learned weights, then softmax.
//!
//! The weights of the selected features sit in an open-addressing table keyed by feature id
//! (multiplicative hashing, linear probing, load factor at most 1/2). A message's n-grams and
//! signals are looked up one by one as the engine produces them ([`WeightSum::add`]); the few
//! that have weights are collected, deduplicated (features are binary) and summed. No dense
//! row is ever built.

use std::cell::Cell;

use crate::category::CLASSES;

use super::file::ModelFile;

const EMPTY: u32 = u32::MAX;

/// The weights of a model, ready for scoring.
#[derive(Clone, Debug)]
pub struct Weights {
    bias: [f32; CLASSES],
    keys: Vec<u32>,
    values: Vec<[f32; CLASSES]>,
    shift: u32,
    /// One bit per [`filter_bit`] value, set for the ids with weights: nearly every id of a
    /// message has none, and this 4 KB table, which stays in the first-level cache, says so
    /// without reading the key table.
    filter: Box<[u64; FILTER_WORDS]>,
}

/// Bits of the id filter.
const FILTER_BITS: u32 = 15;
const FILTER_WORDS: usize = 1 << (FILTER_BITS - 6);

/// The filter bit of a feature id.
#[inline]
fn filter_bit(id: u32) -> usize {
    (id.wrapping_mul(0x85EB_CA6B) >> (32 - FILTER_BITS)) as usize
}

impl Weights {
    pub fn new(file: &ModelFile) -> Weights {
        let slots = (file.weights.len() * 2).next_power_of_two().max(16);
        let shift = 32 - slots.trailing_zeros();
        let mut w = Weights {
            bias: file.bias,
            keys: vec![EMPTY; slots],
            values: vec![[0.0; CLASSES]; slots],
            shift,
            filter: Box::new([0; FILTER_WORDS]),
        };
        for weight in &file.weights {
            let bit = filter_bit(weight.id);
            w.filter[bit / 64] |= 1 << (bit % 64);
            let mut i = w.slot(weight.id);
            loop {
                if w.keys[i] == EMPTY || w.keys[i] == weight.id {
                    w.keys[i] = weight.id;
                    // A repeated id adds up, as it would in a dense vector.
                    for (v, x) in w.values[i].iter_mut().zip(weight.w) {
                        *v += x;
                    }
                    break;
                }
                i = (i + 1) & (w.keys.len() - 1);
            }
        }
        w
    }

    #[inline]
    fn slot(&self, id: u32) -> usize {
        (id.wrapping_mul(0x9E37_79B1) >> self.shift) as usize
    }

    /// The table slot holding `id`'s weights, if it has any.
    #[inline]
    fn find(&self, id: u32) -> Option<u32> {
        let bit = filter_bit(id);
        if self.filter[bit / 64] & (1 << (bit % 64)) == 0 {
            return None;
        }
        let mask = self.keys.len() - 1;
        let mut i = self.slot(id);
        loop {
            let k = self.keys[i];
            if k == id {
                return Some(i as u32);
            }
            if k == EMPTY {
                return None;
            }
            i = (i + 1) & mask;
        }
    }

    /// Number of features with weights.
    pub fn len(&self) -> usize {
        self.keys.iter().filter(|&&k| k != EMPTY).count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// An empty sum to feed feature ids into.
    #[inline]
    pub fn sum(&self) -> WeightSum<'_> {
        let mut slots = SLOTS.with(Cell::take);
        slots.clear();
        WeightSum {
            weights: self,
            slots,
        }
    }

    /// Class probabilities of a feature set (ids, repeats allowed).
    pub fn predict_features(&self, ids: &[u32]) -> [f64; CLASSES] {
        let mut sum = self.sum();
        for &id in ids {
            sum.add(id);
        }
        sum.probabilities()
    }
}

thread_local! {
    /// The slot buffer of the last [`WeightSum`] of this thread, reused by the next one so
    /// that scoring a message allocates nothing here.
    static SLOTS: Cell<Vec<u32>> = const { Cell::new(Vec::new()) };
}

/// The weights of one message's features, fed one id at a time.
pub struct WeightSum<'w> {
    weights: &'w Weights,
    /// Table slots of the features seen that have weights (repeats included).
    slots: Vec<u32>,
}

impl Drop for WeightSum<'_> {
    fn drop(&mut self) {
        let slots = std::mem::take(&mut self.slots);
        // During thread teardown the buffer is simply freed.
        let _ = SLOTS.try_with(|cell| cell.set(slots));
    }
}

impl WeightSum<'_> {
    /// Adds a feature; repeats count once, ids without a weight not at all.
    #[inline]
    pub fn add(&mut self, id: u32) {
        if let Some(slot) = self.weights.find(id) {
            self.slots.push(slot);
        }
    }

    /// Softmax of bias plus the weights of every distinct feature added.
    pub fn probabilities(mut self) -> [f64; CLASSES] {
        self.slots.sort_unstable();
        self.slots.dedup();
        let mut z = self.weights.bias;
        for &slot in &self.slots {
            let w = &self.weights.values[slot as usize];
            for k in 0..CLASSES {
                z[k] += w[k];
            }
        }
        softmax(&z)
    }
}

/// Softmax in f64 of the class logits.
pub fn softmax(z: &[f32; CLASSES]) -> [f64; CLASSES] {
    let max = z.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b)) as f64;
    let mut p = [0.0f64; CLASSES];
    let mut sum = 0.0;
    for k in 0..CLASSES {
        p[k] = (z[k] as f64 - max).exp();
        sum += p[k];
    }
    for v in p.iter_mut() {
        *v /= sum;
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::file::Weight;

    #[test]
    fn sparse_sum_counts_each_feature_once() {
        let mut file = ModelFile {
            bias: [1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
            ..ModelFile::default()
        };
        for id in 0..100u32 {
            file.weights.push(Weight {
                id: id * 7919,
                w: [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, (id % 3) as f32],
                name: None,
            });
        }
        let w = Weights::new(&file);
        assert_eq!(w.len(), 100);
        let none = w.predict_features(&[5, 6, 123456]);
        assert!((none[0] - softmax(&file.bias)[0]).abs() < 1e-12);
        // id 2*7919 has weight 2 on generic_fraud; repeating it must not count twice.
        let once = w.predict_features(&[2 * 7919]);
        let twice = w.predict_features(&[2 * 7919, 2 * 7919]);
        assert_eq!(once, twice);
        let mut z = file.bias;
        z[6] += 2.0;
        assert!((once[6] - softmax(&z)[6]).abs() < 1e-9);
        assert!((once.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    }

    /// The filter before the key table never hides an id that has a weight, and the lookup
    /// finds exactly the ids with weights.
    #[test]
    fn lookup_finds_exactly_the_ids_with_weights() {
        let mut file = ModelFile::default();
        let mut ids = std::collections::HashSet::new();
        let mut x = 12345u32;
        for _ in 0..3000 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let id = x >> 11;
            ids.insert(id);
            file.weights.push(Weight {
                id,
                w: [0.5; CLASSES],
                name: None,
            });
        }
        let w = Weights::new(&file);
        for &id in &ids {
            assert!(w.find(id).is_some(), "{id}");
        }
        for id in 0..200_000u32 {
            assert_eq!(w.find(id).is_some(), ids.contains(&id), "{id}");
        }
    }
}
