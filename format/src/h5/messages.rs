//! Encoders of the few HDF5 structures a lensforge dataset needs, each as the HDF5 file format
//! specification (version 3.0, section IV) lays it out, little-endian, with 8-byte addresses and
//! lengths (the superblock declares both sizes).

use super::checksum::metadata_checksum;

/// HDF5's undefined address.
pub const UNDEFINED: u64 = u64::MAX;

/// The element types lensforge stores.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dtype {
    /// IEEE float32, little-endian.
    F32,
    /// IEEE float64, little-endian.
    F64,
    /// Signed 64-bit integer, little-endian.
    I64,
    /// Unsigned 32-bit integer, little-endian.
    U32,
    /// Unsigned 64-bit integer, little-endian.
    U64,
    /// Unsigned byte.
    U8,
    /// A fixed-length UTF-8 string of this many bytes, padded with zero bytes (h5py reads it
    /// as `bytes`; a string of the full width has no terminating zero).
    Str(u32),
}

impl Dtype {
    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            Dtype::F64 | Dtype::I64 | Dtype::U64 => 8,
            Dtype::F32 | Dtype::U32 => 4,
            Dtype::U8 => 1,
            Dtype::Str(n) => n as usize,
        }
    }
}

/// The datatype message (0x0003) of `dtype`: class and version, 3 bytes of class bits, the
/// size, and the class's properties.
pub fn datatype(dtype: Dtype) -> Vec<u8> {
    let mut m = Vec::new();
    let size = dtype.size() as u32;
    match dtype {
        Dtype::F32 | Dtype::F64 => {
            // Version 1, class 1 (floating point); bits: little-endian, no padding, implied
            // most significant mantissa bit (normalisation 2 in bits 4–5); the sign bit's
            // position in byte 1.
            let (sign, exp_loc, exp_size, mant_size, bias) = match dtype {
                Dtype::F32 => (31u8, 23u8, 8u8, 23u8, 127u32),
                _ => (63, 52, 11, 52, 1023),
            };
            m.extend_from_slice(&[0x11, 0x20, sign, 0]);
            m.extend_from_slice(&size.to_le_bytes());
            m.extend_from_slice(&0u16.to_le_bytes()); // bit offset
            m.extend_from_slice(&(8 * size as u16).to_le_bytes()); // precision
            m.extend_from_slice(&[exp_loc, exp_size, 0, mant_size]);
            m.extend_from_slice(&bias.to_le_bytes());
        }
        Dtype::Str(_) => {
            // Version 1, class 3 (string); bits 0–3: padding 1 (null pad), bits 4–7: character
            // set 1 (UTF-8). No properties.
            m.extend_from_slice(&[0x13, 0x11, 0, 0]);
            m.extend_from_slice(&size.to_le_bytes());
        }
        _ => {
            // Version 1, class 0 (fixed point); bit 3 of the first byte: signed.
            let signed = if dtype == Dtype::I64 { 0x08 } else { 0 };
            m.extend_from_slice(&[0x10, signed, 0, 0]);
            m.extend_from_slice(&size.to_le_bytes());
            m.extend_from_slice(&0u16.to_le_bytes());
            m.extend_from_slice(&(8 * size as u16).to_le_bytes());
        }
    }
    m
}

/// The datatype message of a variable-length UTF-8 string (class 9, version 1: type string,
/// null-terminated padding, UTF-8), whose base type is an unsigned byte, as libhdf5 and h5py
/// store `str` attributes.
pub fn vlen_string_datatype() -> Vec<u8> {
    let mut m = vec![0x19, 0x01, 0x01, 0x00];
    m.extend_from_slice(&16u32.to_le_bytes()); // length (4) + global heap id (8 + 4)
    m.extend_from_slice(&datatype(Dtype::U8));
    m
}

/// The dataspace message (0x0001, version 2): scalar when `dims` is empty, else simple.
pub fn dataspace(dims: &[u64]) -> Vec<u8> {
    let kind = if dims.is_empty() { 0 } else { 1 };
    let mut m = vec![2, dims.len() as u8, 0, kind];
    for d in dims {
        m.extend_from_slice(&d.to_le_bytes());
    }
    m
}

/// The fill value message (0x0005, version 3) of a dataset with the default fill value (zero)
/// written when the storage is allocated: `allocation` 1 (early) or 3 (incremental).
pub fn fill_value(allocation: u8) -> Vec<u8> {
    // Bits 0–1: allocation time; bits 2–3: fill value written "if set" (2); neither
    // undefined (bit 4) nor user-defined (bit 5): the library's default, zero.
    vec![3, allocation | (2 << 2)]
}

/// The data layout message (0x0008, version 3) of contiguous storage.
pub fn contiguous_layout(address: u64, size: u64) -> Vec<u8> {
    let mut m = vec![3, 1];
    m.extend_from_slice(&address.to_le_bytes());
    m.extend_from_slice(&size.to_le_bytes());
    m
}

/// The data layout message (0x0008, version 3) of chunked storage indexed by a version-1
/// B-tree at `btree` (undefined while no chunk is stored); `chunk` in elements, `element` the
/// element's size in bytes (stored as the last chunk dimension).
pub fn chunked_layout(btree: u64, chunk: &[u64], element: usize) -> Vec<u8> {
    let mut m = vec![3, 2, chunk.len() as u8 + 1];
    m.extend_from_slice(&btree.to_le_bytes());
    for c in chunk {
        m.extend_from_slice(&(*c as u32).to_le_bytes());
    }
    m.extend_from_slice(&(element as u32).to_le_bytes());
    m
}

/// The filter pipeline message (0x000B, version 2) of HDF5's shuffle (filter 2, with the
/// element size as its parameter) then deflate (filter 1, with its level), both optional, as
/// `H5Pset_shuffle` and `H5Pset_deflate` declare them.
pub fn shuffle_deflate_pipeline(element: usize, level: u32) -> Vec<u8> {
    let mut m = vec![2, 2];
    for (id, value) in [(2u16, element as u32), (1, level)] {
        m.extend_from_slice(&id.to_le_bytes());
        m.extend_from_slice(&1u16.to_le_bytes()); // flags: optional
        m.extend_from_slice(&1u16.to_le_bytes()); // one parameter
        m.extend_from_slice(&value.to_le_bytes());
    }
    m
}

/// The link info message (0x0002, version 0) of a group whose links are stored in its header.
pub fn link_info() -> Vec<u8> {
    let mut m = vec![0, 0];
    m.extend_from_slice(&UNDEFINED.to_le_bytes()); // no fractal heap
    m.extend_from_slice(&UNDEFINED.to_le_bytes()); // no name index
    m
}

/// The group info message (0x000A, version 0) with the library's defaults.
pub fn group_info() -> Vec<u8> {
    vec![0, 0]
}

/// The link message (0x0006, version 1) of a hard link named `name` (ASCII, at most 255 bytes)
/// to the object header at `address`.
pub fn hard_link(name: &str, address: u64) -> Vec<u8> {
    let mut m = vec![1, 0, name.len() as u8];
    m.extend_from_slice(name.as_bytes());
    m.extend_from_slice(&address.to_le_bytes());
    m
}

/// The attribute message (0x000C, version 3) named `name` (ASCII) with its datatype and
/// dataspace messages and its raw value.
pub fn attribute(name: &str, datatype: &[u8], dataspace: &[u8], value: &[u8]) -> Vec<u8> {
    let mut m = vec![3, 0];
    m.extend_from_slice(&(name.len() as u16 + 1).to_le_bytes());
    m.extend_from_slice(&(datatype.len() as u16).to_le_bytes());
    m.extend_from_slice(&(dataspace.len() as u16).to_le_bytes());
    m.push(0); // the name's character set: ASCII
    m.extend_from_slice(name.as_bytes());
    m.push(0);
    m.extend_from_slice(datatype);
    m.extend_from_slice(dataspace);
    m.extend_from_slice(value);
    m
}

/// A version-2 object header ("OHDR") holding `messages` (type, message), with a 4-byte chunk
/// size, no times and no attribute phase change values, padded with a NIL message to at least
/// `min_len` bytes in all; its checksum last.
pub fn object_header(messages: &[(u8, Vec<u8>)], min_len: usize) -> Vec<u8> {
    let mut body = Vec::new();
    for (kind, data) in messages {
        body.push(*kind);
        body.extend_from_slice(&(data.len() as u16).to_le_bytes());
        // Flags: the datatype message is constant (bit 0), as libhdf5 marks it.
        body.push(u8::from(*kind == 0x03));
        body.extend_from_slice(data);
    }
    // Prefix 4 + 1 + 1 + 4 bytes, checksum 4.
    let fixed = 14;
    let room = min_len.saturating_sub(fixed + body.len());
    if room >= 4 {
        // A NIL message fills the room.
        body.push(0);
        body.extend_from_slice(&(room as u16 - 4).to_le_bytes());
        body.push(0);
        body.extend(std::iter::repeat_n(0, room - 4));
    } else {
        // Room for no message header: a gap, which readers skip.
        body.extend(std::iter::repeat_n(0, room));
    }
    let mut h = b"OHDR".to_vec();
    h.push(2);
    h.push(0x02); // chunk #0 size in 4 bytes
    h.extend_from_slice(&(body.len() as u32).to_le_bytes());
    h.extend_from_slice(&body);
    let sum = metadata_checksum(&h);
    h.extend_from_slice(&sum.to_le_bytes());
    h
}

/// A version-2 superblock: 8-byte offsets and lengths, base address 0, no extension.
pub fn superblock(end_of_file: u64, root: u64) -> Vec<u8> {
    let mut s = b"\x89HDF\r\n\x1a\n".to_vec();
    s.extend_from_slice(&[2, 8, 8, 0]);
    s.extend_from_slice(&0u64.to_le_bytes());
    s.extend_from_slice(&UNDEFINED.to_le_bytes());
    s.extend_from_slice(&end_of_file.to_le_bytes());
    s.extend_from_slice(&root.to_le_bytes());
    let sum = metadata_checksum(&s);
    s.extend_from_slice(&sum.to_le_bytes());
    s
}

/// Bytes of a superblock.
pub const SUPERBLOCK_LEN: u64 = 48;

/// A global heap collection ("GCOL", version 1) holding `objects` as objects 1, 2, … of at
/// least 4096 bytes (libhdf5's smallest collection), its free space as object 0.
pub fn global_heap(objects: &[Vec<u8>]) -> Vec<u8> {
    let pad8 = |n: usize| n.div_ceil(8) * 8;
    let used: usize = 16 + objects.iter().map(|o| 16 + pad8(o.len())).sum::<usize>() + 16;
    let len = pad8(used.max(4096));
    let mut h = b"GCOL".to_vec();
    h.extend_from_slice(&[1, 0, 0, 0]);
    h.extend_from_slice(&(len as u64).to_le_bytes());
    for (i, o) in objects.iter().enumerate() {
        h.extend_from_slice(&(i as u16 + 1).to_le_bytes());
        h.extend_from_slice(&1u16.to_le_bytes()); // reference count
        h.extend_from_slice(&[0; 4]);
        h.extend_from_slice(&(o.len() as u64).to_le_bytes());
        h.extend_from_slice(o);
        h.resize(pad8(h.len()), 0);
    }
    // The free space: object 0, whose size counts the rest of the collection from its header.
    let free = len - h.len();
    h.extend_from_slice(&[0; 8]);
    h.extend_from_slice(&(free as u64).to_le_bytes());
    h.resize(len, 0);
    h
}

/// The raw value of a variable-length string: its length and its global heap id (collection
/// address, object index).
pub fn vlen_reference(len: usize, collection: u64, index: u32) -> Vec<u8> {
    let mut v = (len as u32).to_le_bytes().to_vec();
    v.extend_from_slice(&collection.to_le_bytes());
    v.extend_from_slice(&index.to_le_bytes());
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_object_header_is_padded_and_checksummed() {
        let h = object_header(&[(0x0A, group_info())], 64);
        assert_eq!(h.len(), 64);
        assert_eq!(&h[..4], b"OHDR");
        let body = u32::from_le_bytes(h[6..10].try_into().unwrap()) as usize;
        assert_eq!(10 + body + 4, h.len());
        let sum = u32::from_le_bytes(h[h.len() - 4..].try_into().unwrap());
        assert_eq!(sum, metadata_checksum(&h[..h.len() - 4]));
        // Without room to pad, the header is exactly its messages.
        assert_eq!(object_header(&[(0x0A, group_info())], 0).len(), 14 + 4 + 2);
    }

    #[test]
    fn a_global_heap_accounts_for_every_byte() {
        let h = global_heap(&[b"abc".to_vec(), vec![7; 9]]);
        assert_eq!(h.len(), 4096);
        assert_eq!(u64::from_le_bytes(h[8..16].try_into().unwrap()), 4096);
        // Objects at 16 (3 bytes padded to 8) and 40 (9 bytes padded to 16); free space at 72.
        assert_eq!(u16::from_le_bytes([h[16], h[17]]), 1);
        assert_eq!(u16::from_le_bytes([h[40], h[41]]), 2);
        assert_eq!(u64::from_le_bytes(h[80..88].try_into().unwrap()), 4096 - 72);
    }
}
