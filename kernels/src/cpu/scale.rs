//! Byte scaling: the cheapest input layer, one channel of bytes mapped to
//! `[0, 1]`. It has no parameters, and its input is not differentiable, so it
//! has no backward kernel.

use ndarray::{Array3, ArrayView2};

/// Scales pages of bytes to one channel: `out[b, 0, l] = bytes[b, l] / 255`.
///
/// `bytes` is `[B, L]`; the result is `[B, 1, L]`.
pub fn scale_forward(bytes: ArrayView2<u8>) -> Array3<f32> {
    let (batch, len) = bytes.dim();
    // A lookup table keeps the exact rounding of `x / 255` at the cost of a
    // load, where a multiplication by 1/255 would be off by an ulp for some
    // bytes.
    let lut: [f32; 256] = std::array::from_fn(|v| v as f32 / 255.0);
    let bytes = bytes.as_standard_layout();
    let bytes = bytes.as_slice().expect("standard layout is contiguous");
    let out: Vec<f32> = bytes.iter().map(|&v| lut[usize::from(v)]).collect();
    Array3::from_shape_vec((batch, 1, len), out).expect("length matches shape")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpu::testutil::Rng;
    use ndarray::Array2;

    #[test]
    fn matches_naive_division() {
        let mut rng = Rng::new(10);
        for &(b, l) in &[(1, 1), (3, 17), (2, 4096), (2, 0)] {
            let bytes = rng.bytes((b, l));
            let got = scale_forward(bytes.view());
            assert_eq!(got.dim(), (b, 1, l));
            for ((bi, li), &v) in bytes.indexed_iter() {
                assert_eq!(got[[bi, 0, li]], v as f32 / 255.0);
            }
        }
    }

    #[test]
    fn endpoints_and_transposed_input() {
        let bytes = Array2::from_shape_vec((3, 2), vec![0u8, 255, 1, 128, 254, 7]).unwrap();
        let got = scale_forward(bytes.t());
        assert_eq!(got.dim(), (2, 1, 3));
        assert_eq!(got[[0, 0, 0]], 0.0);
        assert_eq!(got[[1, 0, 0]], 1.0);
        assert_eq!(got[[0, 0, 1]], 1.0 / 255.0);
        assert_eq!(got[[1, 0, 2]], 7.0 / 255.0);
    }
}
