#!/usr/bin/env python3
"""What a user of h5py sees of an HDF5 file, as JSON on stdout: every group and dataset by path,
each attribute's type and value, each dataset's shape, dtype, chunk shape, filters, fill value and
a SHA-256 of its values. Two files whose views are equal read the same with h5py and pandas,
whatever library wrote them and however their bytes are laid out.

    python3 scripts/h5py-view.py FILE.h5 > view.json

sim/tests/h5py_view.rs compares the view of a file written by today's code with
sim/tests/fixtures/h5py-view-libhdf5.json, the view of the same run written with libhdf5
(lensforge at 48e5af3).
"""
import hashlib
import json
import sys

import h5py
import numpy as np


def value(v):
    """An attribute's value as JSON."""
    if isinstance(v, bytes):
        return {"bytes": v.decode("utf-8", "replace")}
    if isinstance(v, str):
        return v
    if isinstance(v, np.ndarray):
        return [value(x) for x in v.tolist()]
    if isinstance(v, np.generic):
        return v.item()
    return v


def attr_type(obj, name):
    """The attribute's stored type as h5py reports it (a variable-length string names its encoding)."""
    dt = obj.attrs.get_id(name).dtype
    s = h5py.check_string_dtype(dt)
    if s is not None:
        return f"string(encoding={s.encoding}, length={s.length})"
    return dt.str


def attrs(obj):
    return {k: {"type": attr_type(obj, k), "value": value(obj.attrs[k])} for k in sorted(obj.attrs)}


def main(path):
    view = {}
    with h5py.File(path, "r") as f:
        view["/"] = {"kind": "group", "attrs": attrs(f)}

        def visit(name, obj):
            if isinstance(obj, h5py.Group):
                view["/" + name] = {"kind": "group", "attrs": attrs(obj)}
            else:
                data = obj[()]
                view["/" + name] = {
                    "kind": "dataset",
                    "shape": list(obj.shape),
                    "maxshape": list(obj.maxshape) if obj.maxshape is not None else None,
                    "dtype": obj.dtype.str,
                    "chunks": list(obj.chunks) if obj.chunks is not None else None,
                    "compression": obj.compression,
                    "compression_opts": obj.compression_opts,
                    "shuffle": obj.shuffle,
                    "fletcher32": obj.fletcher32,
                    "fillvalue": value(obj.fillvalue),
                    "sha256": hashlib.sha256(np.ascontiguousarray(data).tobytes()).hexdigest(),
                    "attrs": attrs(obj),
                }

        f.visititems(visit)
    json.dump(view, sys.stdout, indent=1, sort_keys=True)
    print()


if __name__ == "__main__":
    main(sys.argv[1])
