//! What the GPU ray shooter shares with its CUDA kernels (`kernels/mass.cu`): the kernel source
//! and the mass components in the layout the kernels read. Nothing here needs a GPU; the
//! launches live behind the `cuda` feature.
//!
//! Every component becomes one [`GpuMass`] in single precision, with its frame's trigonometry
//! precomputed as on the CPU; a batch of systems is the concatenation of their components with
//! `first[s]..first[s + 1]` the components of system s ([`MassBatch`]).

use crate::mass::{Lens, Mass};

/// The CUDA C source of the deflection kernels (`deflect_points`, `deflect_grid`), compiled at
/// run time by NVRTC.
pub const MASS_KERNELS: &str = include_str!("../../../kernels/mass.cu");

/// Kind codes of [`GpuMass::kind`], as `MASS_*` in `kernels/mass.cu`.
pub mod kind {
    /// Singular isothermal ellipsoid (and SIS): p0 = b = θ_E √q, p1 = q.
    pub const SIE: u32 = 0;
    /// Truncated elliptical SIS: p0 = b, p1 = q, p2 = s = r_trunc/√q.
    pub const TESIS: u32 = 1;
    /// NFW with elliptical potential: p0 = r_s (arcsec), p1 = κ_s, p2 = 1 − e, p3 = 1 + e.
    pub const NFW: u32 = 2;
    /// External shear: p0 = γ₁, p1 = γ₂.
    pub const SHEAR: u32 = 3;
    /// Point mass: p0 = θ_E² (arcsec²).
    pub const POINT: u32 = 4;
}

/// One mass component as the kernels read it (`struct MassComponent`, 36 bytes): centre
/// (x0, y0) in arcsec, the major axis's cos and sin, and four profile parameters ([`kind`]).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct GpuMass {
    /// Profile code ([`kind`]).
    pub kind: u32,
    /// Centre x, arcsec.
    pub x0: f32,
    /// Centre y, arcsec.
    pub y0: f32,
    /// cos of the position angle.
    pub cos_phi: f32,
    /// sin of the position angle.
    pub sin_phi: f32,
    /// Profile parameters p0…p3 ([`kind`]).
    pub p: [f32; 4],
}

impl GpuMass {
    /// The component `m` in the kernels' layout.
    pub fn of(m: &Mass) -> Self {
        match m {
            Mass::Sie(p) => p.gpu(),
            Mass::Nfw(p) => p.gpu(),
            Mass::Shear(p) => p.gpu(),
            Mass::Tesis(p) => p.gpu(),
            Mass::PointMass(p) => p.gpu(),
        }
    }

    /// The 36 bytes the kernels read, little-endian.
    pub fn to_bytes(&self) -> [u8; 36] {
        let mut b = [0u8; 36];
        b[..4].copy_from_slice(&self.kind.to_le_bytes());
        let floats = [
            self.x0,
            self.y0,
            self.cos_phi,
            self.sin_phi,
            self.p[0],
            self.p[1],
            self.p[2],
            self.p[3],
        ];
        for (k, v) in floats.iter().enumerate() {
            b[4 + 4 * k..8 + 4 * k].copy_from_slice(&v.to_le_bytes());
        }
        b
    }
}

// SAFETY: #[repr(C)], nine 4-byte plain fields with no padding: bit-copyable to the device,
// where `struct MassComponent` reads the same bytes.
#[cfg(feature = "cuda")]
unsafe impl cudarc::driver::DeviceRepr for GpuMass {}

/// Many systems' mass components for one launch.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MassBatch {
    /// Every system's components, one after another.
    pub components: Vec<GpuMass>,
    /// System s owns `components[first[s]..first[s + 1]]`; `first.len()` = systems + 1.
    pub first: Vec<u32>,
}

impl MassBatch {
    /// The batch of `lenses`, in order.
    pub fn new<'a>(lenses: impl IntoIterator<Item = &'a Lens>) -> Self {
        let mut b = Self {
            components: Vec::new(),
            first: vec![0],
        };
        for lens in lenses {
            b.components.extend(lens.components.iter().map(GpuMass::of));
            b.first.push(b.components.len() as u32);
        }
        b
    }

    /// Systems in the batch.
    pub fn systems(&self) -> usize {
        self.first.len() - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_is_the_kernels() {
        // kernels/mass.cu: struct MassComponent { unsigned int kind; float x0, y0, cos_phi,
        // sin_phi; float p0, p1, p2, p3; } — 9 four-byte fields, no padding.
        assert_eq!(std::mem::size_of::<GpuMass>(), 36);
        assert_eq!(std::mem::align_of::<GpuMass>(), 4);
        let m = GpuMass {
            kind: 2,
            x0: 1.5,
            p: [0.0, 0.0, 0.0, -2.0],
            ..Default::default()
        };
        let b = m.to_bytes();
        assert_eq!(&b[..4], &2u32.to_le_bytes());
        assert_eq!(&b[4..8], &1.5f32.to_le_bytes());
        assert_eq!(&b[32..], &(-2.0f32).to_le_bytes());
    }

    #[test]
    fn batches_index_their_systems() {
        use crate::mass::{Shear, Sie, SieParams};
        let sie = Mass::Sie(Sie::new(&SieParams {
            theta_e: 1.0,
            q: 0.8,
            phi: 30.0,
            center: [0.0, 0.0],
        }));
        let shear = Mass::Shear(Shear::from_components(0.05, -0.02));
        let a = Lens::new(vec![sie.clone(), shear]);
        let b = Lens::new(vec![sie]);
        let batch = MassBatch::new([&a, &b, &Lens::default()]);
        assert_eq!(batch.first, vec![0, 2, 3, 3]);
        assert_eq!(batch.systems(), 3);
        assert_eq!(batch.components[1].kind, kind::SHEAR);
        assert_eq!(batch.components[0], batch.components[2]);
    }
}
