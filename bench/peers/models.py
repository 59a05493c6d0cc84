"""Peer of `npm run bench -- models`: train steps of ResNet-18 (CIFAR stem), ViT-Tiny/4 on all
64 tokens and ViT-Tiny/4 on 25% of the tokens (MAE-style visible patches), at 32x32, in PyTorch.
The ViT is tools/timm_vit.py: timm's structure (Debian has no python3-timm), as selfsup's.
Prints one JSON line {"img_per_s": ..., "torch": ..., "tcmalloc": ...} for --model resnet18|vit_tiny|vit_tiny_mask75;
--channels-last puts the ResNet's weights and input in NHWC (torch.channels_last), --bf16 runs under
bfloat16 autocast: the modes of PyTorch "at its best". "tcmalloc" says whether the allocator was
really loaded (LD_PRELOAD), read from the process's own memory map.
"""
import argparse
import json
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tools"))
from timm_vit import VisionTransformer  # noqa: E402
from peer_modes import tcmalloc_loaded  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--device", default="cpu")
    p.add_argument("--bf16", action="store_true", help="bfloat16 autocast on the device")
    p.add_argument("--channels-last", action="store_true", help="NHWC weights and input (conv nets)")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    x = torch.randn(a.batch, 3, 32, 32)
    y = torch.randint(0, 10, (a.batch,))
    keep = None
    if a.model == "resnet18":
        model = torchvision.models.resnet18(num_classes=10)
        model.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
        model.maxpool = nn.Identity()
        opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    else:
        model = VisionTransformer(patch=4, dim=192, depth=12, heads=3, patches=64, classes=10)
        nn.init.trunc_normal_(model.pos_embed, std=0.02)
        opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05)
        if a.model == "vit_tiny_mask75":
            keep = torch.rand(a.batch, 64).argsort(1)[:, :16]
    model.train()
    device = torch.device(a.device)
    model.to(device)
    x, y = x.to(device), y.to(device)
    if a.channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    keep = keep.to(device) if keep is not None else None

    def step():
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=a.bf16):
            loss = F.cross_entropy(model(x) if keep is None else model(x, keep), y)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        if device.type == "cuda":
            loss.item()  # wait for the step, as selfsup's side does

    for _ in range(a.warmup):
        step()
    start = time.perf_counter()
    for _ in range(a.steps):
        step()
    print(json.dumps({"img_per_s": a.batch * a.steps / (time.perf_counter() - start), "torch": torch.__version__, "tcmalloc": tcmalloc_loaded()}))



if __name__ == "__main__":
    main()
