#!/usr/bin/env python3
"""A torchvision-layout ResNet or DenseNet state dict and its outputs, for
exahealth's PyTorch weight import (crates/exahealth-nn/tests/pytorch_import.rs).

Builds ResNet-18 or -34 with torchvision's module names (conv1, bn1,
layer1.0.conv1, layer2.0.downsample.0/1, fc), or with --arch densenet a
DenseNet with torchvision's names (features.conv0, features.norm0,
features.denseblockB.denselayerL.norm1/conv1/norm2/conv2,
features.transitionB.norm/conv, features.norm5, classifier; --growth,
--blocks and --init-features size it, DenseNet-121 by default), in plain
PyTorch (torchvision itself is not needed; its models have the same names
and shapes), draws
random weights and batch-norm running statistics from a fixed seed, saves
`model.state_dict()` with `torch.save` and writes the eval-mode outputs of a
deterministic input as JSON:

  {"torch": VERSION, "input_shape": [...], "input": [...],
   "output_shape": [...], "output": [...]}

Usage: python3 bench/pytorch_reference.py --weights OUT.pt --out OUT.json \
           [--arch resnet|densenet] [--depth 18] [--classes 10] [--shape 2,3,64,64] \
           [--growth 32] [--blocks 6,12,24,16] [--init-features 64]
Needs: torch (CPU wheel from PyPI).
"""
import argparse
import json
import re
from collections import OrderedDict

import torch
from torch import nn


class BasicBlock(nn.Module):
    def __init__(self, inplanes, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or inplanes != planes:
            self.downsample = nn.Sequential(
                nn.Conv2d(inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes)
            )

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class ResNet(nn.Module):
    def __init__(self, blocks, num_classes):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        inplanes = 64
        for i, (planes, n) in enumerate(zip([64, 128, 256, 512], blocks)):
            layers = []
            for j in range(n):
                stride = 2 if (i > 0 and j == 0) else 1
                layers.append(BasicBlock(inplanes, planes, stride))
                inplanes = planes
            setattr(self, f"layer{i + 1}", nn.Sequential(*layers))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512, num_classes)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


class DenseLayer(nn.Module):
    def __init__(self, cin, growth, bn_size):
        super().__init__()
        self.norm1 = nn.BatchNorm2d(cin)
        self.conv1 = nn.Conv2d(cin, bn_size * growth, 1, bias=False)
        self.norm2 = nn.BatchNorm2d(bn_size * growth)
        self.conv2 = nn.Conv2d(bn_size * growth, growth, 3, 1, 1, bias=False)

    def forward(self, x):
        y = self.conv1(torch.relu(self.norm1(x)))
        return torch.cat([x, self.conv2(torch.relu(self.norm2(y)))], 1)


class DenseNet(nn.Module):
    def __init__(self, growth, blocks, init_features, num_classes, bn_size=4):
        super().__init__()
        parts = [
            ("conv0", nn.Conv2d(3, init_features, 7, 2, 3, bias=False)),
            ("norm0", nn.BatchNorm2d(init_features)),
            ("relu0", nn.ReLU()),
            ("pool0", nn.MaxPool2d(3, 2, 1)),
        ]
        c = init_features
        for b, n in enumerate(blocks):
            block = nn.Sequential(OrderedDict(
                (f"denselayer{i + 1}", DenseLayer(c + i * growth, growth, bn_size)) for i in range(n)
            ))
            parts.append((f"denseblock{b + 1}", block))
            c += n * growth
            if b < len(blocks) - 1:
                parts.append((f"transition{b + 1}", nn.Sequential(OrderedDict([
                    ("norm", nn.BatchNorm2d(c)), ("relu", nn.ReLU()),
                    ("conv", nn.Conv2d(c, c // 2, 1, bias=False)), ("pool", nn.AvgPool2d(2, 2)),
                ]))))
                c //= 2
        parts.append(("norm5", nn.BatchNorm2d(c)))
        self.features = nn.Sequential(OrderedDict(parts))
        self.classifier = nn.Linear(c, num_classes)

    def forward(self, x):
        x = torch.relu(self.features(x))
        return self.classifier(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--arch", default="resnet", choices=["resnet", "densenet"])
    ap.add_argument("--depth", type=int, default=18, choices=[18, 34])
    ap.add_argument("--growth", type=int, default=32)
    ap.add_argument("--blocks", default="6,12,24,16")
    ap.add_argument("--init-features", type=int, default=64)
    ap.add_argument("--legacy-names", action="store_true",
                    help="DenseNet: save dense-layer keys as torchvision's published checkpoints "
                         "name them (norm.1, conv.1, norm.2, conv.2)")
    ap.add_argument("--classes", type=int, default=10)
    ap.add_argument("--shape", default="2,3,64,64")
    args = ap.parse_args()
    torch.manual_seed(0)
    if args.arch == "densenet":
        blocks = [int(v) for v in args.blocks.split(",")]
        model = DenseNet(args.growth, blocks, args.init_features, args.classes)
    else:
        blocks = {18: [2, 2, 2, 2], 34: [3, 4, 6, 3]}[args.depth]
        model = ResNet(blocks, args.classes)
    # Non-trivial running statistics, so a batch-norm import error shows.
    g = torch.Generator().manual_seed(1)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.1)
            m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            m.weight.data.copy_(torch.rand(m.num_features, generator=g) + 0.5)
            m.bias.data.copy_(torch.randn(m.num_features, generator=g) * 0.1)
    model.eval()
    state = model.state_dict()
    if args.legacy_names:
        state = OrderedDict(
            (re.sub(r"(denselayer\d+)\.(norm|conv)([12])\.", r"\1.\2.\3.", k), v)
            for k, v in state.items()
        )
    torch.save(state, args.weights)
    shape = [int(v) for v in args.shape.split(",")]
    x = torch.rand(shape, generator=torch.Generator().manual_seed(2)) * 2 - 1
    with torch.no_grad():
        y = model(x)
    with open(args.out, "w") as fh:
        json.dump({
            "torch": torch.__version__,
            "input_shape": shape,
            "input": x.flatten().tolist(),
            "output_shape": list(y.shape),
            "output": y.flatten().tolist(),
        }, fh)


if __name__ == "__main__":
    main()
