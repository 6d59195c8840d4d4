"""Reads a safetensors file with PyTorch only, by its format: an 8-byte little-endian header
length, a JSON header of dtype/shape/data_offsets, then the bytes."""
import json
import struct


def read_safetensors(path, torch):
    """{name: tensor} of the file at `path`; `torch` is the imported module."""
    dtypes = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
              "I64": torch.int64}
    with open(path, "rb") as f:
        data = f.read()
    (header_len,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + header_len])
    body = data[8 + header_len:]
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        tensor = torch.frombuffer(bytearray(body[begin:end]), dtype=dtypes[entry["dtype"]])
        tensors[name] = tensor.reshape(entry["shape"])
    return tensors
