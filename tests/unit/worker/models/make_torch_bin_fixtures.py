"""Writes torch.save fixtures for the pytorch_model.bin reader's tests (torch_bin_test.cc,
torch_bin_model_test.cc), with PyTorch itself as the reference.

  make_torch_bin_fixtures.py OUT FIXTURE_MODELS

OUT/mixed/        pytorch_model.bin: an OrderedDict state dict with _metadata; float32, bfloat16,
                  float16 and float64 tensors, a transposed view, offset and narrowed views, one
                  storage under two names, a Parameter, a scalar, an empty and an int64 tensor;
                  expected/<name>.f32: each tensor as PyTorch's .float() gives it, row-major;
                  expected.json: names -> shapes
OUT/legacy/       the same dict in the legacy (non-zip) format, beside a config.json
OUT/evil/         a zip whose data.pkl calls os.system("touch OUT/evil/ran"): must never run
OUT/compressed/   mixed/pytorch_model.bin repacked with deflate
OUT/bigendian/    mixed/pytorch_model.bin with <archive>/byteorder "big"
OUT/zip64/        mixed/pytorch_model.bin with ZIP64 sizes and offsets (torch.load reads it)
OUT/<family>_bin/ config.json + pytorch_model.bin holding FIXTURE_MODELS/<family>'s safetensors
                  weights (gpt2: each matrix stored column-major, i.e. a transposed view; llama:
                  two shards and pytorch_model.bin.index.json)
"""
import collections
import json
import os
import pickle
import shutil
import struct
import sys
import zipfile

import torch

OUT, MODELS = sys.argv[1], sys.argv[2]


def read_safetensors(path):
    """Independent of our reader: the format's header, then torch.frombuffer per tensor."""
    with open(path, "rb") as f:
        data = f.read()
    (size,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + size])
    body = data[8 + size:]
    tensors = collections.OrderedDict()
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32", info
        begin, end = info["data_offsets"]
        tensors[name] = torch.frombuffer(bytearray(body[begin:end]), dtype=torch.float32).reshape(
            info["shape"]).clone()
    return tensors


def folder(name):
    path = os.path.join(OUT, name)
    os.makedirs(path, exist_ok=True)
    return path


def mixed_state_dict():
    g = torch.Generator().manual_seed(7)
    base = torch.randn(4, 3, generator=g)
    rows = torch.randn(3, 4, generator=g)
    shared = torch.randn(6, generator=g)
    state = collections.OrderedDict()
    state["f32"] = torch.randn(3, 4, generator=g)
    state["bf16"] = torch.randn(5, 2, generator=g).to(torch.bfloat16)
    state["f16"] = torch.randn(2, 3, generator=g).to(torch.float16)
    state["f64"] = torch.randn(4, generator=g, dtype=torch.float64)
    state["transposed"] = base.t()
    state["base"] = base
    state["row"] = rows[1]
    state["columns"] = rows[:, 1:3]
    state["shared.a"] = shared
    state["shared.b"] = shared
    state["parameter"] = torch.nn.Parameter(torch.randn(2, generator=g))
    state["scalar"] = torch.tensor(2.5)
    state["empty"] = torch.zeros(0, 3)
    state["position_ids"] = torch.arange(5).unsqueeze(0)
    state._metadata = collections.OrderedDict([("", {"version": 1}), ("layer", {"version": 2})])
    return state


def write_mixed():
    state = mixed_state_dict()
    path = folder("mixed")
    torch.save(state, os.path.join(path, "pytorch_model.bin"))
    expected = folder("mixed/expected")
    shapes = {}
    for name, tensor in state.items():
        shapes[name] = list(tensor.shape)
        if tensor.is_floating_point():
            with open(os.path.join(expected, name + ".f32"), "wb") as f:
                f.write(tensor.detach().float().contiguous().numpy().tobytes())
    with open(os.path.join(path, "expected.json"), "w") as f:
        json.dump(shapes, f)
    legacy = folder("legacy")
    shutil.copy(os.path.join(MODELS, "gpt2", "config.json"), legacy)
    torch.save(state, os.path.join(legacy, "pytorch_model.bin"),
               _use_new_zipfile_serialization=False)


class RunsAShellCommand:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, ("touch " + self.marker,))


def write_evil():
    path = folder("evil")
    shutil.copy(os.path.join(MODELS, "gpt2", "config.json"), path)
    payload = pickle.dumps(RunsAShellCommand(os.path.join(path, "ran")), protocol=2)
    with zipfile.ZipFile(os.path.join(path, "pytorch_model.bin"), "w") as z:
        z.writestr("pytorch_model/data.pkl", payload)
        z.writestr("pytorch_model/version", "3\n")


def repack(name, compression, extra):
    source = os.path.join(OUT, "mixed", "pytorch_model.bin")
    with zipfile.ZipFile(source) as z, zipfile.ZipFile(
            os.path.join(folder(name), "pytorch_model.bin"), "w", compression) as out:
        for info in z.infolist():
            out.writestr(info.filename, z.read(info.filename))
        for entry, text in extra.items():
            out.writestr(entry, text)


def write_zip64():
    """mixed/pytorch_model.bin rewritten with every size and offset in ZIP64 records (as torch
    writes them past 4 GiB), checked by torch.load itself."""
    source = os.path.join(OUT, "mixed", "pytorch_model.bin")
    with zipfile.ZipFile(source) as z:
        entries = [(info.filename.encode(), z.read(info.filename), info.CRC)
                   for info in z.infolist()]
    out, central = bytearray(), bytearray()
    full = 0xFFFFFFFF
    for name, data, crc in entries:
        offset = len(out)
        extra = struct.pack("<HHQQ", 1, 16, len(data), len(data))
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 45, 0, 0, 0, 0, crc, full, full,
                           len(name), len(extra)) + name + extra + data
        extra = struct.pack("<HHQQQ", 1, 24, len(data), len(data), offset)
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 45, 45, 0, 0, 0, 0, crc, full,
                               full, len(name), len(extra), 0, 0, 0, 0, full) + name + extra
    start = len(out)
    out += central
    end64 = len(out)
    out += struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, len(entries), len(entries),
                       len(central), start)
    out += struct.pack("<IIQI", 0x07064B50, 0, end64, 1)
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, full, full, 0)
    path = os.path.join(folder("zip64"), "pytorch_model.bin")
    with open(path, "wb") as f:
        f.write(out)
    loaded, original = torch.load(path), torch.load(source)
    assert all(torch.equal(loaded[k], original[k]) for k in original), "torch reads it differently"


def write_family(family):
    path = folder(family + "_bin")
    source = os.path.join(MODELS, family)
    shutil.copy(os.path.join(source, "config.json"), path)
    state = read_safetensors(os.path.join(source, "model.safetensors"))
    if family == "gpt2":  # column-major storage: the saved tensors are transposed views
        state = collections.OrderedDict(
            (k, v.t().contiguous().t() if v.dim() == 2 else v) for k, v in state.items())
    if family != "llama":
        torch.save(state, os.path.join(path, "pytorch_model.bin"))
        return
    names = list(state)
    shards = [names[: len(names) // 2], names[len(names) // 2:]]
    weight_map = {}
    for i, shard in enumerate(shards):
        file = "pytorch_model-%05d-of-%05d.bin" % (i + 1, len(shards))
        torch.save(collections.OrderedDict((k, state[k]) for k in shard),
                   os.path.join(path, file))
        weight_map.update({k: file for k in shard})
    with open(os.path.join(path, "pytorch_model.bin.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": 0}, "weight_map": weight_map}, f)


write_mixed()
write_evil()
repack("compressed", zipfile.ZIP_DEFLATED, {})
repack("bigendian", zipfile.ZIP_STORED, {"pytorch_model/byteorder": "big"})
write_zip64()
for family in ("bert", "gpt2", "llama"):
    write_family(family)
