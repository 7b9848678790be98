#!/usr/bin/env python3
"""PyTorch CPU reference for `exahealth bench train|infer`.

Same workloads as crates/exahealth-nn/src/bench.rs: the small CNN (four 3x3
convolutions 3->32->32->64->64, ReLU, 2x2 max-pool after the first three,
global average pooling, linear to 2 classes) or torchvision's ResNet-18
layout (1000 classes), random N(0, 1) input, cross-entropy, Adam; one
untimed warm-up step, then `--steps` timed steps. Prints one JSON object.

    pip install torch
    python3 bench/torch_bench.py train --model small-cnn --batch 32 --size 64 --steps 5 --threads 2
"""

import argparse
import json
import sys
import time

import torch
from torch import nn


class SmallCnn(nn.Module):
    def __init__(self, in_channels=3, num_classes=2, width=32):
        super().__init__()
        w = width
        self.conv1 = nn.Conv2d(in_channels, w, 3, padding=1)
        self.conv2 = nn.Conv2d(w, w, 3, padding=1)
        self.conv3 = nn.Conv2d(w, 2 * w, 3, padding=1)
        self.conv4 = nn.Conv2d(2 * w, 2 * w, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(2 * w, num_classes)

    def forward(self, x):
        x = self.pool(torch.relu(self.conv1(x)))
        x = self.pool(torch.relu(self.conv2(x)))
        x = self.pool(torch.relu(self.conv3(x)))
        x = torch.relu(self.conv4(x))
        return self.fc(x.mean(dim=(2, 3)))


class BasicBlock(nn.Module):
    def __init__(self, inplanes, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or inplanes != planes:
            self.downsample = nn.Sequential(
                nn.Conv2d(inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes)
            )

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        y = torch.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return torch.relu(y + identity)


class ResNet18(nn.Module):
    """torchvision.models.resnet18's layout, written out so torchvision is not needed."""

    def __init__(self, num_classes=1000):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        layers, inplanes = [], 64
        for planes, stride in [(64, 1), (128, 2), (256, 2), (512, 2)]:
            layers.append(nn.Sequential(BasicBlock(inplanes, planes, stride), BasicBlock(planes, planes, 1)))
            inplanes = planes
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(512, num_classes)

    def forward(self, x):
        x = self.maxpool(torch.relu(self.bn1(self.conv1(x))))
        x = self.layers(x)
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("mode", choices=["train", "infer"])
    p.add_argument("--model", choices=["small-cnn", "resnet18"], default="small-cnn")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--threads", type=int, default=0, help="0: PyTorch's default")
    a = p.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = SmallCnn() if a.model == "small-cnn" else ResNet18()
    classes = 2 if a.model == "small-cnn" else 1000
    x = torch.randn(a.batch, 3, a.size, a.size)
    y = torch.randint(0, classes, (a.batch,))
    if a.mode == "train":
        model.train()
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        loss_fn = nn.CrossEntropyLoss()

        def step():
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(x), y)
            loss.item()
            loss.backward()
            opt.step()
    else:
        model.eval()

        def step():
            with torch.inference_mode():
                model(x).sum().item()

    step()
    t0 = time.perf_counter()
    for _ in range(a.steps):
        step()
    seconds = time.perf_counter() - t0
    json.dump(
        {
            "mode": a.mode,
            "model": a.model,
            "batch": a.batch,
            "size": a.size,
            "steps": a.steps,
            "threads": torch.get_num_threads(),
            "backend": f"pytorch {torch.__version__} cpu",
            "seconds": seconds,
            "images_per_s": a.batch * a.steps / seconds,
        },
        sys.stdout,
    )
    print()


if __name__ == "__main__":
    main()
