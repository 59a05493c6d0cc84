"""Builds the PyTorch module of a backbone exported by `selfsup export --format safetensors` and loads
its weights strictly: a torchvision ResNet (CIFAR stem: 3x3 conv, no max-pool; width multiplier:
torchvision's own blocks at scaled widths; fc = Identity) or the timm-shaped ViT of tools/timm_vit.py
(Debian has no python3-timm; timm's own VisionTransformer takes the same keys). python3-torch only.

    from selfsup_backbone import load_backbone
    model, description = load_backbone("encoder.safetensors")   # eval mode
    embeddings = model(normalised_images)                       # [N, featureDim], as selfsup's

    python3 tools/selfsup_backbone.py encoder.safetensors [io.safetensors]
      prints the description; with io.safetensors (tensors `input`, `output`) also the largest
      difference between the module's output on `input` and `output`, as JSON.
"""
import json
import os
import sys

import torch
import torch.nn as nn
import torchvision

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from load_safetensors import load  # noqa: E402
from timm_vit import VisionTransformer  # noqa: E402

DEPTHS = {"resnet18": ("BasicBlock", [2, 2, 2, 2]), "resnet34": ("BasicBlock", [3, 4, 6, 3]), "resnet50": ("Bottleneck", [3, 4, 6, 3])}
VITS = {"vit_tiny": (192, 12, 3), "vit_small": (384, 12, 6), "vit_base": (768, 12, 12)}


def resnet(spec):
    block_name, layers = DEPTHS[spec["name"]]
    block = getattr(torchvision.models.resnet, block_name)
    width = spec.get("width", 1)
    small = spec["imageSize"] <= 64
    stem = spec.get("stem") or ("cifar" if small else "imagenet")
    net = torchvision.models.resnet.ResNet(block, layers)
    base = round(64 * width)
    net.inplanes = base
    net.conv1 = nn.Conv2d(3, base, 3, 1, 1, bias=False) if stem == "cifar" else nn.Conv2d(3, base, 7, 2, 3, bias=False)
    net.bn1 = nn.BatchNorm2d(base)
    if stem == "cifar":
        net.maxpool = nn.Identity()
    for stage, depth in enumerate(layers):  # torchvision's _make_layer at scaled widths (width 1: torchvision's own)
        setattr(net, f"layer{stage + 1}", net._make_layer(block, round(64 * width * 2 ** stage), depth, stride=1 if stage == 0 else 2))
    net.fc = nn.Identity()
    return net


def vit(spec, depth_in_file):
    dim, depth, heads = VITS[spec["name"]]
    patch = spec.get("patchSize") or (4 if spec["imageSize"] <= 64 else 16)
    grid = spec["imageSize"] // patch
    return VisionTransformer(patch, dim, depth_in_file or depth, heads, grid * grid, 0, spec.get("layerScale"), spec.get("pool", "cls"))


def load_backbone(path):
    state, metadata = load(path)
    description = json.loads(metadata["selfsup"])
    spec = dict(description["backbone"], imageSize=description["imageSize"])
    if spec["name"].startswith("resnet"):
        model = resnet(spec)
    else:
        depth = len({k.split(".")[1] for k in state if k.startswith("blocks.")})
        model = vit(spec, depth)
    model.load_state_dict(state, strict=True)
    return model.eval(), description


if __name__ == "__main__":
    model, description = load_backbone(sys.argv[1])
    result = {"description": description, "parameters": sum(p.numel() for p in model.parameters())}
    if len(sys.argv) > 2:
        io, _ = load(sys.argv[2])
        with torch.no_grad():
            out = model(io["input"])
        result["max_abs_diff"] = (out - io["output"]).abs().max().item()
    print(json.dumps(result))
