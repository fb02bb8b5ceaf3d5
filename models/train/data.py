"""Dataset loading and augmentation: YOLO-format folders (images/*.jpg, labels/*.txt with
`class cx cy w h` normalised) are letterboxed once to the model's input scale and kept in memory
as uint8; batches are built from them with hflip, scale/translate and brightness/contrast jitter.
"""
import glob
import os

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

GREY = 114 / 255


def load_image(path, imgsz=320):
    """A JPEG resized to fit imgsz×imgsz, aspect kept (the letterbox before padding): uint8 [3,h,w]."""
    im = Image.open(path).convert("RGB")
    r = min(imgsz / im.width, imgsz / im.height)
    im = im.resize((round(im.width * r), round(im.height * r)), Image.BILINEAR)
    return torch.from_numpy(np.asarray(im).copy()).permute(2, 0, 1).contiguous()


def load_folder(root, imgsz=320, limit=None):
    """Images resized to fit imgsz×imgsz (aspect kept, not yet padded) as uint8 [3,h,w] tensors,
    and labels as float32 arrays [k, 5] = class, x1, y1, x2, y2 in those resized pixels.
    Cached in root/cache-<imgsz>-<count>.pt so repeated runs skip JPEG decoding."""
    files = sorted(glob.glob(os.path.join(root, "images", "*.jpg")))[:limit]
    if not files:
        raise SystemExit(f"no images in {root}/images")
    cache = os.path.join(root, f"cache-{imgsz}-{len(files)}.pt")
    if os.path.exists(cache):
        return torch.load(cache)
    images, labels = [], []
    for f in files:
        images.append(load_image(f, imgsz))
        h, w = images[-1].shape[1:]
        stem = os.path.splitext(os.path.basename(f))[0]
        lab = os.path.join(root, "labels", stem + ".txt")
        rows = np.loadtxt(lab, ndmin=2, dtype=np.float32) if os.path.getsize(lab) else np.zeros((0, 5), np.float32)
        c, cx, cy, bw, bh = (rows[:, i] for i in range(5))
        labels.append(np.stack([c, (cx - bw / 2) * w, (cy - bh / 2) * h, (cx + bw / 2) * w, (cy + bh / 2) * h], 1))
    torch.save((images, labels), cache)
    return images, labels


def make_batch(images, labels, idx, rng, canvas=(320, 320), augment=False):
    """Place each image on a grey canvas (H, W): centred as in the engine's letterbox, or with
    random scale/offset/flip/colour when augment. Returns x [B,3,H,W] float 0..1 and targets
    [B, M, 5] (class, x1, y1, x2, y2; class -1 = padding) in canvas pixels."""
    H, W = canvas
    x = torch.full((len(idx), 3, H, W), GREY)
    boxes = []
    for j, i in enumerate(idx):
        im, lab = images[i].float() / 255, labels[i].copy()
        h, w = im.shape[1:]
        if augment:
            s = rng.uniform(0.7, 1.35)
            nh, nw = round(h * s), round(w * s)
            im = F.interpolate(im[None], (nh, nw), mode="bilinear", align_corners=False)[0]
            lab[:, 1:] *= [nw / w, nh / h, nw / w, nh / h]
            h, w = nh, nw
            if rng.random() < 0.5:
                im = im.flip(-1)
                lab[:, [1, 3]] = w - lab[:, [3, 1]]
            mean = im.mean()
            gain = rng.uniform(0.65, 1.35) * (1 + rng.uniform(-0.06, 0.06, (3, 1, 1)))
            im = ((im - mean) * torch.from_numpy(gain).float() + mean + rng.uniform(-0.15, 0.15)).clamp_(0, 1)
            ox = int(rng.integers(min(0, W - w), max(0, W - w) + 1))
            oy = int(rng.integers(min(0, H - h), max(0, H - h) + 1))
        else:
            ox, oy = (W - w) // 2, (H - h) // 2
        x0, y0, x1, y1 = max(ox, 0), max(oy, 0), min(ox + w, W), min(oy + h, H)
        x[j, :, y0:y1, x0:x1] = im[:, y0 - oy:y1 - oy, x0 - ox:x1 - ox]
        b = lab.copy()
        b[:, [1, 3]] = np.clip(b[:, [1, 3]] + ox, x0, x1)
        b[:, [2, 4]] = np.clip(b[:, [2, 4]] + oy, y0, y1)
        area = (b[:, 3] - b[:, 1]) * (b[:, 4] - b[:, 2])
        area0 = (lab[:, 3] - lab[:, 1]) * (lab[:, 4] - lab[:, 2])
        keep = (b[:, 3] > b[:, 1]) & (b[:, 4] > b[:, 2]) & (area > 0.35 * area0)  # thin cracks stay
        boxes.append(b[keep])
    m = max([len(b) for b in boxes] + [1])
    t = torch.full((len(idx), m, 5), -1.0)
    for j, b in enumerate(boxes):
        t[j, : len(b)] = torch.from_numpy(b)
    return x, t
