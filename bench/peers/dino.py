"""Peer of the `dino` and `ibot` rows of `npm run bench -- methods`: DINO as its reference code writes it
(main_dino.py: MultiCropWrapper, DINOHead, DINOLoss with a centre, EMA teacher, AdamW, gradient
clipping at 3), on ViT-Tiny/4 (tools/timm_vit.py, position embeddings interpolated for the local
crops as interpolate_pos_encoding does) or ResNet-18 with the CIFAR stem, 32x32 CIFAR-10 JPEGs in a
torchvision ImageFolder DataLoader with worker processes: 2 global crops of 32 and 6 local of 16.
--method ibot adds iBOT's masked image modelling as main_ibot.py does (ViT only): blockwise masks made
in the data workers (half of the images, 10-50% of the patches), the student's global crops with a mask
token at the masked patches, one head for the [CLS] and patch tokens, the patch loss at the masked
patches against the teacher's unmasked crops with a patch centre of its own.
--method dinov2 is iBOT with DINOv2's additions as its reference code (dinov2/train/ssl_meta_arch.py)
writes them: Sinkhorn-Knopp targets (sinkhorn_knopp_teacher) for the [CLS] and masked-patch tokens instead
of centres, a separate patch head (student and EMA teacher), KoLeo (weight 0.1) on the student's [CLS]
features of each global crop.
Prints one JSON line (peer_modes.py's report: img/s per mode of --modes, the best) over --steps steps after
--warmup steps; --in-memory holds the decoded images as selfsup's side does.
"""
import argparse
import math
import os
import random
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader
from torchvision import datasets, transforms as T

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tools"))
sys.path.insert(0, os.path.dirname(__file__))
from timm_vit import VisionTransformer  # noqa: E402
from methods import ResNet18  # noqa: E402
from swav import sinkhorn  # noqa: E402  (SwAV's Sinkhorn-Knopp is DINOv2's sinkhorn_knopp_teacher on one process)
from peer_modes import InMemory, add_mode_args, autocast, channels_last, endless, parse_modes, report, time_modes  # noqa: E402

MEAN, STD = (0.4914, 0.4822, 0.4465), (0.247, 0.2435, 0.2616)


class ViTBackbone(nn.Module):
    """ViT-Tiny/4 returning the cls token; other image sizes get bicubically resized position embeddings."""

    def __init__(self):
        super().__init__()
        self.vit = VisionTransformer(4, 192, 12, 3, 64, 1)
        self.feature_dim = 192

    def forward(self, x):
        v = self.vit
        t = v.patch_embed(x)
        side = x.shape[-1] // 4
        pos = v.pos_embed[:, 1:]
        if side != 8:
            pos = F.interpolate(pos.reshape(1, 8, 8, -1).permute(0, 3, 1, 2), size=(side, side), mode="bicubic", align_corners=False)
            pos = pos.permute(0, 2, 3, 1).reshape(1, side * side, -1)
        cls = (v.cls_token + v.pos_embed[:, :1]).expand(t.shape[0], -1, -1)
        return v.norm(v.blocks(torch.cat([cls, t + pos], 1)))[:, 0]


class MaskedViTBackbone(ViTBackbone):
    """iBOT's student and teacher: every token after the final norm, patches under `mask` replaced by the mask token."""

    def __init__(self):
        super().__init__()
        self.mask_token = nn.Parameter(torch.zeros(1, 1, 192))
        nn.init.trunc_normal_(self.mask_token, std=0.02)

    def tokens(self, x, mask=None):
        v = self.vit
        t = v.patch_embed(x)
        if mask is not None:
            t = torch.where(mask.unsqueeze(-1), self.mask_token.to(t.dtype).expand_as(t), t)
        cls = (v.cls_token + v.pos_embed[:, :1]).expand(t.shape[0], -1, -1)
        return v.norm(v.blocks(torch.cat([cls, t + v.pos_embed[:, 1:]], 1)))


def blockwise_mask(grid, patches, rng):
    """BEiT's mask generator: random blocks (at least 4 patches, aspect ratio 0.3-1/0.3) until `patches` are masked."""
    mask = torch.zeros(grid, grid, dtype=torch.bool)
    tries = 0
    while int(mask.sum()) < patches and tries < 100:
        tries += 1
        area = rng.uniform(min(4, patches), max(4, patches - int(mask.sum())))
        ratio = math.exp(rng.uniform(math.log(0.3), math.log(1 / 0.3)))
        h, w = int(round(math.sqrt(area * ratio))), int(round(math.sqrt(area / ratio)))
        if 0 < h <= grid and 0 < w <= grid:
            top, left = rng.randint(0, grid - h), rng.randint(0, grid - w)
            mask[top:top + h, left:left + w] = True
    return mask.flatten()


class DINOHead(nn.Module):
    """DINO's head; for a ResNet as solo-learn's CIFAR recipe (and selfsup's default): batch norm, a learned last-layer norm."""

    def __init__(self, in_dim, out_dim=4096, hidden=2048, bottleneck=256, bn=False):
        super().__init__()
        norm = (lambda: nn.BatchNorm1d(hidden)) if bn else nn.Identity
        self.mlp = nn.Sequential(nn.Linear(in_dim, hidden), norm(), nn.GELU(), nn.Linear(hidden, hidden), norm(), nn.GELU(), nn.Linear(hidden, bottleneck))
        self.last_layer = nn.utils.weight_norm(nn.Linear(bottleneck, out_dim, bias=False))
        self.last_layer.weight_g.data.fill_(1)
        self.last_layer.weight_g.requires_grad = bn

    def forward(self, x):
        return self.last_layer(F.normalize(self.mlp(x), dim=-1))


class MultiCrop(nn.Module):
    """One forward per run of same-sized crops, as DINO's MultiCropWrapper."""

    def __init__(self, backbone, head):
        super().__init__()
        self.backbone, self.head = backbone, head

    def forward(self, crops):
        out, i = [], 0
        while i < len(crops):
            j = i
            while j < len(crops) and crops[j].shape[-1] == crops[i].shape[-1]:
                j += 1
            out.append(self.backbone(torch.cat(crops[i:j])))
            i = j
        return self.head(torch.cat(out))


def koleo(x, eps=1e-8):
    """DINOv2's KoLeoLoss: minus the mean log distance of each normalised row to its nearest neighbour."""
    x = F.normalize(x.float(), eps=eps, dim=-1)
    with torch.no_grad():
        dots = x @ x.t()
        dots.view(-1)[:: x.shape[0] + 1].fill_(-1)
        nearest = dots.argmax(dim=1)
    return -torch.log(F.pairwise_distance(x, x[nearest], eps=eps) + eps).mean()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--method", choices=["dino", "ibot", "dinov2"], default="dino")
    p.add_argument("--backbone", choices=["vit_tiny", "resnet18"], default="vit_tiny")
    p.add_argument("--data", required=True)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--locals", type=int, default=6)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--steps", type=int, default=4)
    p.add_argument("--warmup", type=int, default=1)
    add_mode_args(p, default="fp32")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    color = [T.RandomHorizontalFlip(), T.RandomApply([T.ColorJitter(0.4, 0.4, 0.2, 0.1)], p=0.8), T.RandomGrayscale(p=0.2)]
    tail = [T.ToTensor(), T.Normalize(MEAN, STD)]
    bicubic = T.InterpolationMode.BICUBIC
    global1 = T.Compose([T.RandomResizedCrop(32, scale=(0.4, 1), interpolation=bicubic)] + color + tail)
    global2 = T.Compose([T.RandomResizedCrop(32, scale=(0.4, 1), interpolation=bicubic)] + color + [T.RandomSolarize(128, p=0.2)] + tail)
    local = T.Compose([T.RandomResizedCrop(16, scale=(0.05, 0.4), interpolation=bicubic)] + color + tail)
    ibot = a.method in ("ibot", "dinov2")
    v2 = a.method == "dinov2"
    if ibot and a.backbone != "vit_tiny":
        p.error(f"--method {a.method} needs --backbone vit_tiny")
    rng = random.Random(0)

    def masks():
        """One global crop's mask [64] (8x8 patches): half of the images masked, 10-50% of their patches."""
        return blockwise_mask(8, round(rng.uniform(0.1, 0.5) * 64), rng) if rng.random() < 0.5 else torch.zeros(64, dtype=torch.bool)

    def crops_of(img):
        crops = [global1(img), global2(img)] + [local(img) for _ in range(a.locals)]
        return crops + [masks(), masks()] if ibot else crops
    folder = datasets.ImageFolder(a.data, transform=crops_of)
    data = InMemory(folder, crops_of) if a.in_memory else folder
    loader = DataLoader(data, batch_size=a.batch, shuffle=True, num_workers=a.workers, drop_last=True, persistent_workers=a.workers > 0)
    def build():
        backbone = (MaskedViTBackbone() if ibot else ViTBackbone()) if a.backbone == "vit_tiny" else ResNet18()
        model = MultiCrop(backbone, DINOHead(backbone.feature_dim, bn=a.backbone == "resnet18"))
        if v2:
            model.patch_head = DINOHead(backbone.feature_dim)
        return model

    it = endless(loader)

    def make_step(mode):
        fmt = torch.channels_last if channels_last(mode) else torch.contiguous_format
        student, teacher = build().to(memory_format=fmt), build().to(memory_format=fmt)  # weight_norm's weight is not a leaf, so no deepcopy (as main_dino.py)
        teacher.load_state_dict(student.state_dict())
        for q in teacher.parameters():
            q.requires_grad = False
        state = {"center": torch.zeros(1, 4096), "patch_center": torch.zeros(1, 1, 4096)}
        params = [q for q in student.parameters() if q.requires_grad]
        opt = torch.optim.AdamW([{"params": [q for q in params if q.ndim > 1]}, {"params": [q for q in params if q.ndim <= 1], "weight_decay": 0}], lr=2.5e-4, weight_decay=0.04)

        def heads(model, tokens, mask):
            """[CLS] and patch outputs of tokens [B, 1 + N, D]: one shared head on every token (iBOT), or
            DINOv2's two, the patch head on the masked patches' rows only [M, K] (as ssl_meta_arch.py)."""
            if v2:
                return model.head(tokens[:, 0]), model.patch_head(tokens[:, 1:][mask])
            out = model.head(tokens)                                                           # [B, 1 + N, K]
            return out[:, 0], out[:, 1:]

        def ibot_forward(crops, masks):
            """main_ibot.py's forward: [CLS] outputs of all crops, patch outputs of the global ones."""
            with torch.no_grad():
                t_all = [heads(teacher, teacher.backbone.tokens(c), m) for c, m in zip(crops[:2], masks)]
            s_tokens = [student.backbone.tokens(c, m) for c, m in zip(crops[:2], masks)]
            s_all = [heads(student, t, m) for t, m in zip(s_tokens, masks)]
            s_locals = student(crops[2:])
            t_out = torch.cat([t[0] for t in t_all])
            s_out = torch.cat([s[0] for s in s_all] + [s_locals])
            state["s_cls_features"] = [t[:, 0] for t in s_tokens]
            return t_out, s_out, [t[1] for t in t_all], [s[1] for s in s_all]

        def step():
            crops, _ = next(it)
            masks = crops[-2:] if ibot else []
            crops = [c.contiguous(memory_format=fmt) for c in (crops[:-2] if ibot else crops)]
            b = crops[0].shape[0]
            with autocast(mode):
                if ibot:
                    t_out, s_out, t_patches, s_patches = ibot_forward(crops, masks)
                else:
                    with torch.no_grad():
                        t_out = teacher(crops[:2])
                    s_out = student(crops)
            t_out, s_out = t_out.float(), s_out.float()
            targets = (sinkhorn(t_out, 0.04) if v2 else F.softmax((t_out - state["center"]) / 0.04, dim=-1)).chunk(2)
            logs = F.log_softmax(s_out / 0.1, dim=-1).chunk(len(crops))
            loss, n = 0, 0
            for i, q in enumerate(targets):
                for j, lp in enumerate(logs):
                    if i != j:
                        loss = loss + torch.sum(-q * lp, dim=-1).mean()
                        n += 1
            loss = loss / n
            if ibot:
                patch_loss = 0
                if v2:  # ssl_meta_arch.py: the masked rows' Sinkhorn-Knopp codes, all crops together, each row
                    # weighted 1 / (its image's masked patches), summed and divided by the batch
                    rows = torch.cat([tp.float() for tp in t_patches])
                    codes = (sinkhorn(rows, 0.04) if rows.shape[0] > 0 else rows).split([int(m.sum()) for m in masks])
                    for q, sp, m in zip(codes, s_patches, masks):
                        per_patch = torch.sum(-q * F.log_softmax(sp.float() / 0.1, dim=-1), dim=-1)  # [M]
                        weight = (1 / m.sum(-1).clamp(min=1.0)).unsqueeze(-1).expand_as(m)[m]
                        patch_loss = patch_loss + (per_patch * weight).sum() / m.shape[0]
                else:
                    for tp, sp, m in zip(t_patches, s_patches, masks):
                        q = F.softmax((tp.float() - state["patch_center"]) / 0.04, dim=-1)
                        per_patch = torch.sum(-q * F.log_softmax(sp.float() / 0.1, dim=-1), dim=-1)  # [B, N]
                        m = m.float()
                        patch_loss = patch_loss + ((per_patch * m).sum(-1) / m.sum(-1).clamp(min=1)).mean()
                loss = loss + patch_loss / len(masks)
            if v2:
                loss = loss + 0.1 * sum(koleo(f) for f in state["s_cls_features"])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(params, 3.0)
            opt.step()
            with torch.no_grad():
                if not v2:  # DINOv2's Sinkhorn-Knopp needs no centres
                    state["center"] = state["center"] * 0.9 + t_out.mean(0, keepdim=True) * 0.1
                if ibot and not v2:
                    patches = torch.cat([tp.float() for tp in t_patches]).mean((0, 1), keepdim=True)
                    state["patch_center"] = state["patch_center"] * 0.9 + patches * 0.1
                for ps, pt in zip(student.parameters(), teacher.parameters()):
                    pt.mul_(0.996).add_(ps.detach(), alpha=0.004)
            assert b == a.batch
        return step

    report(time_modes(parse_modes(a.modes), make_step, a.batch, a.warmup, a.steps), method=a.method, backbone=a.backbone, in_memory=a.in_memory)


if __name__ == "__main__":
    main()
