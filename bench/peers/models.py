"""Peer of `npm run bench -- models`: train steps of ResNet-18 (CIFAR stem), ViT-Tiny/4 on all
64 tokens and ViT-Tiny/4 on 25% of the tokens (MAE-style visible patches), at 32x32, in PyTorch.
The ViT is written here with timm's structure (Debian has no python3-timm), as selfsup's is.
Prints one JSON line {"img_per_s": ..., "torch": ...} for --model resnet18|vit_tiny|vit_tiny_mask75.
"""
import argparse
import json
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision


class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        b, n, c = x.shape
        q, k, v = self.qkv(x).reshape(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4).unbind(0)
        attn = (q @ k.transpose(-2, -1) * (c // self.heads) ** -0.5).softmax(-1)
        return self.proj((attn @ v).transpose(1, 2).reshape(b, n, c))


class Block(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = nn.Sequential(nn.Linear(dim, dim * 4), nn.GELU(), nn.Linear(dim * 4, dim))

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class ViT(nn.Module):
    def __init__(self, image=32, patch=4, dim=192, depth=12, heads=3, classes=10):
        super().__init__()
        n = (image // patch) ** 2
        self.proj = nn.Conv2d(3, dim, patch, patch)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.randn(1, 1 + n, dim) * 0.02)
        self.blocks = nn.Sequential(*[Block(dim, heads) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.head = nn.Linear(dim, classes)

    def forward(self, x, keep_ids=None):
        t = self.proj(x).flatten(2).transpose(1, 2) + self.pos_embed[:, 1:]
        if keep_ids is not None:
            t = torch.gather(t, 1, keep_ids.unsqueeze(-1).expand(-1, -1, t.shape[-1]))
        cls = (self.cls_token + self.pos_embed[:, :1]).expand(t.shape[0], -1, -1)
        h = self.norm(self.blocks(torch.cat([cls, t], 1)))
        return self.head(h[:, 0])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--steps", type=int, default=3)
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
        model = ViT()
        opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05)
        if a.model == "vit_tiny_mask75":
            keep = torch.rand(a.batch, 64).argsort(1)[:, :16]
    model.train()

    def step():
        loss = F.cross_entropy(model(x) if keep is None else model(x, keep), y)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    for _ in range(a.warmup):
        step()
    start = time.perf_counter()
    for _ in range(a.steps):
        step()
    print(json.dumps({"img_per_s": a.batch * a.steps / (time.perf_counter() - start), "torch": torch.__version__}))


if __name__ == "__main__":
    main()
