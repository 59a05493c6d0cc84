"""Peer of `npm run bench -- augment`: SimCLR two-view augmentation of an ImageFolder with
torchvision + PIL, as a user writes it: DataLoader(num_workers) over ImageFolder with the
two-view transform, one JSON line with images/s (two views each) over full epochs.
Usage: /usr/bin/python3 augment.py <folder> <size> <batch> <workers> <epochs> <blur: 0|1>
"""
import json
import sys
import time

import torch
from torch.utils.data import DataLoader
from torchvision import datasets, transforms as T

folder, size, batch, workers, epochs, blur = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6] == "1"
torch.set_num_threads(max(1, workers))
s = 0.5 if size <= 64 else 1.0  # SimCLR's colour strength: 0.5 on CIFAR, 1 on ImageNet
steps = [
    T.RandomResizedCrop(size, scale=(0.08, 1.0)),
    T.RandomHorizontalFlip(),
    T.RandomApply([T.ColorJitter(0.8 * s, 0.8 * s, 0.8 * s, 0.2 * s)], p=0.8),
    T.RandomGrayscale(p=0.2),
]
if blur:
    k = max(3, size // 10 + (1 - (size // 10) % 2))
    steps.append(T.RandomApply([T.GaussianBlur(k, sigma=(0.1, 2.0))], p=0.5))
steps += [T.ToTensor(), T.Normalize((0.4914, 0.4822, 0.4465), (0.247, 0.2435, 0.2616))]
view = T.Compose(steps)


class TwoViews:
    def __call__(self, img):
        return view(img), view(img)


data = datasets.ImageFolder(folder, transform=TwoViews())
loader = DataLoader(data, batch_size=batch, shuffle=True, num_workers=workers, drop_last=True, persistent_workers=workers > 0)
for _ in loader:  # warm-up: one whole epoch (workers started, page cache warm, no prefetched batch left in flight)
    pass
count = 0
start = time.perf_counter()
for _ in range(epochs):
    for (a, b), _labels in loader:
        count += a.shape[0]
elapsed = time.perf_counter() - start
print(json.dumps({"img_per_s": count / elapsed, "images": count, "seconds": elapsed, "torch": torch.__version__}))
