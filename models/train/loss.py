"""Task-aligned target assignment (as in YOLOv8/TOOD) and the detection loss:
BCE on IoU-aware soft class targets, GIoU + L1 (centre offset and size, in strides) on the boxes of
assigned anchors.
"""
import torch
import torch.nn.functional as F

from model import anchor_points


def _area(t):
    return (t[..., 2:] - t[..., :2]).clamp(min=0).prod(-1)


def box_iou(a, b, eps=1e-7, hull=False):
    """IoU (or GIoU when hull) of boxes a [..., 4] and b [..., 4] (xyxy), broadcast."""
    inter = _area(torch.cat([torch.maximum(a[..., :2], b[..., :2]), torch.minimum(a[..., 2:], b[..., 2:])], -1))
    union = _area(a) + _area(b) - inter + eps
    if not hull:
        return inter / union
    c = _area(torch.cat([torch.minimum(a[..., :2], b[..., :2]), torch.maximum(a[..., 2:], b[..., 2:])], -1)) + eps
    return inter / union - (c - union) / c


@torch.no_grad()
def assign(scores, pboxes, pts, strides, gt, topk=10, alpha=0.5, beta=6.0, eps=1e-9):
    """scores [B,N,C] (sigmoid), pboxes [B,N,4], pts [N,2], strides [N], gt [B,M,5] (class -1 = none).
    Candidates are anchors inside a GT box widened to at least one stride across; each GT takes its topk
    candidates by score^alpha * IoU^beta; an anchor claimed twice goes to the GT it overlaps most.
    Returns fg [B,N] bool, target boxes [B,N,4], target scores [B,N,C]."""
    B, N, C = scores.shape
    valid = gt[..., 0] >= 0                                   # B,M
    cls = gt[..., 0].clamp(min=0).long()
    gb = gt[..., 1:]                                          # B,M,4
    c = (gb[..., :2] + gb[..., 2:]) / 2
    half = torch.maximum((gb[..., 2:] - gb[..., :2]) / 2, torch.zeros_like(c))
    half = torch.maximum(half[..., None, :], strides[None, None, :, None] / 2)  # B,M,N,2
    cand = ((pts[None, None] - c[..., None, :]).abs() < half).all(-1) & valid[..., None]  # B,M,N
    iou = box_iou(gb[:, :, None], pboxes[:, None])           # B,M,N
    s = scores.gather(2, cls[:, None, :].expand(B, N, -1)).transpose(1, 2)  # B,M,N
    align = s.pow(alpha) * iou.pow(beta) * cand
    top = torch.zeros_like(cand)
    top.scatter_(2, (align + cand * eps).topk(min(topk, N), 2).indices, True)
    pos = top & cand
    multi = pos.sum(1, keepdim=True) > 1                      # B,1,N
    best = F.one_hot((iou * cand).argmax(1), gb.shape[1]).transpose(1, 2).bool()
    pos = torch.where(multi, best & cand, pos)
    fg = pos.any(1)
    gi = pos.float().argmax(1)                                # B,N
    tboxes = gb.gather(1, gi[..., None].expand(-1, -1, 4))
    tcls = cls.gather(1, gi)
    align = align * pos
    norm = (align * (iou * pos).amax(2, keepdim=True) / (align.amax(2, keepdim=True) + eps)).amax(1)
    tscores = F.one_hot(tcls, C).float() * (norm * fg)[..., None]
    return fg, tboxes, tscores


def detection_loss(maps, gt, strides_per_level, w_box=7.5, w_l1=1.5, w_cls=1.0):
    """Loss for raw per-level maps and padded targets; returns (total, dict of parts)."""
    pts, st = anchor_points(maps, strides_per_level)
    pts, st = pts[0].T, st[0, 0]                               # N,2 / N
    raw = torch.cat([m.flatten(2) for m in maps], 2).transpose(1, 2)  # B,N,4+C
    off, wh = raw[..., :2], F.softplus(raw[..., 2:4])          # in strides
    c, half = pts + off * st[:, None], wh * st[:, None] / 2
    pboxes = torch.cat([c - half, c + half], -1)
    logits = raw[..., 4:]
    fg, tboxes, tscores = assign(logits.detach().sigmoid(), pboxes.detach(), pts, st, gt)
    tss = tscores.sum().clamp(min=1)
    l_cls = F.binary_cross_entropy_with_logits(logits, tscores, reduction="sum") / tss
    if fg.any():
        wgt = tscores.sum(-1)[fg]
        l_box = ((1 - box_iou(pboxes[fg], tboxes[fg], hull=True)) * wgt).sum() / tss
        p = pts[None].expand(fg.shape[0], -1, -1)[fg]
        s = st[None].expand(fg.shape[0], -1)[fg][:, None]
        tb = tboxes[fg]
        tgt = torch.cat([((tb[:, :2] + tb[:, 2:]) / 2 - p) / s, (tb[:, 2:] - tb[:, :2]) / s], -1)
        l_l1 = ((torch.cat([off[fg], wh[fg]], -1) - tgt).abs().mean(-1) * wgt).sum() / tss
    else:
        l_box = l_l1 = raw.sum() * 0
    total = w_box * l_box + w_l1 * l_l1 + w_cls * l_cls
    return total, {"box": l_box.item(), "l1": l_l1.item(), "cls": l_cls.item(), "fg": int(fg.sum())}
