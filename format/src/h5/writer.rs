//! A streaming HDF5 writer for the files lensforge makes: groups with attributes, contiguous
//! 1-D datasets of fixed length written slice by slice, and 3-D image datasets stored one system
//! per chunk whose chunks arrive already filtered (shuffle + deflate, compressed on the worker
//! threads), each written once at the end of the file.
//!
//! Written here rather than taken from a crate: `hdf5-pure` (the maintained pure-Rust HDF5)
//! builds a file in memory (`FileBuilder`) and appends in place to rank-1 datasets only, so it
//! cannot stream 100,000 systems of (N, 200, 200) chunks; the C library needs a system
//! installation. The files are plain HDF5 1.8 structures that libhdf5, h5py and `hdf5-pure` read
//! (tests/libhdf5.rs, sim/tests/h5py_view.rs):
//! - a version-2 superblock and version-2 object headers with checksums;
//! - groups that hold their links in their headers (link info, group info, link messages);
//! - attributes in the headers, strings as variable-length UTF-8 in one global heap collection;
//! - image chunks indexed by a version-1 B-tree (layout message version 3), built complete over
//!   the chunks written so far: chunk k is system k, written in order.
//!
//! Metadata is rewritten in place at every [`flush`](Writer::flush): the tree nodes touched since
//! the last one, every object header (one that grew is moved to the end of the file), the
//! heap, then the superblock with the new end of file. Between flushes the file on disk stays the
//! one of the last flush, with more bytes after its end.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;

use super::messages::{self as msg, Dtype, UNDEFINED};

/// Entries of a B-tree node: 2K with libhdf5's K = 32 for chunk indexes, which a reader
/// assumes when the superblock (version 2) records no other.
const NODE_ENTRIES: u64 = 64;

/// An object of the file (a group or a dataset), as [`Writer`] hands it out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ObjectId(usize);

/// An attribute's value.
#[derive(Clone, Debug, PartialEq)]
pub enum AttrValue {
    /// A scalar unsigned 32-bit integer.
    U32(u32),
    /// A scalar unsigned 64-bit integer.
    U64(u64),
    /// A scalar float64.
    F64(f64),
    /// A scalar variable-length UTF-8 string.
    Str(String),
}

#[derive(Debug)]
enum Stored {
    Scalar(Dtype, Vec<u8>),
    /// Index into the writer's strings.
    Str(usize),
}

#[derive(Clone, Copy, Debug)]
struct ChunkEntry {
    address: u64,
    size: u32,
    filter_mask: u32,
}

#[derive(Debug)]
struct Images {
    /// (N, H, W) in elements; chunks are (1, H, W).
    shape: [u64; 3],
    deflate_level: u32,
    chunks: Vec<ChunkEntry>,
    /// Chunks whose tree entries were written at the last flush.
    flushed: usize,
    /// Addresses of the tree's nodes, level by level from the leaves; empty when N = 0.
    nodes: Vec<Vec<u64>>,
}

#[derive(Debug)]
enum Body {
    Group(Vec<(String, usize)>),
    Contiguous {
        dtype: Dtype,
        len: u64,
        address: u64,
    },
    Images(Images),
}

#[derive(Debug)]
struct Object {
    /// Address and allocated length of the header, once written.
    header: Option<(u64, u64)>,
    attrs: Vec<(String, Stored)>,
    body: Body,
}

/// Why a write was refused: the caller broke the layout, not the disk.
fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message)
}

/// A file being written. Nothing is valid HDF5 until the first [`flush`](Self::flush).
#[derive(Debug)]
pub struct Writer {
    file: File,
    eof: u64,
    objects: Vec<Object>,
    strings: Vec<Vec<u8>>,
    /// The global heap collection: address, allocated length, strings it holds.
    heap: Option<(u64, u64, usize)>,
}

fn key_len(rank: usize) -> u64 {
    // Chunk size, filter mask, and an offset per dimension plus one for the element.
    8 + 8 * (rank as u64 + 1)
}

fn node_len(rank: usize) -> u64 {
    24 + NODE_ENTRIES * 8 + (NODE_ENTRIES + 1) * key_len(rank)
}

impl Writer {
    /// Creates (or truncates) `path` with an empty root group.
    pub fn create(path: &Path) -> io::Result<Self> {
        let file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)?;
        Ok(Self {
            file,
            eof: msg::SUPERBLOCK_LEN,
            objects: vec![Object {
                header: None,
                attrs: Vec::new(),
                body: Body::Group(Vec::new()),
            }],
            strings: Vec::new(),
            heap: None,
        })
    }

    /// The root group.
    pub fn root(&self) -> ObjectId {
        ObjectId(0)
    }

    fn allocate(&mut self, len: u64) -> u64 {
        let at = self.eof;
        self.eof += len;
        at
    }

    fn add(&mut self, parent: ObjectId, name: &str, body: Body) -> io::Result<ObjectId> {
        if name.is_empty() || name.len() > 255 || !name.is_ascii() || name.contains(['/', '\0']) {
            return Err(invalid(format!(
                "`{name}` is not a link name this writer stores (1 to 255 ASCII characters, no `/`)"
            )));
        }
        let id = self.objects.len();
        match &mut self.objects[parent.0].body {
            Body::Group(links) => {
                if links.iter().any(|(n, _)| n == name) {
                    return Err(invalid(format!("the group already holds `{name}`")));
                }
                links.push((name.to_string(), id));
            }
            _ => return Err(invalid(format!("`{name}`: the parent is not a group"))),
        }
        self.objects.push(Object {
            header: None,
            attrs: Vec::new(),
            body,
        });
        Ok(ObjectId(id))
    }

    /// Creates the group `name` in `parent`.
    pub fn create_group(&mut self, parent: ObjectId, name: &str) -> io::Result<ObjectId> {
        self.add(parent, name, Body::Group(Vec::new()))
    }

    /// Creates the 1-D dataset `name` of `len` elements in `parent`, stored contiguously and
    /// zero until written.
    pub fn create_column(
        &mut self,
        parent: ObjectId,
        name: &str,
        dtype: Dtype,
        len: u64,
    ) -> io::Result<ObjectId> {
        if dtype == Dtype::Str(0) {
            return Err(invalid(format!("`{name}`: strings of 0 bytes")));
        }
        let bytes = len * dtype.size() as u64;
        let address = if len == 0 {
            UNDEFINED
        } else {
            self.allocate(bytes)
        };
        self.add(
            parent,
            name,
            Body::Contiguous {
                dtype,
                len,
                address,
            },
        )
    }

    /// Creates the float32 dataset `name` of shape (n, h, w) in `parent`, chunked (1, h, w)
    /// through shuffle and deflate at `deflate_level`; its chunks come through
    /// [`write_chunk`](Self::write_chunk).
    pub fn create_images(
        &mut self,
        parent: ObjectId,
        name: &str,
        shape: [u64; 3],
        deflate_level: u32,
    ) -> io::Result<ObjectId> {
        if shape[1] == 0 || shape[2] == 0 {
            return Err(invalid(format!("`{name}`: images of {shape:?} pixels")));
        }
        let mut nodes = Vec::new();
        let mut count = shape[0].div_ceil(NODE_ENTRIES);
        while count > 0 {
            let len = node_len(3);
            let level: Vec<u64> = (0..count).map(|_| self.allocate(len)).collect();
            nodes.push(level);
            count = if count == 1 {
                0
            } else {
                count.div_ceil(NODE_ENTRIES)
            };
        }
        self.add(
            parent,
            name,
            Body::Images(Images {
                shape,
                deflate_level,
                chunks: Vec::new(),
                flushed: 0,
                nodes,
            }),
        )
    }

    /// Sets (or replaces) the attribute `name` of `object`.
    pub fn set_attr(&mut self, object: ObjectId, name: &str, value: AttrValue) -> io::Result<()> {
        if name.is_empty() || !name.is_ascii() || name.contains('\0') {
            return Err(invalid(format!(
                "`{name}` is not an attribute name (ASCII)"
            )));
        }
        let stored = match value {
            AttrValue::U32(v) => Stored::Scalar(Dtype::U32, v.to_le_bytes().to_vec()),
            AttrValue::U64(v) => Stored::Scalar(Dtype::U64, v.to_le_bytes().to_vec()),
            AttrValue::F64(v) => Stored::Scalar(Dtype::F64, v.to_le_bytes().to_vec()),
            AttrValue::Str(s) => {
                self.strings.push(s.into_bytes());
                Stored::Str(self.strings.len() - 1)
            }
        };
        let attrs = &mut self.objects[object.0].attrs;
        match attrs.iter_mut().find(|(n, _)| n == name) {
            Some(a) => a.1 = stored,
            None => attrs.push((name.to_string(), stored)),
        }
        Ok(())
    }

    /// Writes `bytes` (little-endian elements) into the column `object` from element `start`.
    pub fn write_column(&mut self, object: ObjectId, start: u64, bytes: &[u8]) -> io::Result<()> {
        let Body::Contiguous {
            dtype,
            len,
            address,
        } = self.objects[object.0].body
        else {
            return Err(invalid("not a column".into()));
        };
        let size = dtype.size() as u64;
        let count = bytes.len() as u64 / size;
        if !(bytes.len() as u64).is_multiple_of(size) || start + count > len {
            return Err(invalid(format!(
                "{} bytes from element {start} do not fit a column of {len} elements of {size} bytes",
                bytes.len()
            )));
        }
        if count > 0 {
            self.file.write_all_at(bytes, address + start * size)?;
        }
        Ok(())
    }

    /// Chunks of `object` written so far (system k is chunk k).
    pub fn chunks_written(&self, object: ObjectId) -> usize {
        match &self.objects[object.0].body {
            Body::Images(im) => im.chunks.len(),
            _ => 0,
        }
    }

    /// Writes the next chunk of the image dataset `object`: one system's stamp as the filters
    /// left it, with HDF5's filter mask (bit i set: filter i was skipped).
    pub fn write_chunk(
        &mut self,
        object: ObjectId,
        bytes: &[u8],
        filter_mask: u32,
    ) -> io::Result<()> {
        let address = self.eof;
        let Body::Images(im) = &mut self.objects[object.0].body else {
            return Err(invalid("not an image dataset".into()));
        };
        if im.chunks.len() as u64 >= im.shape[0] {
            return Err(invalid(format!(
                "the dataset holds {} systems, all written",
                im.shape[0]
            )));
        }
        let size = u32::try_from(bytes.len())
            .map_err(|_| invalid(format!("a chunk of {} bytes", bytes.len())))?;
        im.chunks.push(ChunkEntry {
            address,
            size,
            filter_mask,
        });
        self.file.write_all_at(bytes, address)?;
        self.eof += bytes.len() as u64;
        Ok(())
    }

    fn heap_reference(&self, index: usize) -> Vec<u8> {
        let (address, _, _) = self.heap.expect("the heap is written before the headers");
        msg::vlen_reference(self.strings[index].len(), address, index as u32 + 1)
    }

    fn header_messages(&self, id: usize) -> Vec<(u8, Vec<u8>)> {
        let o = &self.objects[id];
        let address_of = |child: usize| self.objects[child].header.map_or(UNDEFINED, |h| h.0);
        let mut m = Vec::new();
        match &o.body {
            Body::Group(links) => {
                m.push((0x02, msg::link_info()));
                m.push((0x0A, msg::group_info()));
                for (name, child) in links {
                    m.push((0x06, msg::hard_link(name, address_of(*child))));
                }
            }
            Body::Contiguous {
                dtype,
                len,
                address,
            } => {
                m.push((0x01, msg::dataspace(&[*len])));
                m.push((0x03, msg::datatype(*dtype)));
                m.push((0x05, msg::fill_value(1)));
                m.push((
                    0x08,
                    msg::contiguous_layout(*address, len * dtype.size() as u64),
                ));
            }
            Body::Images(im) => {
                let root = match (im.chunks.is_empty(), im.nodes.last()) {
                    (false, Some(top)) => top[0],
                    _ => UNDEFINED,
                };
                m.push((0x01, msg::dataspace(&im.shape)));
                m.push((0x03, msg::datatype(Dtype::F32)));
                m.push((0x05, msg::fill_value(3)));
                m.push((
                    0x08,
                    msg::chunked_layout(root, &[1, im.shape[1], im.shape[2]], 4),
                ));
                m.push((0x0B, msg::shuffle_deflate_pipeline(4, im.deflate_level)));
            }
        }
        for (name, value) in &o.attrs {
            let a = match value {
                Stored::Scalar(dtype, bytes) => {
                    msg::attribute(name, &msg::datatype(*dtype), &msg::dataspace(&[]), bytes)
                }
                Stored::Str(i) => msg::attribute(
                    name,
                    &msg::vlen_string_datatype(),
                    &msg::dataspace(&[]),
                    &self.heap_reference(*i),
                ),
            };
            m.push((0x0C, a));
        }
        m
    }

    /// The B-tree node `j` of `level` of an image dataset, over the chunks written.
    fn tree_node(im: &Images, level: usize, j: u64) -> Vec<u8> {
        let written = im.chunks.len() as u64;
        let span = NODE_ENTRIES.pow(level as u32); // chunks under one child
        let first = j * NODE_ENTRIES * span;
        let end = ((j + 1) * NODE_ENTRIES * span).min(written);
        let key = |k: u64, size: u32, mask: u32| {
            let mut b = Vec::with_capacity(key_len(3) as usize);
            b.extend_from_slice(&size.to_le_bytes());
            b.extend_from_slice(&mask.to_le_bytes());
            for offset in [k, 0, 0, 0] {
                b.extend_from_slice(&offset.to_le_bytes());
            }
            b
        };
        let children: Vec<u64> = (first..end).step_by(span as usize).collect();
        let count = im.nodes[level].len() as u64;
        let sibling = |i: u64| {
            let starts_written = i * NODE_ENTRIES * span < written;
            if i < count && starts_written {
                im.nodes[level][i as usize]
            } else {
                UNDEFINED
            }
        };
        let mut b = b"TREE".to_vec();
        b.push(1); // raw data chunks
        b.push(level as u8);
        b.extend_from_slice(&(children.len() as u16).to_le_bytes());
        let left = if j == 0 { UNDEFINED } else { sibling(j - 1) };
        b.extend_from_slice(&left.to_le_bytes());
        b.extend_from_slice(&sibling(j + 1).to_le_bytes());
        for &c in &children {
            let e = im.chunks[c as usize];
            b.extend_from_slice(&key(c, e.size, e.filter_mask));
            let child = if level == 0 {
                e.address
            } else {
                im.nodes[level - 1][(c / span) as usize]
            };
            b.extend_from_slice(&child.to_le_bytes());
        }
        // The right key: one past the last chunk under the node.
        b.extend_from_slice(&key(end, 0, 0));
        b.resize(node_len(3) as usize, 0);
        b
    }

    /// Writes the metadata so that the file on disk is a complete HDF5 file of what was given
    /// so far: the new tree nodes, the heap, every object header, the superblock.
    pub fn flush(&mut self) -> io::Result<()> {
        // The heap: rewritten when strings were added, moved when it outgrew its space.
        let n_strings = self.strings.len();
        if self.heap.is_none_or(|h| h.2 != n_strings) {
            let bytes = msg::global_heap(&self.strings);
            let (address, capacity) = match self.heap {
                Some((a, cap, _)) if bytes.len() as u64 <= cap => (a, cap),
                _ => (self.allocate(bytes.len() as u64), bytes.len() as u64),
            };
            let mut padded = bytes;
            padded.resize(capacity as usize, 0);
            // The collection's own length field says how much of it is used.
            self.file.write_all_at(&padded, address)?;
            self.heap = Some((address, capacity, n_strings));
        }
        // The tree nodes that changed: those over the chunks written since the last flush, and
        // the nodes before them, whose right sibling may have appeared.
        for id in 0..self.objects.len() {
            let Body::Images(im) = &self.objects[id].body else {
                continue;
            };
            let written = im.chunks.len() as u64;
            if written == im.flushed as u64 {
                continue;
            }
            let from = (im.flushed as u64).saturating_sub(1);
            for level in 0..im.nodes.len() {
                let per_node = NODE_ENTRIES.pow(level as u32 + 1);
                for j in from / per_node..=(written - 1) / per_node {
                    let node = Self::tree_node(im, level, j);
                    self.file.write_all_at(&node, im.nodes[level][j as usize])?;
                }
            }
            if let Body::Images(im) = &mut self.objects[id].body {
                im.flushed = im.chunks.len();
            }
        }
        // Headers: sizes first (a link's size does not depend on its address), so that every
        // object has its address before its parent's links are written.
        for id in 0..self.objects.len() {
            let len = msg::object_header(&self.header_messages(id), 0).len() as u64;
            match self.objects[id].header {
                Some((_, capacity)) if len <= capacity => {}
                _ => {
                    let capacity = len + 64;
                    let address = self.allocate(capacity);
                    self.objects[id].header = Some((address, capacity));
                }
            }
        }
        for id in 0..self.objects.len() {
            let (address, capacity) = self.objects[id].header.expect("allocated above");
            let header = msg::object_header(&self.header_messages(id), capacity as usize);
            self.file.write_all_at(&header, address)?;
        }
        if self.file.metadata()?.len() < self.eof {
            self.file.set_len(self.eof)?;
        }
        let root = self.objects[0].header.expect("allocated above").0;
        self.file
            .write_all_at(&msg::superblock(self.eof, root), 0)?;
        Ok(())
    }

    /// Flushes, and waits until the file's bytes are on the disk.
    pub fn finish(mut self) -> io::Result<()> {
        self.flush()?;
        self.file.sync_all()
    }
}
