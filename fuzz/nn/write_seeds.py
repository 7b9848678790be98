#!/usr/bin/env python3
"""Seeds for the nn fuzz targets that no real file in ../shared/testdata
provides: PyTorch state dicts of the small CNN's layer names, written in
PyTorch's zip layout (archive/data.pkl, archive/data/<key>, archive/version)
and in the legacy single-pickle layout, without PyTorch installed: the
pickle names torch's rebuild function and storage class as globals, which
is all a reader sees.

Usage (from fuzz/nn): python3 write_seeds.py corpus/pytorch_file
"""
import collections
import io
import pickle
import struct
import sys
import types
import zipfile

# Stand-ins registered under torch's names, so pickle writes GLOBAL opcodes
# for `torch._utils._rebuild_tensor_v2` and `torch.FloatStorage`.
torch = types.ModuleType("torch")
utils = types.ModuleType("torch._utils")


def _rebuild_tensor_v2(*args):  # never called: only its name is pickled
    raise NotImplementedError


class FloatStorage:
    pass


_rebuild_tensor_v2.__module__ = "torch._utils"
FloatStorage.__module__ = "torch"
utils._rebuild_tensor_v2 = _rebuild_tensor_v2
torch._utils = utils
torch.FloatStorage = FloatStorage
sys.modules["torch"] = torch
sys.modules["torch._utils"] = utils


class Tensor:
    """Pickles as torch does: _rebuild_tensor_v2(storage, offset, size,
    stride, requires_grad, backward_hooks)."""

    def __init__(self, key, shape):
        self.key = key
        self.shape = tuple(shape)

    def numel(self):
        n = 1
        for d in self.shape:
            n *= d
        return n

    def __reduce__(self):
        stride, acc = [], 1
        for d in reversed(self.shape):
            stride.insert(0, acc)
            acc *= d
        storage = ("storage", FloatStorage, self.key, "cpu", self.numel())
        return (_rebuild_tensor_v2,
                (StoragePid(storage), 0, self.shape, tuple(stride), False,
                 collections.OrderedDict()))


class StoragePid:
    def __init__(self, pid):
        self.pid = pid


class Pickler(pickle.Pickler):
    def persistent_id(self, obj):
        return obj.pid if isinstance(obj, StoragePid) else None


def state_dict():
    # A first convolution and a linear head of plausible names and shapes.
    shapes = {
        "conv1.weight": (8, 3, 3, 3),
        "conv1.bias": (8,),
        "bn1.weight": (8,),
        "bn1.bias": (8,),
        "bn1.running_mean": (8,),
        "bn1.running_var": (8,),
        "fc.weight": (2, 8),
        "fc.bias": (2,),
    }
    return collections.OrderedDict(
        (name, Tensor(str(i), shape)) for i, (name, shape) in enumerate(shapes.items()))


def pickled(obj, protocol=2):
    out = io.BytesIO()
    Pickler(out, protocol=protocol).dump(obj)
    return out.getvalue()


def zip_layout(sd):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", pickled(sd))
        for t in sd.values():
            z.writestr(f"archive/data/{t.key}",
                       struct.pack(f"<{t.numel()}f", *[0.01 * k for k in range(t.numel())]))
        z.writestr("archive/version", "3\n")
    return out.getvalue()


def legacy_layout(sd):
    # Magic number, protocol version, sys info, the object, storage keys,
    # then each storage as a count and its little-endian floats.
    body = pickled(0x1950A86A20F9469CFC6C) + pickled(1001) + pickled(
        {"protocol_version": 1001, "little_endian": True,
         "type_sizes": {"short": 2, "int": 4, "long": 4}})
    body += pickled(sd) + pickled([t.key for t in sd.values()])
    for t in sd.values():
        body += struct.pack("<q", t.numel()) + struct.pack(f"<{t.numel()}f", *([0.5] * t.numel()))
    return body


if __name__ == "__main__":
    folder = sys.argv[1] if len(sys.argv) > 1 else "corpus/pytorch_file"
    import os
    os.makedirs(folder, exist_ok=True)
    sd = state_dict()
    for name, data in [("small-state-dict.pt", zip_layout(sd)),
                       ("small-state-dict-legacy.pt", legacy_layout(sd))]:
        with open(os.path.join(folder, name), "wb") as f:
            f.write(data)
        print(f"{folder}/{name}: {len(data)} bytes")
