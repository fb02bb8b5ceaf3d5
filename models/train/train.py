"""Train road-damage-tiny from scratch on a YOLO-format dataset (CPU): AdamW, warm-up + cosine LR,
EMA weights, a checkpoint every epoch (rerun with the same --out to resume), val mAP@0.5 every
--eval-every epochs. Training uses random crops of the letterboxed frame on a --canvas-h × 320
canvas (half the pixels of 320×320); validation uses the engine's exact 320×320 letterbox.
"""
import argparse
import copy
import json
import math
import os
import random
import time

import numpy as np
import torch

from data import load_folder, make_batch
from loss import detection_loss
from model import Detector
from val import evaluate

p = argparse.ArgumentParser(description=__doc__)
p.add_argument("--train", required=True, help="training dataset folder (images/, labels/)")
p.add_argument("--val", required=True, help="validation dataset folder")
p.add_argument("--out", required=True, help="run folder: last.pt, best.pt, log.txt")
p.add_argument("--epochs", type=int, default=20)
p.add_argument("--batch", type=int, default=32)
p.add_argument("--lr", type=float, default=2e-3)
p.add_argument("--wd", type=float, default=0.01)
p.add_argument("--warmup", type=int, default=300, help="warm-up iterations")
p.add_argument("--canvas-h", type=int, default=160, help="training canvas height (random crops of the letterbox)")
p.add_argument("--eval-every", type=int, default=2)
p.add_argument("--limit", type=int, default=None, help="use only the first N training images")
p.add_argument("--val-limit", type=int, default=None)
p.add_argument("--seed", type=int, default=0)
p.add_argument("--threads", type=int, default=2)
args = p.parse_args()

torch.set_num_threads(args.threads)
random.seed(args.seed)
np.random.seed(args.seed)
torch.manual_seed(args.seed)
os.makedirs(args.out, exist_ok=True)
log_f = open(os.path.join(args.out, "log.txt"), "a")


def log(msg):
    line = f"{time.strftime('%H:%M:%S')} {msg}"
    print(line, flush=True)
    log_f.write(line + "\n")
    log_f.flush()


manifest = os.path.join(args.train, "dataset.json")
names = json.load(open(manifest)).get("classes") if os.path.exists(manifest) else None
names = names or ["D00", "D10", "D20", "D40"]
nc = len(names)
t0 = time.time()
tr_imgs, tr_labs = load_folder(args.train, limit=args.limit)
va_imgs, va_labs = load_folder(args.val, limit=args.val_limit)
log(f"data: {len(tr_imgs)} train, {len(va_imgs)} val images loaded in {time.time() - t0:.0f}s; args {vars(args)}")

model = Detector(nc)
ema = copy.deepcopy(model).eval()
for q in ema.parameters():
    q.requires_grad_(False)
decay, no_decay = [], []
for q in model.parameters():
    (decay if q.ndim == 4 else no_decay).append(q)
opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.wd}, {"params": no_decay, "weight_decay": 0}], lr=args.lr)
per_epoch = len(tr_imgs) // args.batch
total = per_epoch * args.epochs
start, step, best = 0, 0, -1.0
last = os.path.join(args.out, "last.pt")
if os.path.exists(last):
    ck = torch.load(last)
    model.load_state_dict(ck["model"])
    ema.load_state_dict(ck["ema"])
    opt.load_state_dict(ck["opt"])
    start, step, best = ck["epoch"] + 1, ck["step"], ck["best"]
    torch.set_rng_state(ck["torch_rng"])
    log(f"resumed after epoch {ck['epoch']} (step {step}, best mAP {best:.4f})")


def lr_at(i):
    if i < args.warmup:
        return args.lr * (i + 1) / args.warmup
    return args.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * (i - args.warmup) / max(total - args.warmup, 1))))


def ema_update(i):
    d = 0.9995 * (1 - math.exp(-i / 500))
    with torch.no_grad():
        for e, m in zip(ema.state_dict().values(), model.state_dict().values()):
            if e.dtype.is_floating_point:
                e.mul_(d).add_(m.detach(), alpha=1 - d)
            else:
                e.copy_(m)


def report(epoch, res):
    m = float(np.nanmean([r["ap"] for r in res]))
    per = "  ".join(f"{names[c]} AP {r['ap']:.3f} P {r['p']:.2f} R {r['r']:.2f} (n={r['n']})" for c, r in enumerate(res))
    log(f"epoch {epoch + 1} val mAP@0.5 {m:.4f} | {per}")
    return m


for epoch in range(start, args.epochs):
    model.train()
    rng = np.random.default_rng(args.seed * 1000 + epoch)
    perm = rng.permutation(len(tr_imgs))
    te, seen, parts_sum = time.time(), 0, {}
    for b in range(per_epoch):
        x, t = make_batch(tr_imgs, tr_labs, perm[b * args.batch:(b + 1) * args.batch], rng, (args.canvas_h, 320), augment=True)
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        loss, parts = detection_loss(model(x), t, model.strides)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 10.0)
        opt.step()
        step += 1
        ema_update(step)
        seen += len(x)
        for k, v in parts.items():
            parts_sum[k] = parts_sum.get(k, 0) + v
        if (b + 1) % 25 == 0 or b + 1 == per_epoch:
            avg = " ".join(f"{k} {v / (b + 1):.3f}" for k, v in parts_sum.items())
            log(f"epoch {epoch + 1}/{args.epochs} it {b + 1}/{per_epoch} {avg} lr {lr_at(step):.2e} {seen / (time.time() - te):.1f} img/s")
    ck = {"model": model.state_dict(), "ema": ema.state_dict(), "opt": opt.state_dict(), "epoch": epoch,
          "step": step, "best": best, "torch_rng": torch.get_rng_state(), "names": names, "args": vars(args)}
    if (epoch + 1) % args.eval_every == 0 or epoch + 1 == args.epochs:
        m = report(epoch, evaluate(ema, va_imgs, va_labs, nc))
        if m > best:
            best = ck["best"] = m
            torch.save({"ema": ema.state_dict(), "names": names, "epoch": epoch, "map": m}, os.path.join(args.out, "best.pt"))
    torch.save(ck, last + ".tmp")
    os.replace(last + ".tmp", last)
    log(f"epoch {epoch + 1} done in {time.time() - te:.0f}s; checkpoint saved")

log(f"finished: best val mAP@0.5 {best:.4f}; total {time.time() - t0:.0f}s")
