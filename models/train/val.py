"""Validation: decoded model output → class-aware NMS → per-class precision/recall at a confidence
and all-point interpolated AP@0.5 (numpy), the same definitions as models/eval/metrics.ts.
"""
import numpy as np
import torch

from data import make_batch
from loss import box_iou


def nms(boxes, scores, iou=0.45):
    """Greedy NMS; boxes [K,4] sorted by descending score. Returns kept indices."""
    m = box_iou(boxes[:, None], boxes[None]).numpy()
    keep, dead = [], np.zeros(len(boxes), bool)
    for i in range(len(boxes)):
        if not dead[i]:
            keep.append(i)
            dead |= m[i] > iou
    return keep


@torch.no_grad()
def postprocess(out, conf=0.001, iou=0.45, max_det=100, pre_nms=1000):
    """out [B, 4+nc, N] (cx, cy, w, h, scores) → per image array [k, 6] = x1, y1, x2, y2, conf, class.
    One class per anchor (its best), as the agent's engine does."""
    res = []
    for o in out:
        o = o.T
        score, cls = o[:, 4:].max(1)
        k = (score > conf).nonzero()[:, 0]
        k = k[score[k].argsort(descending=True)[:pre_nms]]
        b = torch.cat([o[k, :2] - o[k, 2:4] / 2, o[k, :2] + o[k, 2:4] / 2], 1)
        keep = nms(b + cls[k, None] * 4096.0, score[k], iou)[:max_det]
        res.append(torch.cat([b[keep], score[k][keep, None], cls[k][keep, None].float()], 1).numpy())
    return res


def ap_at(dets, gts, nc, iou_thr=0.5, conf=0.25):
    """dets/gts: per-image arrays ([k,6] x1 y1 x2 y2 conf cls; [m,5] cls x1 y1 x2 y2).
    Returns per-class dicts (n, ap, p, r) where p, r are at the given confidence."""
    out = []
    for c in range(nc):
        confs, tps, n = [], [], 0
        for d, g in zip(dets, gts):
            g = g[g[:, 0] == c, 1:]
            d = d[d[:, 5] == c]
            d = d[np.argsort(-d[:, 4], kind="stable")]
            n += len(g)
            used = np.zeros(len(g), bool)
            ious = box_iou(torch.from_numpy(d[:, None, :4]), torch.from_numpy(g[None])).numpy() if len(g) else None
            for j in range(len(d)):
                tp = False
                if ious is not None:
                    cand = np.where(used, -1, ious[j])
                    best = int(cand.argmax())
                    if cand[best] >= iou_thr:
                        used[best], tp = True, True
                confs.append(d[j, 4])
                tps.append(tp)
        order = np.argsort(-np.array(confs), kind="stable")
        tp = np.array(tps, float)[order]
        ctp, cfp = np.cumsum(tp), np.cumsum(1 - tp)
        rec = ctp / max(n, 1)
        prec = ctp / np.maximum(ctp + cfp, 1e-9)
        mrec = np.concatenate([[0], rec, [1]])
        mpre = np.concatenate([[1], prec, [0]])
        mpre = np.flip(np.maximum.accumulate(np.flip(mpre)))
        i = np.where(mrec[1:] != mrec[:-1])[0]
        ap = float(np.sum((mrec[i + 1] - mrec[i]) * mpre[i + 1])) if n else float("nan")
        at = np.array(confs)[order] >= conf if confs else np.zeros(0, bool)
        tpc = tp[at].sum()
        out.append({"n": n, "ap": ap, "p": tpc / max(at.sum(), 1), "r": tpc / max(n, 1)})
    return out


@torch.no_grad()
def evaluate(model, images, labels, nc, imgsz=320, batch=32):
    model.eval()
    dets, gts = [], []
    for s in range(0, len(images), batch):
        idx = list(range(s, min(s + batch, len(images))))
        x, t = make_batch(images, labels, idx, None, (imgsz, imgsz), augment=False)
        dets += postprocess(model(x, decode=True))
        gts += [tt[tt[:, 0] >= 0].numpy() for tt in t]
    return ap_at(dets, gts, nc)
