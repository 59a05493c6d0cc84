"""Peer of `npm run bench -- engine`: the same ResNet-18 (CIFAR stem) SGD step in PyTorch.

Run with Debian's python3 (/usr/bin/python3, python3-torch + python3-torchvision).
Prints one JSON line: {"img_per_s": ..., "overhead_us": ..., "torch": ..., "peak_rss_mb": ...}.
"""
import argparse
import json
import resource
import time

import torch
import torch.nn as nn
import torchvision


def resnet18_cifar(num_classes=10):
    model = torchvision.models.resnet18(num_classes=num_classes)
    model.conv1 = nn.Conv2d(3, 64, kernel_size=3, stride=1, padding=1, bias=False)
    nn.init.kaiming_normal_(model.conv1.weight, mode="fan_out", nonlinearity="relu")
    model.maxpool = nn.Identity()
    return model


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--steps", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    a, b = torch.ones(1), torch.ones(1)
    calls = 100_000
    start = time.perf_counter()
    for _ in range(calls):
        torch.add(a, b)
    overhead_us = (time.perf_counter() - start) / calls * 1e6

    model = resnet18_cifar().train()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    x = torch.randn(args.batch, 3, args.size, args.size)
    y = torch.randint(0, 10, (args.batch,))

    def step():
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        return loss.item()

    for _ in range(args.warmup):
        step()
    start = time.perf_counter()
    for _ in range(args.steps):
        step()
    seconds = time.perf_counter() - start
    print(json.dumps({
        "img_per_s": args.batch * args.steps / seconds,
        "overhead_us": overhead_us,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


if __name__ == "__main__":
    main()
