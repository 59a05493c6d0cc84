"""PyTorch "at its best" for the end-to-end peers (methods.py, masked.py, dino.py): the same run
timed in each of PyTorch's modes in one process (fp32, channels_last, bf16 autocast, both), a fresh
seeded model for each, and the data in the form selfsup's side has it (--in-memory: every image
decoded once and held as a PIL image, the transforms run per epoch in the DataLoader's workers, as
selfsup's loader holds decoded images and augments them per epoch).

  --modes fp32,channels_last,bf16,bf16+channels_last   (channels_last only for conv nets)
Prints {"modes": {mode: img_per_s}, "best_mode", "img_per_s" (the best), "tcmalloc", "torch"}.
"""
import contextlib
import json
import time

import torch
from torch.utils.data import Dataset

MODES = ("fp32", "channels_last", "bf16", "bf16+channels_last")


def add_mode_args(parser, default="fp32,bf16"):
    parser.add_argument("--modes", default=default, help="comma-separated: " + ", ".join(MODES))
    parser.add_argument("--in-memory", action="store_true", help="decode every image once and keep it (selfsup's form)")


def parse_modes(text):
    modes = [m.strip() for m in text.split(",") if m.strip()]
    for m in modes:
        if m not in MODES:
            raise SystemExit(f"--modes: unknown mode {m!r} (expected {', '.join(MODES)})")
    return modes


class InMemory(Dataset):
    """An ImageFolder's images decoded once (RGB PIL images), transformed on every access."""

    def __init__(self, folder, transform):
        self.items = [(folder.loader(path).convert("RGB"), label) for path, label in folder.samples]
        for img, _ in self.items:
            img.load()
        self.transform = transform

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        img, label = self.items[i]
        return self.transform(img), label


def autocast(mode):
    """bfloat16 autocast on the CPU for the bf16 modes, else nothing."""
    return torch.autocast("cpu", dtype=torch.bfloat16) if mode.startswith("bf16") else contextlib.nullcontext()


def channels_last(mode):
    return mode.endswith("channels_last")


def tcmalloc_loaded():
    """Whether tcmalloc is mapped into this process (LD_PRELOAD worked)."""
    with open("/proc/self/maps") as maps:
        return any("tcmalloc" in line for line in maps)


def endless(loader):
    """The loader's batches epoch after epoch: the modes together take more steps than one epoch has."""
    while True:
        yield from loader


def time_modes(modes, make_step, batch, warmup, steps):
    """make_step(mode) -> a function running one training step in that mode; returns img/s per mode."""
    rates = {}
    for mode in modes:
        torch.manual_seed(0)
        step = make_step(mode)
        for _ in range(warmup):
            step()
        start = time.perf_counter()
        for _ in range(steps):
            step()
        rates[mode] = batch * steps / (time.perf_counter() - start)
    return rates


def report(rates, **extra):
    best = max(rates, key=rates.get)
    print(json.dumps({"modes": rates, "best_mode": best, "img_per_s": rates[best], "tcmalloc": tcmalloc_loaded(),
                      "torch": torch.__version__, **extra}))
