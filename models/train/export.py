"""Export a trained checkpoint to ONNX in the ultralytics YOLOv8 layout: input `images` [1,3,320,320]
RGB 0..1, output `output0` [1, 4+nc, N] (cx, cy, w, h in input pixels; sigmoid class scores), with
ultralytics-style metadata. Runs onnx.checker, then onnxruntime-node (verify_onnx.cjs) on the same
input as torch and fails unless the outputs match.
"""
import argparse
import datetime
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import torch

from data import load_image, make_batch
from model import Detector

HERE = os.path.dirname(os.path.abspath(__file__))


class Export(torch.nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, images):
        return self.m(images, decode=True)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--ckpt", required=True, help="best.pt or last.pt from train.py (EMA weights are exported)")
    p.add_argument("--out", default=os.path.join(HERE, "..", "road-damage-tiny", "model.onnx"))
    p.add_argument("--opset", type=int, default=13)
    p.add_argument("--image", help="a JPEG to use as the verification input (default: random)")
    p.add_argument("--no-verify", action="store_true")
    a = p.parse_args()

    ck = torch.load(a.ckpt, map_location="cpu")
    names = ck.get("names", ["D00", "D10", "D20", "D40"])
    det = Detector(len(names))
    det.load_state_dict(ck["ema"])
    model = Export(det).eval()
    imgsz = 320
    x = torch.rand(1, 3, imgsz, imgsz, generator=torch.Generator().manual_seed(0))
    if a.image:
        x, _ = make_batch([load_image(a.image, imgsz)], [np.zeros((0, 5), np.float32)], [0], None, (imgsz, imgsz))

    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with torch.no_grad():
        expected = model(x)
        torch.onnx.export(model, x, a.out, opset_version=a.opset, input_names=["images"],
                          output_names=["output0"], do_constant_folding=True)
    m = onnx.load(a.out)
    meta = {
        "description": "roadwatch road-damage-tiny: anchor-free YOLOv8-style detector for RDD2022 classes, "
                       "trained on synthetic road-camera scenes",
        "author": "roadwatch",
        "date": datetime.date.today().isoformat(),
        "version": "1",
        "model": "road-damage-tiny",
        "license": "Apache-2.0",
        "stride": str(max(det.strides)),
        "task": "detect",
        "batch": "1",
        "imgsz": str([imgsz, imgsz]),
        "names": str(dict(enumerate(names))),
    }
    for k, v in meta.items():
        m.metadata_props.add(key=k, value=v)
    m.producer_name = "roadwatch"
    onnx.checker.check_model(m)
    onnx.save(m, a.out)
    params = sum(q.numel() for q in det.parameters())
    print(f"exported {a.out}: {os.path.getsize(a.out) / 1e6:.2f} MB, {params} params, output {tuple(expected.shape)}, "
          f"opset {a.opset}; onnx.checker ok")
    print("metadata:", {p.key: p.value for p in m.metadata_props})

    if a.no_verify:
        return
    with tempfile.TemporaryDirectory() as d:
        x.numpy().astype(np.float32).tofile(os.path.join(d, "in.bin"))
        expected.numpy().astype(np.float32).tofile(os.path.join(d, "out.bin"))
        r = subprocess.run(["node", os.path.join(HERE, "verify_onnx.cjs"), a.out,
                            os.path.join(d, "in.bin"), os.path.join(d, "out.bin")], capture_output=True, text=True)
    print(r.stdout.strip() or r.stderr.strip())
    if r.returncode:
        sys.exit(f"onnxruntime-node output does not match torch (exit {r.returncode})")
    print("onnxruntime-node matches torch")


if __name__ == "__main__":
    main()
