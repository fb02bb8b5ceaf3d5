"""road-damage-tiny: a small anchor-free YOLOv8-style detector (conv/BN/SiLU, C2f blocks, SPPF,
PAN neck, decoupled heads at strides 8/16/32). Each anchor point predicts a box centre offset and
size in strides (not ltrb distances, which force the box to contain the anchor: a 1–2 px thin crack
or distant pothole lying between anchor rows could then never be boxed).

Run `python3 model.py` to print the parameter count and CPU forward time at batch 1.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

STRIDES = (8, 16, 32)


class Conv(nn.Module):
    """Conv2d + BatchNorm + SiLU."""

    def __init__(self, c1, c2, k=3, s=1):
        super().__init__()
        self.conv = nn.Conv2d(c1, c2, k, s, k // 2, bias=False)
        self.bn = nn.BatchNorm2d(c2, eps=1e-3, momentum=0.03)
        self.act = nn.SiLU()

    def forward(self, x):
        return self.act(self.bn(self.conv(x)))


class Bottleneck(nn.Module):
    def __init__(self, c, shortcut=True):
        super().__init__()
        self.cv1, self.cv2 = Conv(c, c, 3), Conv(c, c, 3)
        self.add = shortcut

    def forward(self, x):
        y = self.cv2(self.cv1(x))
        return x + y if self.add else y


class C2f(nn.Module):
    """CSP block with two convolutions and n bottlenecks whose outputs are all concatenated."""

    def __init__(self, c1, c2, n=1, shortcut=True):
        super().__init__()
        self.c = c2 // 2
        self.cv1 = Conv(c1, 2 * self.c, 1)
        self.cv2 = Conv((2 + n) * self.c, c2, 1)
        self.m = nn.ModuleList(Bottleneck(self.c, shortcut) for _ in range(n))

    def forward(self, x):
        y = list(self.cv1(x).chunk(2, 1))
        for m in self.m:
            y.append(m(y[-1]))
        return self.cv2(torch.cat(y, 1))


class SPPF(nn.Module):
    def __init__(self, c1, c2, k=5):
        super().__init__()
        c_ = c1 // 2
        self.cv1, self.cv2 = Conv(c1, c_, 1), Conv(c_ * 4, c2, 1)
        self.m = nn.MaxPool2d(k, 1, k // 2)

    def forward(self, x):
        y = [self.cv1(x)]
        for _ in range(3):
            y.append(self.m(y[-1]))
        return self.cv2(torch.cat(y, 1))


class Head(nn.Module):
    """Decoupled head for one scale: box branch (4 ltrb) and class branch (nc logits)."""

    def __init__(self, c, ch, nc):
        super().__init__()
        self.box = nn.Sequential(Conv(c, ch, 3), Conv(ch, ch, 3), nn.Conv2d(ch, 4, 1))  # dx, dy, w, h
        self.cls = nn.Sequential(Conv(c, ch, 3), Conv(ch, ch, 3), nn.Conv2d(ch, nc, 1))

    def forward(self, x):
        return torch.cat([self.box(x), self.cls(x)], 1)


class Detector(nn.Module):
    """forward(x) in training mode returns raw per-level maps [B, 4+nc, H, W];
    in eval mode (or with decode=True) returns [B, 4+nc, N]: cx, cy, w, h in input pixels + class scores."""

    def __init__(self, nc=4, w=(16, 24, 48, 96, 160), n=(1, 2, 2, 1), head_ch=32):
        super().__init__()
        self.nc, self.strides = nc, STRIDES
        self.stem = Conv(3, w[0], 3, 2)                                    # /2
        self.s2 = nn.Sequential(Conv(w[0], w[1], 3, 2), C2f(w[1], w[1], n[0]))  # /4
        self.s3 = nn.Sequential(Conv(w[1], w[2], 3, 2), C2f(w[2], w[2], n[1]))  # /8  P3
        self.s4 = nn.Sequential(Conv(w[2], w[3], 3, 2), C2f(w[3], w[3], n[2]))  # /16 P4
        self.s5 = nn.Sequential(Conv(w[3], w[4], 3, 2), C2f(w[4], w[4], n[3]), SPPF(w[4], w[4]))  # /32
        self.up4 = C2f(w[4] + w[3], w[3], 1, False)
        self.up3 = C2f(w[3] + w[2], w[2], 1, False)
        self.down3 = Conv(w[2], w[2], 3, 2)
        self.pan4 = C2f(w[2] + w[3], w[3], 1, False)
        self.down4 = Conv(w[3], w[3], 3, 2)
        self.pan5 = C2f(w[3] + w[4], w[4], 1, False)
        self.heads = nn.ModuleList(Head(c, head_ch, nc) for c in (w[2], w[3], w[4]))
        self._init_bias()

    def _init_bias(self):
        import math
        for h, s in zip(self.heads, self.strides):
            # class prior ~0.01 per anchor, scaled a little with anchor density (as in YOLOv8)
            h.cls[-1].bias.data.fill_(math.log(5 / self.nc / (320 / s) ** 2))
            h.box[-1].bias.data.copy_(torch.tensor([0.0, 0.0, 1.0, 1.0]))

    def features(self, x):
        p3 = self.s3(self.s2(self.stem(x)))
        p4 = self.s4(p3)
        p5 = self.s5(p4)
        up = lambda t: F.interpolate(t, scale_factor=2.0, mode="nearest")
        n4 = self.up4(torch.cat([up(p5), p4], 1))
        o3 = self.up3(torch.cat([up(n4), p3], 1))
        o4 = self.pan4(torch.cat([self.down3(o3), n4], 1))
        o5 = self.pan5(torch.cat([self.down4(o4), p5], 1))
        return [h(o) for h, o in zip(self.heads, (o3, o4, o5))]

    def forward(self, x, decode=None):
        maps = self.features(x)
        if decode is None:
            decode = not self.training
        return self.decode(maps) if decode else maps

    def decode(self, maps):
        """Per-level maps → [B, 4+nc, N] with cx, cy, w, h in input pixels and sigmoid scores."""
        pts, strides = anchor_points(maps, self.strides)
        raw = torch.cat([m.flatten(2) for m in maps], 2)  # B, 4+nc, N
        xy = pts + raw[:, :2] * strides
        wh = F.softplus(raw[:, 2:4]) * strides
        return torch.cat([xy, wh, raw[:, 4:].sigmoid()], 1)


def anchor_points(maps, strides):
    """Anchor centres [1, 2, N] (x, y in input pixels) and their strides [1, 1, N]."""
    pts, st = [], []
    for m, s in zip(maps, strides):
        h, w = m.shape[-2:]
        ys = (torch.arange(h, dtype=torch.float32) + 0.5) * s
        xs = (torch.arange(w, dtype=torch.float32) + 0.5) * s
        gy, gx = torch.meshgrid(ys, xs, indexing="ij")
        pts.append(torch.stack([gx.flatten(), gy.flatten()], 0))
        st.append(torch.full((1, h * w), float(s)))
    return torch.cat(pts, 1)[None], torch.cat(st, 1)[None]


if __name__ == "__main__":
    import time
    torch.set_num_threads(2)
    m = Detector().eval()
    print(f"params: {sum(p.numel() for p in m.parameters()) / 1e6:.3f} M")
    x = torch.rand(1, 3, 320, 320)
    with torch.no_grad():
        for _ in range(3):
            m(x)
        t = time.perf_counter()
        for _ in range(20):
            y = m(x)
    print(f"output {tuple(y.shape)}; {1000 * (time.perf_counter() - t) / 20:.1f} ms/inference (torch, 2 threads)")
