//! New float32 buffers filled in pieces on rayon's threads. A `vec![0.0; n]` before a parallel
//! loop is one serial pass over the whole result (and its first-touch page faults) while the other
//! threads wait; on 2 cores such passes took several percent of a training step. Here each piece
//! is zeroed by the thread that then computes it.

use rayon::prelude::*;
use std::mem::MaybeUninit;

/// A vector of `len` values made in pieces of `piece` values (the last one shorter if `len` is
/// not a multiple), each zero-filled and then handed to `fill` with its index and a per-thread
/// state from `init`. Returns the vector and `fill`'s results, in the pieces' order.
pub fn par_pieces<T, R, I, F>(len: usize, piece: usize, init: I, fill: F) -> (Vec<f32>, Vec<R>)
where
    R: Send,
    I: Fn() -> T + Sync + Send,
    F: Fn(&mut T, usize, &mut [f32]) -> R + Sync + Send,
{
    let mut values: Vec<f32> = Vec::with_capacity(len);
    let results = values.spare_capacity_mut()[..len]
        .par_chunks_mut(piece.max(1))
        .enumerate()
        .map_init(init, |state, (i, chunk)| {
            for v in chunk.iter_mut() {
                v.write(0.0);
            }
            // SAFETY: every value of `chunk` was initialised just above, and `MaybeUninit<f32>`
            // has the layout of `f32`.
            let chunk = unsafe { &mut *(chunk as *mut [MaybeUninit<f32>] as *mut [f32]) };
            fill(state, i, chunk)
        })
        .collect();
    // SAFETY: the pieces cover the first `len` values, and each was initialised above.
    unsafe { values.set_len(len) };
    (values, results)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_is_written_once_in_order() {
        // Each piece writes its index and position; the last piece is short; an empty vector
        // has no pieces. The expected values follow from the definition.
        let (v, r) = par_pieces(
            10,
            4,
            || (),
            |_, i, p| {
                for (j, x) in p.iter_mut().enumerate() {
                    *x += (i * 100 + j) as f32;
                }
                p.len()
            },
        );
        assert_eq!(v, [0., 1., 2., 3., 100., 101., 102., 103., 200., 201.]);
        assert_eq!(r, [4, 4, 2]);
        let (v, r) = par_pieces(0, 4, || (), |_, _, _| 1);
        assert!(v.is_empty() && r.is_empty());
    }
}
