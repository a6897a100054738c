//! The mass and light components in the layout the CUDA kernels read (`struct MassComponent`
//! in `kernels/mass.cu`, `struct LightComponent` in `kernels/light.cu`): a leaf module, so that
//! each profile writes its own component (`…::gpu()`) without importing the ray shooter, and
//! the ray shooter (`raytrace::gpu`) gathers them.

/// Kind codes of [`GpuLight::kind`], as `LIGHT_*` in `kernels/light.cu`.
pub mod light_kind {
    /// Sersic: p = [q, 1/r_eff², 1/(2n), b_n, i0 (× weight), r² beyond which it is 0].
    pub const SERSIC: u32 = 0;
    /// Inclined spiral disc: p = [1/h, 1/cos i, arms, 1/tan(pitch), amplitude, phase, i0].
    pub const DISC: u32 = 1;
    /// Circular Gaussian (a clumpy source's knot): p = [1/(2σ²), i0].
    pub const GAUSSIAN: u32 = 2;
}

/// One elementary light profile as the kernels read it (`struct LightComponent`, 56 bytes):
/// its kind, where its fluxes start in the flux table, centre (arcsec), the major axis's cos
/// and sin, and eight parameters ([`light_kind`]).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct GpuLight {
    /// Profile code ([`light_kind`]).
    pub kind: u32,
    /// Index of its flux in the first band of the flux table; band b follows at + b.
    pub flux: u32,
    /// Centre x, arcsec.
    pub x0: f32,
    /// Centre y, arcsec.
    pub y0: f32,
    /// cos of the position angle.
    pub cos_phi: f32,
    /// sin of the position angle.
    pub sin_phi: f32,
    /// Profile parameters ([`light_kind`]).
    pub p: [f32; 8],
}

impl GpuLight {
    /// The 56 bytes the kernels read, little-endian.
    pub fn to_bytes(&self) -> [u8; 56] {
        let mut b = [0u8; 56];
        b[..4].copy_from_slice(&self.kind.to_le_bytes());
        b[4..8].copy_from_slice(&self.flux.to_le_bytes());
        let head = [self.x0, self.y0, self.cos_phi, self.sin_phi];
        for (k, v) in head.iter().chain(&self.p).enumerate() {
            b[8 + 4 * k..12 + 4 * k].copy_from_slice(&v.to_le_bytes());
        }
        b
    }
}

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

// SAFETY: #[repr(C)], fourteen 4-byte plain fields with no padding, as `struct LightComponent`.
#[cfg(feature = "cuda")]
unsafe impl cudarc::driver::DeviceRepr for GpuLight {}
