"""Loads (and saves) safetensors files as PyTorch tensors, with python3-torch only
(Debian has no python3-safetensors): the format is an 8-byte little-endian header length,
a JSON header, then raw little-endian tensor bytes.

    from load_safetensors import load
    state, metadata = load("encoder.safetensors")
    torchvision.models.resnet18().load_state_dict(state, strict=False)
    save("resnet18.safetensors", torchvision.models.resnet18().state_dict())   # for `selfsup import`
"""
import json
import struct
import sys

import torch

DTYPES = {
    "F32": torch.float32, "F64": torch.float64, "F16": torch.float16, "BF16": torch.bfloat16,
    "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8, "BOOL": torch.bool,
}


def load(path):
    with open(path, "rb") as f:
        data = f.read()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    metadata = header.pop("__metadata__", {})
    body = memoryview(data)[8 + length:]
    state = {}
    for name, entry in header.items():
        begin, end = entry["data_offsets"]
        dtype = DTYPES[entry["dtype"]]
        chunk = bytearray(body[begin:end])
        t = torch.frombuffer(chunk, dtype=dtype) if end > begin else torch.empty(0, dtype=dtype)
        state[name] = t.reshape(entry["shape"]).clone()
    return state, metadata


def save(path, state, metadata=None):
    """Writes tensors (contiguous, little-endian) with optional string metadata, as the safetensors library does."""
    codes = {v: k for k, v in DTYPES.items()}
    header, chunks, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    for name, t in state.items():
        data = t.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b""
        header[name] = {"dtype": codes[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header)
    text += " " * (-len(text.encode()) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text.encode())) + text.encode() + b"".join(chunks))


if __name__ == "__main__":
    state, metadata = load(sys.argv[1])
    print(json.dumps({"metadata": metadata, "tensors": {k: [str(v.dtype), list(v.shape)] for k, v in state.items()}}))
