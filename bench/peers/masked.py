"""Peer of the `mae`, `beit` and `simmim` rows of `npm run bench -- methods`: masked image modelling in
PyTorch as the reference code writes it, ViT-Tiny/4 (tools/timm_vit.py, timm's structure) at 32x32
on CIFAR-10 JPEGs in a torchvision ImageFolder DataLoader with worker processes, AdamW.

  mae:  random masking of 75% (argsort of noise), encoder on the visible patches, decoder of
        4 blocks of width 128 with a mask token and fixed position embeddings, MSE on masked
        patches against per-patch normalised pixels.
  beit: blockwise masking of 40% (BEiT's MaskingGenerator), mask token in place of the masked patch
        embeddings, LayerScale 0.1, tokens of the original image from a VQ-VAE encoder (selfsup's
        architecture, 8192 codes, frozen), cross-entropy at masked positions.
  ijepa: I-JEPA's multi-block masks made in the DataLoader's collate function (as the reference's
        MaskCollator: 4 target blocks of 15-20%, a context block of 85-100% without them), the
        encoder (fixed sin-cos positions) on the context patches, a predictor of 2 blocks 192 wide
        with a mask token per target patch (every token through every block, as the reference;
        selfsup's last block computes the mask tokens' outputs alone), an EMA target encoder on
        the whole image (its tokens layer-normalised), the squared L2 distance.
Prints one JSON line (peer_modes.py's report: img/s per mode of --modes, the best) over --steps steps after
--warmup steps; --in-memory holds the decoded images as selfsup's side does.
"""
import argparse
import copy
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
from timm_vit import Block, VisionTransformer  # noqa: E402
from peer_modes import InMemory, add_mode_args, autocast, endless, parse_modes, report, time_modes  # noqa: E402

MEAN, STD = (0.4914, 0.4822, 0.4465), (0.247, 0.2435, 0.2616)
DIM, DEPTH, HEADS, PATCH, GRID = 192, 12, 3, 4, 8


def patchify(x):
    b = x.shape[0]
    x = x.reshape(b, 3, GRID, PATCH, GRID, PATCH)
    return torch.einsum("nchpwq->nhwpqc", x).reshape(b, GRID * GRID, PATCH * PATCH * 3)


def sincos(grid, dim):
    omega = 1.0 / 10000 ** (torch.arange(dim // 4, dtype=torch.float64) / (dim / 4))
    pos = torch.arange(grid, dtype=torch.float64)
    col, row = pos.repeat(grid), pos.repeat_interleave(grid)

    def axis(p):
        out = torch.outer(p, omega)
        return torch.cat([out.sin(), out.cos()], 1)
    table = torch.cat([axis(col), axis(row)], 1).float()
    return torch.cat([torch.zeros(1, dim), table]).unsqueeze(0)


class MAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = VisionTransformer(PATCH, DIM, DEPTH, HEADS, GRID * GRID, 1)
        self.encoder.pos_embed.data.copy_(sincos(GRID, DIM))
        self.encoder.pos_embed.requires_grad = False
        self.decoder_embed = nn.Linear(DIM, 128)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, 128))
        self.register_buffer("decoder_pos", sincos(GRID, 128))
        self.decoder_blocks = nn.Sequential(*[Block(128, 4) for _ in range(4)])
        self.decoder_norm = nn.LayerNorm(128, eps=1e-6)
        self.decoder_pred = nn.Linear(128, PATCH * PATCH * 3)

    def forward(self, imgs):
        b, n = imgs.shape[0], GRID * GRID
        keep_n = int(n * 0.25)
        shuffle = torch.rand(b, n).argsort(1)
        restore = shuffle.argsort(1)
        keep = shuffle[:, :keep_n]
        e = self.encoder
        t = e.patch_embed(imgs) + e.pos_embed[:, 1:]
        t = torch.gather(t, 1, keep.unsqueeze(-1).expand(-1, -1, DIM))
        cls = (e.cls_token + e.pos_embed[:, :1]).expand(b, -1, -1)
        latent = e.norm(e.blocks(torch.cat([cls, t], 1)))
        x = self.decoder_embed(latent)
        masks = self.mask_token.expand(b, n - keep_n, -1)
        y = torch.cat([x[:, 1:], masks], 1)
        y = torch.gather(y, 1, restore.unsqueeze(-1).expand(-1, -1, 128))
        y = torch.cat([x[:, :1], y], 1) + self.decoder_pos
        pred = self.decoder_pred(self.decoder_norm(self.decoder_blocks(y)))[:, 1:]
        target = patchify(imgs)
        target = (target - target.mean(-1, keepdim=True)) / (target.var(-1, keepdim=True) + 1e-6) ** 0.5
        mask = torch.ones(b, n)
        mask.scatter_(1, keep, 0)
        return (((pred - target) ** 2).mean(-1) * mask).sum() / mask.sum()


def blockwise_mask(grid, count, min_patches=4, min_aspect=0.3):
    """BEiT's MaskingGenerator for one image: rectangles until `count` patches are masked."""
    mask = torch.zeros(grid, grid, dtype=torch.bool)
    log_aspect = (math.log(min_aspect), math.log(1 / min_aspect))
    done = 0
    while done < count:
        added = 0
        for _ in range(10):
            area = random.uniform(min_patches, count - done)
            aspect = math.exp(random.uniform(*log_aspect))
            h, w = int(round(math.sqrt(area * aspect))), int(round(math.sqrt(area / aspect)))
            if w < grid and h < grid:
                top, left = random.randint(0, grid - h), random.randint(0, grid - w)
                new = h * w - int(mask[top:top + h, left:left + w].sum())
                if 0 < new <= count - done:
                    mask[top:top + h, left:left + w] = True
                    added = new
                    break
        if added == 0:
            break
        done += added
    return mask.flatten()


class Tokenizer(nn.Module):
    """selfsup's VQ-VAE encoder (64 -> 128 -> 256 channels, two halvings, 32-d codes) and 8192 codes."""

    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv2d(3, 64, 3, 1, 1), nn.ReLU(), nn.Conv2d(64, 128, 4, 2, 1), nn.ReLU(),
                                     nn.Conv2d(128, 256, 4, 2, 1), nn.ReLU(), nn.Conv2d(256, 32, 1))
        self.register_buffer("codebook", torch.randn(8192, 32))

    @torch.no_grad()
    def forward(self, x):
        z = self.encoder(x).permute(0, 2, 3, 1).reshape(-1, 32)
        d = z.pow(2).sum(1, keepdim=True) - 2 * z @ self.codebook.T + self.codebook.pow(2).sum(1)
        return d.argmin(1).reshape(x.shape[0], -1)


class MaskedViT(nn.Module):
    """The ViT of BEiT and SimMIM: LayerScale 0.1 on both residual branches, a mask token in place of
    the masked patch embeddings; returns the patch tokens after the final norm."""

    def __init__(self):
        super().__init__()
        self.vit = VisionTransformer(PATCH, DIM, DEPTH, HEADS, GRID * GRID, 1)
        for blk in self.vit.blocks:
            blk.gamma1 = nn.Parameter(torch.full((DIM,), 0.1))
            blk.gamma2 = nn.Parameter(torch.full((DIM,), 0.1))
        self.mask_token = nn.Parameter(torch.zeros(1, 1, DIM))

    def forward(self, imgs, mask):
        b, v = imgs.shape[0], self.vit
        t = v.patch_embed(imgs)
        t = torch.where(mask.unsqueeze(-1), self.mask_token.expand_as(t), t) + v.pos_embed[:, 1:]
        h = torch.cat([(v.cls_token + v.pos_embed[:, :1]).expand(b, -1, -1), t], 1)
        for blk in v.blocks:
            h = h + blk.gamma1 * blk.attn(blk.norm1(h))
            h = h + blk.gamma2 * blk.mlp(blk.norm2(h))
        return v.norm(h)[:, 1:]


class BEiT(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = MaskedViT()
        self.lm_head = nn.Linear(DIM, 8192)
        self.tokenizer = Tokenizer()

    def forward(self, imgs):
        b = imgs.shape[0]
        mask = torch.stack([blockwise_mask(GRID, round(0.4 * GRID * GRID)) for _ in range(b)])
        ids = self.tokenizer(imgs)
        h = self.encoder(imgs, mask)
        return F.cross_entropy(self.lm_head(h[mask]), ids[mask])


class SimMIM(nn.Module):
    """SimMIM's MaskGenerator (60% of 8-px squares, 2x2 patches each), a linear head to each patch's
    pixels, L1 on the masked pixels."""

    def __init__(self):
        super().__init__()
        self.encoder = MaskedViT()
        self.head = nn.Linear(DIM, PATCH * PATCH * 3)

    def forward(self, imgs):
        b, cells = imgs.shape[0], GRID // 2
        count = math.ceil(cells * cells * 0.6)
        mask = torch.zeros(b, cells * cells, dtype=torch.bool)
        mask.scatter_(1, torch.rand(b, cells * cells).argsort(1)[:, :count], True)
        mask = mask.reshape(b, cells, cells).repeat_interleave(2, 1).repeat_interleave(2, 2).reshape(b, GRID * GRID)
        pred = self.head(self.encoder(imgs, mask))
        error = (pred - patchify(imgs)).abs().mean(-1)
        return (error * mask).sum() / mask.sum()


def multiblock_masks(batch, npred=4, min_keep=10):
    """I-JEPA's MaskCollator on the GRID x GRID patches: block sizes per batch, positions per image,
    contexts cut to the batch's smallest (a random subset). Returns ctx [B, C] and tgt [M, B, T]."""
    def size(scale, aspect):
        area = int(GRID * GRID * random.uniform(*scale))
        r = random.uniform(*aspect)
        return (min(max(1, round(math.sqrt(area * r))), GRID - 1), min(max(1, round(math.sqrt(area / r))), GRID - 1))

    def place(h, w):
        top, left = random.randint(0, GRID - h), random.randint(0, GRID - w)
        m = torch.zeros(GRID, GRID, dtype=torch.bool)
        m[top:top + h, left:left + w] = True
        return m.flatten()

    target, context = size((0.15, 0.2), (0.75, 1.5)), size((0.85, 1.0), (1.0, 1.0))
    tgt, ctx = [], []
    for _ in range(batch):
        blocks = [place(*target) for _ in range(npred)]
        tgt.append(torch.stack([blk.nonzero().squeeze(1) for blk in blocks]))
        for tries in range(1000):  # after 20 short draws, one target block fewer constrains the context
            excluded = max(0, npred - tries // 20)
            hidden = torch.stack(blocks[:excluded]).any(0) if excluded else torch.zeros(GRID * GRID, dtype=torch.bool)
            kept = place(*context) & ~hidden
            if kept.sum() > min_keep or excluded == 0:
                break
        ctx.append(kept.nonzero().squeeze(1))
    keep = min(len(c) for c in ctx)
    ctx = torch.stack([c[torch.randperm(len(c))[:keep]].sort().values for c in ctx])
    return ctx, torch.stack(tgt, 1)


class MultiBlockCollate:
    """default_collate plus a batch's I-JEPA masks, made in the loader's worker processes (as the reference)."""

    def __call__(self, items):
        x, y = torch.utils.data.default_collate(items)
        return x, multiblock_masks(x.shape[0])


class IJEPA(nn.Module):
    PRED = DIM  # selfsup's default: the encoder's width up to 384, 2 blocks on an 8 x 8 grid

    def __init__(self):
        super().__init__()
        self.encoder = VisionTransformer(PATCH, DIM, DEPTH, HEADS, GRID * GRID, 1, pool="mean")
        self.encoder.pos_embed.data.copy_(sincos(GRID, DIM))
        self.encoder.pos_embed.requires_grad = False
        self.target = copy.deepcopy(self.encoder)
        for q in self.target.parameters():
            q.requires_grad = False
        self.predictor_embed = nn.Linear(DIM, self.PRED)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, self.PRED))
        self.register_buffer("predictor_pos", sincos(GRID, self.PRED)[:, 1:])
        self.predictor_blocks = nn.Sequential(*[Block(self.PRED, HEADS) for _ in range(2)])
        self.predictor_norm = nn.LayerNorm(self.PRED, eps=1e-6)
        self.predictor_proj = nn.Linear(self.PRED, DIM)

    @staticmethod
    def tokens(vit, imgs, keep=None):
        t = vit.patch_embed(imgs) + vit.pos_embed[:, 1:]
        if keep is not None:
            t = torch.gather(t, 1, keep.unsqueeze(-1).expand(-1, -1, t.shape[-1]))
        cls = (vit.cls_token + vit.pos_embed[:, :1]).expand(t.shape[0], -1, -1)
        return vit.norm(vit.blocks(torch.cat([cls, t], 1)))[:, 1:]

    def forward(self, imgs, ctx, tgt):
        m, b, t = tgt.shape
        gather = lambda x, ids: torch.gather(x, 1, ids.unsqueeze(-1).expand(-1, -1, x.shape[-1]))  # noqa: E731
        with torch.no_grad():
            h = self.tokens(self.target, imgs)
            wanted = gather(F.layer_norm(h, (DIM,)).repeat(m, 1, 1), tgt.reshape(m * b, t))
        z = self.tokens(self.encoder, imgs, ctx)
        pos = self.predictor_pos.expand(b, -1, -1)
        x = self.predictor_embed(z) + gather(pos, ctx)
        queries = self.mask_token + gather(pos.repeat(m, 1, 1), tgt.reshape(m * b, t))
        h = self.predictor_norm(self.predictor_blocks(torch.cat([x.repeat(m, 1, 1), queries], 1)))
        return F.mse_loss(self.predictor_proj(h[:, x.shape[1]:]).float(), wanted.float())

    @torch.no_grad()
    def after_step(self, momentum=0.998):
        for q, k in zip(self.target.parameters(), self.encoder.parameters()):
            q.mul_(momentum).add_(k.detach(), alpha=1 - momentum)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--method", choices=["mae", "beit", "simmim", "ijepa"], required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--steps", type=int, default=4)
    p.add_argument("--warmup", type=int, default=1)
    add_mode_args(p, default="fp32")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    random.seed(0)
    if a.method == "mae":
        view = T.Compose([T.RandomResizedCrop(32, scale=(0.2, 1.0), interpolation=T.InterpolationMode.BICUBIC), T.RandomHorizontalFlip(),
                          T.ToTensor(), T.Normalize(MEAN, STD)])
        betas = (0.9, 0.95)
    elif a.method == "ijepa":
        view = T.Compose([T.RandomResizedCrop(32, scale=(0.3, 1.0)), T.ToTensor(), T.Normalize(MEAN, STD)])
        betas = (0.9, 0.999)
    elif a.method == "simmim":
        view = T.Compose([T.RandomResizedCrop(32, scale=(0.67, 1.0), ratio=(3 / 4, 4 / 3)), T.RandomHorizontalFlip(),
                          T.ToTensor(), T.Normalize(MEAN, STD)])
        betas = (0.9, 0.999)
    else:
        view = T.Compose([T.RandomResizedCrop(32, scale=(0.08, 1.0)), T.RandomHorizontalFlip(), T.ColorJitter(0.4, 0.4, 0.4),
                          T.ToTensor(), T.Normalize(MEAN, STD)])
        betas = (0.9, 0.999)
    folder = datasets.ImageFolder(a.data, transform=view)
    data = InMemory(folder, view) if a.in_memory else folder
    loader = DataLoader(data, batch_size=a.batch, shuffle=True, num_workers=a.workers, drop_last=True, persistent_workers=a.workers > 0,
                        collate_fn=MultiBlockCollate() if a.method == "ijepa" else None)
    it = endless(loader)

    def make_step(mode):
        model = {"mae": MAE, "beit": BEiT, "simmim": SimMIM, "ijepa": IJEPA}[a.method]()
        params = [q for q in model.parameters() if q.requires_grad]
        opt = torch.optim.AdamW([{"params": [q for q in params if q.ndim > 1], "weight_decay": 0.05},
                                 {"params": [q for q in params if q.ndim <= 1], "weight_decay": 0}], lr=1.5e-4, betas=betas)
        model.train()

        def step():
            x, extra = next(it)
            with autocast(mode):
                loss = model(x, *extra) if a.method == "ijepa" else model(x)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if a.method == "ijepa":
                model.after_step()
        return step

    report(time_modes(parse_modes(a.modes), make_step, a.batch, a.warmup, a.steps), method=a.method, in_memory=a.in_memory)


if __name__ == "__main__":
    main()
