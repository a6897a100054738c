//! The dataset contract (DESIGN.md, "Dataset format"): its name, version and layout, the
//! partial-file state, and the one reader that `sim` and `train` both open datasets with.
//!
//! A lensforge dataset is an HDF5 file whose root carries `format = "lensforge-dataset"` and
//! `format_version = 1`; `/images/<band>` holds (N, H, H) float32 stamps, `/labels/is_lens` N
//! labels of 0 or 1, and `/catalog/<column>` N values each. While `sim generate` writes it, the
//! root's `systems_written` counts the systems in the file: below N, the file is an interrupted
//! run's and only `--resume` may open it. [`Dataset::open`] checks all of this, so that no
//! reader works on a file that breaks the contract.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::h5::reader::{attr_number, AttrValue};
use crate::h5::{H5File, Images, ReadError};

/// The root's `format` attribute.
pub const FORMAT: &str = "lensforge-dataset";
/// The root's `format_version` attribute: the version of the layout described here.
pub const FORMAT_VERSION: u32 = 1;
/// Root attribute counting the systems written so far (N in a finished file).
pub const SYSTEMS_WRITTEN: &str = "systems_written";
/// The group of the image datasets, one per band.
pub const IMAGES: &str = "images";
/// The group of the catalogue columns.
pub const CATALOG: &str = "catalog";
/// The group of the labels.
pub const LABELS: &str = "labels";
/// The label dataset.
pub const IS_LENS: &str = "labels/is_lens";

/// Marks the file `w` writes as a lensforge dataset of this version (its root's `format` and
/// `format_version`).
pub fn mark(w: &mut crate::h5::Writer) -> std::io::Result<()> {
    let root = w.root();
    w.set_attr(root, "format", crate::h5::AttrValue::Str(FORMAT.into()))?;
    w.set_attr(
        root,
        "format_version",
        crate::h5::AttrValue::U32(FORMAT_VERSION),
    )
}

/// The catalogue's column names: every column `sim` writes (DESIGN.md and `datasets/README.md`
/// say what each holds), so that neither program spells one itself. A column of one band is
/// named by [`columns::of_band`]: its stem, `_`, the band's name.
pub mod columns {
    /// The system's index in its run.
    pub const ID: &str = "id";
    /// Lens redshift.
    pub const Z_LENS: &str = "z_lens";
    /// Source redshift.
    pub const Z_SOURCE: &str = "z_source";
    /// Einstein radius from the tangential critical curve, arcsec.
    pub const THETA_E: &str = "theta_e";
    /// Centre (mean of the vertices) of the tangential critical curve, x and y, arcsec.
    pub const CRITICAL_X: &str = "critical_x";
    /// See [`CRITICAL_X`].
    pub const CRITICAL_Y: &str = "critical_y";
    /// Radius circumscribing the tangential caustic about its centre, arcsec.
    pub const CAUSTIC_RADIUS: &str = "caustic_radius";
    /// Area inside the tangential caustic, arcsec².
    pub const CAUSTIC_AREA: &str = "caustic_area";
    /// Centre of the tangential caustic, x and y, arcsec.
    pub const CAUSTIC_X: &str = "caustic_x";
    /// See [`CAUSTIC_X`].
    pub const CAUSTIC_Y: &str = "caustic_y";
    /// Whether the system has a background source (1) or not (0).
    pub const HAS_SOURCE: &str = "has_source";
    /// The unlensed source's centre, x and y, arcsec.
    pub const SOURCE_X: &str = "source_x";
    /// See [`SOURCE_X`].
    pub const SOURCE_Y: &str = "source_y";
    /// Images of the source centre.
    pub const N_IMAGES: &str = "n_images";
    /// Lensed-source pixels above 1σ of the background, detection band.
    pub const N_PIX_SOURCE: &str = "n_pix_source";
    /// 8-connected groups of those pixels, detection band.
    pub const N_SOURCE_GROUPS: &str = "n_source_groups";
    /// Pixels of the lens-plane light above 1σ of the background, detection band.
    pub const N_PIX_LENS: &str = "n_pix_lens";
    /// Lensed-source over lens-plane flux where the source is above 1σ, detection band.
    pub const SB_CONTRAST: &str = "sb_contrast";
    /// Neighbouring galaxies within 3", 5" and 10" of the lens.
    pub const N_GAL_3: &str = "n_gal_3";
    /// See [`N_GAL_3`].
    pub const N_GAL_5: &str = "n_gal_5";
    /// See [`N_GAL_3`].
    pub const N_GAL_10: &str = "n_gal_10";
    /// The lens's velocity dispersion, km/s (population truth).
    pub const SIGMA_V: &str = "sigma_v";
    /// The halo's mass M200, M☉ (population truth).
    pub const HALO_MASS: &str = "halo_mass";
    /// The halo's concentration c200 (population truth).
    pub const CONCENTRATION: &str = "concentration";
    /// The lens's stellar mass, M☉ (population truth).
    pub const STELLAR_MASS: &str = "stellar_mass";
    /// The lens light's half-light radius, arcsec (population truth).
    pub const LENS_R_EFF: &str = "lens_r_eff";
    /// The source's half-light radius, arcsec (population truth).
    pub const SOURCE_R_EFF: &str = "source_r_eff";
    /// The source's magnitude at the population's reference wavelength (population truth).
    pub const SOURCE_MAG_REF: &str = "source_mag_ref";
    /// Neighbouring galaxies drawn (population truth).
    pub const N_NEIGHBOURS: &str = "n_neighbours";
    /// An injected system's cutout: its identifier (`sim inject`).
    pub const CUTOUT_ID: &str = "cutout_id";
    /// 1 where an injected source was added through no mass (`sim inject --unlensed`).
    pub const UNLENSED: &str = "unlensed";
    /// A cutout's sky position, degrees (NaN where its WCS gives none).
    pub const RA: &str = "ra";
    /// See [`RA`].
    pub const DEC: &str = "dec";

    /// Stems of the columns of one band ([`of_band`]).
    pub mod band {
        /// Effective magnification of the lensed source.
        pub const MAG_EFF: &str = "mag_eff";
        /// Lensed-source pixels above 1σ of the background.
        pub const N_PIX_SOURCE: &str = "n_pix_source";
        /// 8-connected groups of those pixels.
        pub const N_SOURCE_GROUPS: &str = "n_source_groups";
        /// Background σ, e⁻/s per pixel.
        pub const BG_SIGMA: &str = "bg_sigma";
        /// The lens light's magnitude, AB.
        pub const LENS_MAG: &str = "lens_mag";
        /// The lens light's flux, e⁻/s.
        pub const LENS_FLUX: &str = "lens_flux";
        /// The source's unlensed magnitude, AB (+inf without a source).
        pub const SOURCE_MAG: &str = "source_mag";
        /// The lensed source's flux in the stamp, e⁻/s (PSF-convolved).
        pub const LENSED_SOURCE_FLUX: &str = "lensed_source_flux";
        /// An injected system's cutout file (`sim inject`).
        pub const CUTOUT_PATH: &str = "cutout_path";
        /// An injected system's cutout PSF file (`sim inject`).
        pub const CUTOUT_PSF: &str = "cutout_psf";
        /// An injected system's cutout zero point: the AB magnitude of one pixel unit.
        pub const ZERO_POINT: &str = "zero_point";
    }

    /// The column of `band` whose stem is `stem` (one of [`band`]'s): `<stem>_<band>`.
    pub fn of_band(stem: &str, band: &str) -> String {
        format!("{stem}_{band}")
    }

    /// The effective magnification of `band`'s column: `mag_eff_<band>`.
    pub fn mag_eff(band: &str) -> String {
        of_band(self::band::MAG_EFF, band)
    }
}

/// A dataset that cannot be opened or read: the file and what is wrong, with the object's path
/// inside the file where there is one.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{file}: {message}")]
pub struct DatasetError {
    /// The file.
    pub file: PathBuf,
    /// What is wrong.
    pub message: String,
}

impl From<ReadError> for DatasetError {
    fn from(e: ReadError) -> Self {
        Self {
            file: e.path,
            message: e.message,
        }
    }
}

/// An open dataset whose layout has been checked.
#[derive(Debug)]
pub struct Dataset {
    file: H5File,
    path: PathBuf,
    root: HashMap<String, AttrValue>,
    /// (band, stamp side), in the file's order.
    bands: Vec<(String, usize)>,
    /// The image datasets, in `bands` order.
    images: Vec<Images>,
    /// Catalogue column names, sorted.
    columns: Vec<String>,
    n: usize,
}

impl Dataset {
    /// Opens a finished dataset; a partial file (fewer systems written than it declares) is
    /// refused, naming how many it holds and `--resume`.
    pub fn open(path: &Path) -> Result<Self, DatasetError> {
        let d = Self::open_partial(path)?;
        if let Some(written) = d.systems_written() {
            if written < d.n {
                return Err(d.error(format!(
                    "holds {written} of its {} systems: the partial file of an interrupted run; \
                     finish it with `sim generate … --resume` (the same command and --out)",
                    d.n
                )));
            }
        }
        Ok(d)
    }

    /// Opens a dataset whether or not it is finished (for resuming one), checking its format
    /// attributes and that every image, label and column dataset holds one entry per system.
    pub fn open_partial(path: &Path) -> Result<Self, DatasetError> {
        let bad = |message: String| DatasetError {
            file: path.into(),
            message,
        };
        let file = H5File::open(path)?;
        let root = file.group_attrs("/")?;
        let format = root
            .get("format")
            .and_then(|v| v.as_str())
            .ok_or_else(|| bad("no `format` attribute: not a lensforge dataset".into()))?;
        if format != FORMAT {
            return Err(bad(format!("format `{format}` is not `{FORMAT}`")));
        }
        match root.get("format_version").and_then(|v| v.as_u64()) {
            Some(v) if v == u64::from(FORMAT_VERSION) => {}
            Some(v) => {
                return Err(bad(format!(
                    "format_version {v}: this program reads version {FORMAT_VERSION}"
                )))
            }
            None => return Err(bad("no `format_version` attribute".into())),
        }
        let labels = file.dataset(IS_LENS)?;
        let n = labels
            .shape()
            .map_err(|e| file.error(&format!("/{IS_LENS}"), e))?
            .first()
            .copied()
            .unwrap_or(0) as usize;
        let names = file
            .dataset_names(IMAGES)
            .map_err(|_| bad(format!("no /{IMAGES} group")))?;
        if names.is_empty() {
            return Err(bad(format!("/{IMAGES} holds no band")));
        }
        let mut bands = Vec::new();
        let mut images = Vec::new();
        for b in names {
            let im = file.images(&format!("{IMAGES}/{b}"))?;
            let [count, h, w] = im.shape();
            if h != w {
                return Err(bad(format!(
                    "/{IMAGES}/{b} holds stamps of {h} × {w} pixels: stamps are square"
                )));
            }
            if count != n {
                return Err(bad(format!(
                    "/{IMAGES}/{b} holds {count} systems, /{IS_LENS} {n} labels"
                )));
            }
            bands.push((b, h));
            images.push(im);
        }
        // The catalogue is optional (a dataset assembled by hand may have none), but one that is
        // there must read.
        let groups = file
            .inner()
            .group("/")
            .and_then(|g| g.groups())
            .map_err(|e| file.error("/", e))?;
        let mut columns = match groups.iter().any(|g| g == CATALOG) {
            true => file.dataset_names(CATALOG)?,
            false => Vec::new(),
        };
        columns.sort();
        for c in &columns {
            let at = format!("{CATALOG}/{c}");
            let shape = file
                .dataset(&at)?
                .shape()
                .map_err(|e| file.error(&format!("/{at}"), e))?;
            if shape != [n as u64] {
                return Err(bad(format!(
                    "/{at} has shape {shape:?}: expected one value per system ({n})"
                )));
            }
        }
        Ok(Self {
            file,
            path: path.into(),
            root,
            bands,
            images,
            columns,
            n,
        })
    }

    /// An error about this file.
    pub fn error(&self, message: String) -> DatasetError {
        DatasetError {
            file: self.path.clone(),
            message,
        }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The HDF5 file, for what the contract leaves to each program (typed catalogue reads).
    pub fn h5(&self) -> &H5File {
        &self.file
    }

    /// Number of systems N.
    pub fn len(&self) -> usize {
        self.n
    }

    /// Whether the dataset holds no system.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// (band, stamp side in pixels), in the file's order.
    pub fn bands(&self) -> &[(String, usize)] {
        &self.bands
    }

    /// Catalogue column names, sorted.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// A root attribute.
    pub fn attr(&self, name: &str) -> Option<&AttrValue> {
        self.root.get(name)
    }

    /// A string attribute of the root.
    pub fn attr_str(&self, name: &str) -> Option<&str> {
        self.root.get(name).and_then(|v| v.as_str())
    }

    /// The systems a file holds while it is written (`systems_written`); None in a file without
    /// the attribute (one made by other means).
    pub fn systems_written(&self) -> Option<usize> {
        self.root
            .get(SYSTEMS_WRITTEN)
            .and_then(|v| v.as_u64())
            .map(|v| v as usize)
    }

    /// The image dataset of `band`.
    pub fn images(&self, band: &str) -> Result<&Images, DatasetError> {
        self.bands
            .iter()
            .position(|(b, _)| b == band)
            .map(|i| &self.images[i])
            .ok_or_else(|| self.error(format!("no band {band} in /{IMAGES}")))
    }

    /// Labels of systems [a, b): 0 or 1; anything else is an error naming the system.
    pub fn labels(&self, a: usize, b: usize) -> Result<Vec<u8>, DatasetError> {
        let labels = self
            .file
            .dataset(IS_LENS)?
            .read_u8_rows(a as u64, b.saturating_sub(a) as u64)
            .map_err(|e| self.file.error(&format!("/{IS_LENS}"), e))?;
        match labels.iter().position(|&l| l > 1) {
            None => Ok(labels),
            Some(i) => Err(self.error(format!(
                "/{IS_LENS} holds {} for system {}: labels are 0 or 1",
                labels[i],
                a + i
            ))),
        }
    }

    /// Catalogue column `name` as f64, whatever its stored numeric type.
    pub fn column_f64(&self, name: &str) -> Result<Vec<f64>, DatasetError> {
        let at = format!("{CATALOG}/{name}");
        self.file
            .dataset(&at)?
            .read_f64()
            .map_err(|e| self.error(format!("/{at}: {e}")))
    }

    /// The attributes of `/labels/is_lens` (the label's criteria).
    pub fn label_attrs(&self) -> Result<HashMap<String, AttrValue>, DatasetError> {
        Ok(self
            .file
            .dataset(IS_LENS)?
            .attrs()
            .map_err(|e| self.file.error(&format!("/{IS_LENS}"), e))?)
    }

    /// A numeric attribute of `/labels/is_lens`, as f64.
    pub fn label_attr(&self, name: &str) -> Result<f64, DatasetError> {
        self.label_attrs()?
            .get(name)
            .and_then(attr_number)
            .ok_or_else(|| self.error(format!("/{IS_LENS} has no numeric attribute `{name}`")))
    }
}
