"""Peer of `npm run bench -- methods` (row simclr) and of the accuracy-parity protocol: SimCLR in
PyTorch + torchvision as a user writes it. ResNet-18 (CIFAR stem: 3x3 conv, no max-pool; channel
width multiplier), projection Linear-BN-ReLU-Linear (hidden 2048, out 128), NT-Xent, SGD with
momentum 0.9, linear warm-up + cosine per step; data: torchvision ImageFolder with SimCLR's CIFAR
two-view transform (colour strength 0.5, no blur) in a DataLoader with worker processes.

  speed:  one JSON line {"img_per_s"} over --steps steps after --warmup steps
  parity: --epochs of training, then weighted kNN (k 200, T 0.1) top-1 on --test
"""
import argparse
import json
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader
from torchvision import datasets, transforms as T

MEAN, STD = (0.4914, 0.4822, 0.4465), (0.247, 0.2435, 0.2616)


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)), inplace=True)
        out = self.bn2(self.conv2(out))
        return F.relu(out + (x if self.down is None else self.down(x)), inplace=True)


class ResNet18(nn.Module):
    """torchvision's ResNet-18 with the CIFAR stem and a width multiplier (as selfsup's resnet18)."""

    def __init__(self, width=1.0):
        super().__init__()
        base = round(64 * width)
        self.conv1 = nn.Conv2d(3, base, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(base)
        layers, cin = [], base
        for stage in range(4):
            cout = round(64 * width * 2 ** stage)
            layers += [Block(cin, cout, 1 if stage == 0 else 2), Block(cout, cout, 1)]
            cin = cout
        self.layers = nn.Sequential(*layers)
        self.feature_dim = cin
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        x = self.layers(F.relu(self.bn1(self.conv1(x)), inplace=True))
        return torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)


def nt_xent(z1, z2, t):
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    logits = z @ z.T / t
    n = z1.shape[0]
    logits.fill_diagonal_(float("-inf"))
    targets = (torch.arange(2 * n) + n) % (2 * n)
    return F.cross_entropy(logits, targets)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True)
    p.add_argument("--test")
    p.add_argument("--mode", choices=["speed", "parity"], default="speed")
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--width", type=float, default=1.0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--steps", type=int, default=6)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--lr", type=float, default=0.12)
    p.add_argument("--warmup-epochs", type=float, default=1)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    view = T.Compose([
        T.RandomResizedCrop(32, scale=(0.08, 1.0)), T.RandomHorizontalFlip(),
        T.RandomApply([T.ColorJitter(0.4, 0.4, 0.4, 0.1)], p=0.8), T.RandomGrayscale(p=0.2),
        T.ToTensor(), T.Normalize(MEAN, STD)])
    data = datasets.ImageFolder(a.data, transform=lambda img: (view(img), view(img)))
    loader = DataLoader(data, batch_size=a.batch, shuffle=True, num_workers=a.workers, drop_last=True,
                        persistent_workers=a.workers > 0)
    backbone = ResNet18(a.width)
    head = nn.Sequential(nn.Linear(backbone.feature_dim, 2048), nn.BatchNorm1d(2048), nn.ReLU(inplace=True), nn.Linear(2048, 128))
    params = list(backbone.parameters()) + list(head.parameters())
    decay = [q for q in params if q.ndim > 1]
    no_decay = [q for q in params if q.ndim <= 1]
    opt = torch.optim.SGD([{"params": decay, "weight_decay": 5e-4}, {"params": no_decay, "weight_decay": 0}], lr=a.lr, momentum=0.9)

    def step(x1, x2):
        z = head(backbone(torch.cat([x1, x2])))
        loss = nt_xent(z[: x1.shape[0]], z[x1.shape[0]:], 0.5)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.item()

    if a.mode == "speed":
        it = iter(loader)
        for _ in range(a.warmup):
            (x1, x2), _ = next(it)
            step(x1, x2)
        start = time.perf_counter()
        for _ in range(a.steps):
            (x1, x2), _ = next(it)
            step(x1, x2)
        elapsed = time.perf_counter() - start
        print(json.dumps({"img_per_s": a.batch * a.steps / elapsed, "torch": torch.__version__}))
        return

    total = a.epochs * len(loader)
    warm = round(a.warmup_epochs * len(loader))
    k, losses = 0, []
    start = time.perf_counter()
    for _ in range(a.epochs):
        for (x1, x2), _ in loader:
            lr = a.lr * k / warm if k < warm else 0.5 * a.lr * (1 + math.cos(math.pi * (k - warm) / max(1, total - warm)))
            for g in opt.param_groups:
                g["lr"] = lr
            losses.append(step(x1, x2))
            k += 1
    seconds = time.perf_counter() - start
    evaluate = T.Compose([T.ToTensor(), T.Normalize(MEAN, STD)])
    backbone.eval()

    def features(folder):
        ds = datasets.ImageFolder(folder, transform=evaluate)
        xs, ys = [], []
        with torch.no_grad():
            for x, y in DataLoader(ds, batch_size=256, num_workers=a.workers):
                xs.append(F.normalize(backbone(x), dim=1))
                ys.append(y)
        return torch.cat(xs), torch.cat(ys)

    bank, bank_y = features(a.data)
    query, query_y = features(a.test)
    sim, idx = (query @ bank.T).topk(200, dim=1)
    votes = torch.zeros(query.shape[0], 10).scatter_add_(1, bank_y[idx], (sim / 0.1).exp())
    top1 = (votes.argmax(1) == query_y).float().mean().item()
    print(json.dumps({"knn_top1": top1, "first_loss": losses[0], "last_loss": losses[-1], "steps": k, "seconds": seconds, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
