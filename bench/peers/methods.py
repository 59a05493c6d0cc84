"""Peer of `npm run bench -- methods` and of the accuracy-parity protocol: the joint-embedding
methods in PyTorch + torchvision as a user writes them, with the same heads as selfsup's
(Linear without bias before BN, BN, ReLU; last Linear with bias; affine-free last BN where the
paper has one). ResNet-18 with the CIFAR stem and a width multiplier; SGD with momentum 0.9;
data: torchvision ImageFolder with the method's two-view transform at 32x32 (no blur) in a
DataLoader with worker processes.

  speed:  one JSON line {"modes": {mode: img_per_s}, "img_per_s" (the best), ...} over --steps steps after --warmup
          steps in each of --modes (peer_modes.py: fp32, channels_last, bf16, bf16+channels_last), --in-memory data
  parity: SimCLR for --epochs with warm-up + cosine, then weighted kNN (k 200, T 0.1) top-1 on --test
  speedrun: the method for --minutes of wall-clock time, decoding --data into memory counted (npm run bench --
          speedrun): the fastest of --modes chosen first on a few steps (not counted), then warm-up + cosine over
          the fraction of the budget spent, kNN on --val every --curve-every minutes (not counted) and on --test
"""
import copy
import argparse
import json
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader
from torchvision import datasets, transforms as T

from peer_modes import InMemory, add_mode_args, autocast, channels_last, endless, parse_modes, report, time_modes

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


def mlp(dims, last_norm=False):
    """Linear-BN-ReLU blocks, then a Linear (with an affine-free BN after it when last_norm)."""
    layers = []
    for i in range(len(dims) - 2):
        layers += [nn.Linear(dims[i], dims[i + 1], bias=False), nn.BatchNorm1d(dims[i + 1]), nn.ReLU(inplace=True)]
    layers.append(nn.Linear(dims[-2], dims[-1], bias=not last_norm))
    if last_norm:
        layers.append(nn.BatchNorm1d(dims[-1], affine=False))
    return nn.Sequential(*layers)


def off_diagonal(m):
    return m.flatten()[:-1].view(m.shape[0] - 1, m.shape[0] + 1)[:, 1:].flatten()


class Method(nn.Module):
    """One of selfsup's joint-embedding methods, written as its reference implementation does."""

    def __init__(self, name, backbone, hidden):
        super().__init__()
        f = backbone.feature_dim
        self.name, self.backbone = name, backbone
        self.temperature = 0.5   # SimCLR's
        if name == "simclr":
            self.head = mlp([f, hidden or 2048, 128])
        elif name == "moco_v2":
            self.head = nn.Sequential(nn.Linear(f, hidden or 2048), nn.ReLU(inplace=True), nn.Linear(hidden or 2048, 128))
            self.register_buffer("queue", F.normalize(torch.randn(4096, 128), dim=1))
            self.ptr = 0
        elif name == "moco_v3":
            self.head = mlp([f, hidden or 4096, hidden or 4096, 256], last_norm=True)
            self.predictor = mlp([256, hidden or 4096, 256])
        elif name == "byol":
            self.head = mlp([f, hidden or 4096, 256])
            self.predictor = mlp([256, hidden or 4096, 256])
        elif name in ("simsiam", "fastsiam"):
            self.head = mlp([f, 2048, 2048, 2048], last_norm=True)
            self.predictor = mlp([2048, 512, 2048])
        elif name == "nnclr":
            h = hidden or 2048
            self.head = mlp([f, h, h, 256], last_norm=True)
            self.predictor = mlp([256, 2 * h, 256])
            self.register_buffer("support", F.normalize(torch.randn(65536, 256), dim=1))
            self.ptr = 0
        elif name in ("barlow_twins", "vicreg"):
            d = hidden or 8192
            self.head = mlp([f, d, d, d])
        elif name == "supervised":
            self.head = nn.Linear(f, 10)
        self.target = None
        if name in ("moco_v2", "moco_v3", "byol"):
            self.target = copy.deepcopy(nn.Sequential(self.backbone, self.head))
            for q in self.target.parameters():
                q.requires_grad = False

    def online(self, x):
        return self.head(self.backbone(x))

    def loss(self, views, labels=None):
        x1, x2 = views[0], views[1]
        n = x1.shape[0]
        if self.name == "supervised":
            return F.cross_entropy(self.online(x1), labels)
        if self.name == "moco_v2":
            q1, q2 = self.online(x1), self.online(x2)
            with torch.no_grad():
                order = torch.randperm(2 * n)
                k = self.target(torch.cat([x1, x2])[order])[order.argsort()]
                k = F.normalize(k, dim=1)
            k1, k2 = k[:n], k[n:]

            def info_nce(q, k):
                q = F.normalize(q, dim=1)
                logits = torch.cat([(q * k).sum(1, keepdim=True), q @ self.queue.clone().T], 1) / 0.2
                return F.cross_entropy(logits, torch.zeros(n, dtype=torch.long))
            loss = (info_nce(q1, k2) + info_nce(q2, k1)) / 2
            with torch.no_grad():
                rows = (torch.arange(2 * n) + self.ptr) % self.queue.shape[0]
                self.queue[rows] = k.to(self.queue.dtype)   # bf16 keys under autocast into the float32 queue
                self.ptr = int((self.ptr + 2 * n) % self.queue.shape[0])
            return loss
        if self.name == "fastsiam":
            k = len(views)
            z = self.online(torch.cat(views))
            p = self.predictor(z).chunk(k)
            zs = torch.stack([t.detach().float() for t in z.chunk(k)])
            total = zs.sum(0)
            return sum(-F.cosine_similarity(p[i].float(), (total - zs[i]) / (k - 1)).mean() for i in range(k)) / k
        z = self.online(torch.cat([x1, x2]))
        z1, z2 = z[:n], z[n:]
        if self.name == "nnclr":
            p = self.predictor(z)
            p1, p2 = p[:n], p[n:]

            def neighbours(e):
                with torch.no_grad():
                    return self.support[(F.normalize(e.float(), dim=1) @ self.support.T).argmax(1)]

            def contrast(nn_, q):
                return F.cross_entropy(nn_ @ F.normalize(q.float(), dim=1).T / 0.1, torch.arange(n))
            loss = (contrast(neighbours(z1), p2) + contrast(neighbours(z2), p1)) / 2
            with torch.no_grad():
                rows = (torch.arange(n) + self.ptr) % self.support.shape[0]
                self.support[rows] = F.normalize(z1.detach().float(), dim=1)
                self.ptr = int((self.ptr + n) % self.support.shape[0])
            return loss
        if self.name == "simclr":
            return nt_xent(z1, z2, self.temperature)
        if self.name in ("moco_v3", "byol", "simsiam"):
            p = self.predictor(z)
            p1, p2 = p[:n], p[n:]
            if self.name == "simsiam":
                return -(F.cosine_similarity(p1, z2.detach()).mean() + F.cosine_similarity(p2, z1.detach()).mean()) / 2
            with torch.no_grad():
                t = self.target(torch.cat([x1, x2]))
            t1, t2 = t[:n], t[n:]
            if self.name == "byol":
                return (2 - 2 * F.cosine_similarity(p1, t2)).mean() + (2 - 2 * F.cosine_similarity(p2, t1)).mean()

            def ctr(q, k):
                logits = F.normalize(q, dim=1) @ F.normalize(k, dim=1).T / 0.2
                return F.cross_entropy(logits, torch.arange(n)) * 2 * 0.2
            return ctr(p1, t2) + ctr(p2, t1)
        if self.name == "barlow_twins":
            def bn(z):
                return (z - z.mean(0)) / torch.sqrt(z.var(0, unbiased=False) + 1e-5)
            c = bn(z1).T @ bn(z2) / n
            return (torch.diagonal(c) - 1).pow(2).sum() + 5e-3 * off_diagonal(c).pow(2).sum()
        # vicreg
        inv = F.mse_loss(z1, z2)

        def var(z):
            return F.relu(1 - torch.sqrt(z.var(0) + 1e-4)).mean()

        def cov(z):
            z = z - z.mean(0)
            c = z.T @ z / (n - 1)
            return off_diagonal(c).pow(2).sum() / z.shape[1]
        return 25 * inv + 25 * (var(z1) + var(z2)) / 2 + cov(z1) + cov(z2)

    @torch.no_grad()
    def after_step(self, m):
        if self.target is None:
            return
        online = nn.Sequential(self.backbone, self.head)
        for t, o in zip(self.target.parameters(), online.parameters()):
            t.mul_(m).add_(o, alpha=1 - m)
        for t, o in zip(self.target.buffers(), online.buffers()):
            t.copy_(o)


def knn_top1(backbone, train_dir, test_dir, workers):
    """Weighted kNN (k 200, T 0.1) top-1 of the backbone's unit features on test_dir, train_dir as the memory bank."""
    evaluate = T.Compose([T.ToTensor(), T.Normalize(MEAN, STD)])
    training = backbone.training
    backbone.eval()

    def features(folder):
        xs, ys = [], []
        with torch.no_grad():
            for x, y in DataLoader(datasets.ImageFolder(folder, transform=evaluate), batch_size=256, num_workers=workers):
                xs.append(F.normalize(backbone(x).float(), dim=1))
                ys.append(y)
        return torch.cat(xs), torch.cat(ys)

    bank, bank_y = features(train_dir)
    query, query_y = features(test_dir)
    with torch.autocast("cpu", enabled=False):   # features may come from autocast (speedrun); the vote in float32
        sim, idx = (query @ bank.T).topk(200, dim=1)
        votes = torch.zeros(query.shape[0], 10).scatter_add_(1, bank_y[idx], (sim / 0.1).exp())
    backbone.train(training)
    return (votes.argmax(1) == query_y).float().mean().item()


def nt_xent(z1, z2, t):
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    logits = z @ z.T / t
    n = z1.shape[0]
    logits.fill_diagonal_(float("-inf"))
    targets = (torch.arange(2 * n) + n) % (2 * n)
    return F.cross_entropy(logits, targets)


def speedrun(a, two_views):
    """The method for a.minutes of wall-clock time, the decoding of a.data into memory included."""
    started = time.perf_counter()
    data = InMemory(datasets.ImageFolder(a.data), two_views)
    prep = time.perf_counter() - started
    loader = DataLoader(data, batch_size=a.batch, shuffle=True, num_workers=a.workers, drop_last=True, persistent_workers=a.workers > 0)
    it = endless(loader)

    def build():
        torch.manual_seed(a.seed)
        method = Method(a.method, ResNet18(a.width), a.hidden)
        method.temperature = a.temperature
        params = [q for q in method.parameters() if q.requires_grad]
        opt = torch.optim.SGD([{"params": [q for q in params if q.ndim > 1], "weight_decay": a.weight_decay},
                               {"params": [q for q in params if q.ndim <= 1], "weight_decay": 0}], lr=a.lr, momentum=0.9)
        return method, opt

    def side_at(fraction):
        """Progressive resizing (selfsup's train/resolutionSchedule.ts): start_size growing linearly to 32 px between
        resize_from and resize_until of the budget, in multiples of 4."""
        if not a.start_size:
            return 32
        progress = min(1.0, max(0.0, (fraction - a.resize_from) / (a.resize_until - a.resize_from)))
        return min(32, max(4, 4 * math.floor((a.start_size + (32 - a.start_size) * progress) / 4 + 0.5)))

    def train_step(method, opt, mode, fmt, side=32):
        views, _ = next(it)
        if side != 32:
            views = [F.interpolate(v, size=(side, side), mode="bilinear", antialias=True, align_corners=False) for v in views]
        with autocast(mode):
            loss = method.loss([v.contiguous(memory_format=fmt) for v in views])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        method.after_step(0.99)
        return loss.item()

    # PyTorch at its best: the fastest mode on a few steps of a throwaway model (not counted)
    rates = {}
    for mode in parse_modes(a.modes):
        fmt = torch.channels_last if channels_last(mode) else torch.contiguous_format
        method, opt = build()
        method = method.to(memory_format=fmt)
        for _ in range(a.warmup):
            train_step(method, opt, mode, fmt)
        t = time.perf_counter()
        for _ in range(a.steps):
            train_step(method, opt, mode, fmt)
        rates[mode] = a.steps * a.batch / (time.perf_counter() - t)
    mode = max(rates, key=rates.get)
    fmt = torch.channels_last if channels_last(mode) else torch.contiguous_format
    method, opt = build()
    method = method.to(memory_format=fmt)
    budget = 60 * a.minutes - prep
    warm = a.warmup_share * budget
    curve, trained, paused, steps, losses = [], 0.0, 0.0, 0, []
    clock = time.perf_counter()
    next_mark = 60 * a.curve_every
    while trained < budget:
        lr = a.lr * trained / warm if trained < warm else 0.5 * a.lr * (1 + math.cos(math.pi * (trained - warm) / max(1e-9, budget - warm)))
        for g in opt.param_groups:
            g["lr"] = lr
        losses.append(train_step(method, opt, mode, fmt, side_at(trained / budget)))
        steps += 1
        trained = time.perf_counter() - clock - paused
        if a.val and (prep + trained >= next_mark or trained >= budget):
            t = time.perf_counter()
            with autocast(mode):
                curve.append({"minutes": round((prep + trained) / 60, 2), "knn_top1": knn_top1(method.backbone, a.data, a.val, a.workers)})
            paused += time.perf_counter() - t
            next_mark += 60 * a.curve_every
    result = {"mode": mode, "modes": rates, "prep_seconds": prep, "trained_seconds": trained, "steps": steps,
              "images_seen": steps * a.batch, "img_per_s": steps * a.batch / trained, "first_loss": losses[0], "last_loss": losses[-1],
              "curve": curve, "torch": torch.__version__}
    if a.test:
        with autocast(mode):
            result["knn_top1"] = knn_top1(method.backbone, a.data, a.test, a.workers)
    print(json.dumps(result))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True)
    p.add_argument("--test")
    p.add_argument("--mode", choices=["speed", "parity", "speedrun"], default="speed")
    p.add_argument("--method", default="simclr")
    p.add_argument("--hidden", type=int, default=0)
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
    p.add_argument("--minutes", type=float, default=30)
    p.add_argument("--warmup-share", type=float, default=0.05)
    p.add_argument("--weight-decay", type=float, default=5e-4)
    p.add_argument("--val")
    p.add_argument("--curve-every", type=float, default=5)
    p.add_argument("--temperature", type=float, default=0.5)
    p.add_argument("--start-size", type=int, default=0, help="progressive resizing: the views' side at the start (0: off)")
    p.add_argument("--resize-from", type=float, default=0.0)
    p.add_argument("--resize-until", type=float, default=0.75)
    add_mode_args(p, default="fp32")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    scale = (0.2, 1.0) if a.method in ("moco_v2", "simsiam", "fastsiam") else (0.08, 1.0)
    jitter = (0.4, 0.4, 0.4, 0.1) if a.method in ("simclr", "moco_v2", "simsiam", "fastsiam") else (0.4, 0.4, 0.2, 0.1)
    common = [T.RandomResizedCrop(32, scale=scale), T.RandomHorizontalFlip(), T.RandomApply([T.ColorJitter(*jitter)], p=0.8), T.RandomGrayscale(p=0.2)]
    tail = [T.ToTensor(), T.Normalize(MEAN, STD)]
    view1 = T.Compose(common + tail)
    asymmetric = a.method in ("moco_v3", "byol", "barlow_twins", "vicreg", "nnclr")
    view2 = T.Compose(common + ([T.RandomSolarize(128, p=0.2)] if asymmetric else []) + tail)
    supervised = T.Compose([T.RandomResizedCrop(32), T.RandomHorizontalFlip()] + tail)

    def two_views(img):
        # supervised pretraining: one view, as selfsup's 'supervised' preset (random resized crop + flip)
        if a.method == "supervised":
            v = supervised(img)
            return v, v
        if a.method == "fastsiam":   # 4 views of aug+
            return tuple(view1(img) for _ in range(4))
        return view1(img), view2(img)
    folder = datasets.ImageFolder(a.data, transform=two_views)
    data = InMemory(folder, two_views) if a.in_memory else folder
    loader = DataLoader(data, batch_size=a.batch, shuffle=True, num_workers=a.workers, drop_last=True,
                        persistent_workers=a.workers > 0)
    backbone = ResNet18(a.width)
    method = Method(a.method, backbone, a.hidden)
    params = [q for q in method.parameters() if q.requires_grad]
    decay = [q for q in params if q.ndim > 1]
    no_decay = [q for q in params if q.ndim <= 1]
    opt = torch.optim.SGD([{"params": decay, "weight_decay": 5e-4}, {"params": no_decay, "weight_decay": 0}], lr=a.lr, momentum=0.9)

    def step(views):
        loss = method.loss(views)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        method.after_step(0.99)
        return loss.item()

    if a.mode == "speed":
        it = endless(loader)

        def make_step(mode):
            model = Method(a.method, ResNet18(a.width), a.hidden)
            fmt = torch.channels_last if channels_last(mode) else torch.contiguous_format
            model = model.to(memory_format=fmt)
            trained = [q for q in model.parameters() if q.requires_grad]
            optimizer = torch.optim.SGD([{"params": [q for q in trained if q.ndim > 1], "weight_decay": 5e-4},
                                         {"params": [q for q in trained if q.ndim <= 1], "weight_decay": 0}], lr=a.lr, momentum=0.9)

            def one():
                views, labels = next(it)
                with autocast(mode):
                    loss = model.loss([v.contiguous(memory_format=fmt) for v in views], labels)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                model.after_step(0.99)
            return one

        report(time_modes(parse_modes(a.modes), make_step, a.batch, a.warmup, a.steps), method=a.method, in_memory=a.in_memory)
        return

    if a.mode == "speedrun":
        speedrun(a, two_views)
        return

    total = a.epochs * len(loader)
    warm = round(a.warmup_epochs * len(loader))
    k, losses = 0, []
    start = time.perf_counter()
    for _ in range(a.epochs):
        for views, _ in loader:
            lr = a.lr * k / warm if k < warm else 0.5 * a.lr * (1 + math.cos(math.pi * (k - warm) / max(1, total - warm)))
            for g in opt.param_groups:
                g["lr"] = lr
            losses.append(step(views))
            k += 1
    seconds = time.perf_counter() - start
    top1 = knn_top1(backbone, a.data, a.test, a.workers)
    print(json.dumps({"knn_top1": top1, "first_loss": losses[0], "last_loss": losses[-1], "steps": k, "seconds": seconds, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
