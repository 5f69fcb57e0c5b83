//! Output buffers reused across calls (the `*_into` kernels).

use ndarray::Array3;

/// Makes `out` a `shape` array, keeping its allocation when it is large
/// enough: batches of different sizes (a hook's last, partial chunk) then
/// cost no fresh, page-faulting memory. Contents are unspecified; callers
/// overwrite every element.
pub(crate) fn reshape_reusing(out: &mut Array3<f32>, shape: (usize, usize, usize)) {
    if out.dim() == shape && out.is_standard_layout() {
        return;
    }
    let (mut data, offset) =
        std::mem::replace(out, Array3::zeros((0, 0, 0))).into_raw_vec_and_offset();
    if offset.unwrap_or(0) != 0 {
        // Not the start of its allocation (never so for our arrays): start over.
        data = Vec::new();
    }
    data.resize(shape.0 * shape.1 * shape.2, 0.0);
    *out = Array3::from_shape_vec(shape, data).expect("length matches the shape");
}

/// The first `len` values of `buf`, which only grows (with zeros) to hold
/// them: nothing is filled again for a shorter or equal length. Contents
/// are unspecified; callers overwrite what they read.
pub(crate) fn grown<T: Copy + Default>(buf: &mut Vec<T>, len: usize) -> &mut [T] {
    if buf.len() < len {
        buf.resize(len, T::default());
    }
    &mut buf[..len]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_allocation_when_shrinking_and_growing_back() {
        let mut a = Array3::<f32>::zeros((4, 2, 8));
        let ptr = a.as_ptr();
        reshape_reusing(&mut a, (1, 2, 8));
        assert_eq!(a.dim(), (1, 2, 8));
        reshape_reusing(&mut a, (4, 2, 8));
        assert_eq!(a.dim(), (4, 2, 8));
        assert_eq!(a.as_ptr(), ptr);
        reshape_reusing(&mut a, (5, 2, 8));
        assert_eq!(a.len(), 80);
    }
}
