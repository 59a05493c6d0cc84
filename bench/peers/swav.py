"""Peer of the `swav` row of `npm run bench -- methods`: SwAV as its reference code writes it
(main_swav.py: the projection head, unit prototypes renormalised before each step, distributed_sinkhorn
with 3 iterations at epsilon 0.05, the swapped prediction at temperature 0.1, the prototypes' gradients
dropped in the first iterations), on ResNet-18 with the CIFAR stem, 32x32 CIFAR-10 JPEGs in a torchvision
ImageFolder DataLoader with worker processes: 2 global crops of 32 and --locals local crops of 16; SGD.

  speed: one JSON line (peer_modes.py's report: img/s per mode of --modes, the best) over --steps steps
         after --warmup steps; --in-memory holds the decoded images as selfsup's side does.
  train: --train-steps steps at --size px from --seed, then weighted kNN (k 200, T 0.1) of the backbone
         on --test with --data as the memory bank, beside the random encoder's (the learning check).
"""
import argparse
import json
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader
from torchvision import datasets, transforms as T

sys.path.insert(0, os.path.dirname(__file__))
from methods import MEAN, STD, ResNet18, knn_top1, mlp  # noqa: E402
from peer_modes import InMemory, add_mode_args, autocast, channels_last, endless, parse_modes, report, time_modes  # noqa: E402


class SwAV(nn.Module):
    def __init__(self, backbone, hidden=2048, dim=128, prototypes=3000):
        super().__init__()
        self.backbone = backbone
        self.head = mlp([backbone.feature_dim, hidden, dim])
        self.prototypes = nn.Linear(dim, prototypes, bias=False)

    def forward(self, crops):
        """Unit embeddings' prototype scores, one pass per run of same-size crops: [B, K] per crop."""
        out, i = [], 0
        while i < len(crops):
            j = i
            while j < len(crops) and crops[j].shape[-1] == crops[i].shape[-1]:
                j += 1
            z = F.normalize(self.head(self.backbone(torch.cat(crops[i:j]))), dim=1)
            out += list(self.prototypes(z).chunk(j - i))
            i = j
        return out


@torch.no_grad()
def sinkhorn(out, epsilon=0.05, iterations=3):
    q = torch.exp(out / epsilon).t()
    k, b = q.shape
    q /= q.sum()
    for _ in range(iterations):
        q /= q.sum(dim=1, keepdim=True)
        q /= k
        q /= q.sum(dim=0, keepdim=True)
        q /= b
    return (q * b).t()


def swav_loss(scores, temperature=0.1):
    loss = 0
    for i in range(2):
        q = sinkhorn(scores[i].detach().float())
        sub = 0
        for v in range(len(scores)):
            if v != i:
                sub -= torch.mean(torch.sum(q * F.log_softmax(scores[v].float() / temperature, dim=1), dim=1))
        loss += sub / (len(scores) - 1)
    return loss / 2


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True)
    p.add_argument("--test")
    p.add_argument("--mode", choices=["speed", "train"], default="speed")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--size", type=int, default=32)
    p.add_argument("--width", type=float, default=1.0)
    p.add_argument("--hidden", type=int, default=2048)
    p.add_argument("--prototypes", type=int, default=3000)
    p.add_argument("--locals", type=int, default=6)
    p.add_argument("--lr", type=float, default=0.06)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--steps", type=int, default=4)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--train-steps", type=int, default=100)
    p.add_argument("--freeze-steps", type=int, default=31)
    p.add_argument("--seed", type=int, default=0)
    add_mode_args(p, default="fp32")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    distort = [T.RandomHorizontalFlip(), T.RandomApply([T.ColorJitter(0.8, 0.8, 0.8, 0.2)], p=0.8), T.RandomGrayscale(p=0.2),
               T.RandomApply([T.GaussianBlur(3, (0.1, 2.0))], p=0.5), T.ToTensor(), T.Normalize(MEAN, STD)]
    local_size = max(8, 8 * round(a.size * 96 / 224 / 8))
    global_crop = T.Compose([T.RandomResizedCrop(a.size, scale=(0.14, 1))] + distort)
    local_crop = T.Compose([T.RandomResizedCrop(local_size, scale=(0.05, 0.14))] + distort)

    def crops_of(img):
        return [global_crop(img), global_crop(img)] + [local_crop(img) for _ in range(a.locals)]
    folder = datasets.ImageFolder(a.data, transform=crops_of)
    data = InMemory(folder, crops_of) if a.in_memory else folder
    loader = DataLoader(data, batch_size=a.batch, shuffle=True, num_workers=a.workers, drop_last=True, persistent_workers=a.workers > 0)
    it = endless(loader)

    def make_step(mode, model=None):
        fmt = torch.channels_last if channels_last(mode) else torch.contiguous_format
        model = (model or SwAV(ResNet18(a.width), a.hidden, 128, a.prototypes)).to(memory_format=fmt)
        params = list(model.parameters())
        opt = torch.optim.SGD([{"params": [q for q in params if q.ndim > 1], "weight_decay": 5e-4},
                               {"params": [q for q in params if q.ndim <= 1], "weight_decay": 0}], lr=a.lr, momentum=0.9)
        state = {"step": 0}

        def step():
            crops, _ = next(it)
            crops = [c.contiguous(memory_format=fmt) for c in crops]
            with torch.no_grad():
                model.prototypes.weight.copy_(F.normalize(model.prototypes.weight, dim=1))
            with autocast(mode):
                scores = model(crops)
            loss = swav_loss(scores)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if state["step"] < a.freeze_steps:
                model.prototypes.weight.grad = None
            opt.step()
            state["step"] += 1
            return loss.item()
        return step

    if a.mode == "speed":
        report(time_modes(parse_modes(a.modes), make_step, a.batch, a.warmup, a.steps), method="swav", in_memory=a.in_memory)
        return
    model = SwAV(ResNet18(a.width), a.hidden, 128, a.prototypes)
    random_top1 = knn_top1(model.backbone, a.data, a.test, a.workers)
    step = make_step("fp32", model)
    losses = [step() for _ in range(a.train_steps)]
    print(json.dumps({"random_top1": random_top1, "top1": knn_top1(model.backbone, a.data, a.test, a.workers), "loss": [losses[0], losses[-1]], "torch": torch.__version__}))


if __name__ == "__main__":
    main()
