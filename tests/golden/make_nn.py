#!/usr/bin/python3
"""PyTorch parity fixtures for tests/test_nn_torch.c (Debian's python3-torch 1.13, CPU, 1 thread).

Two small networks are built in PyTorch exactly as libtl builds them from an architecture string:
  seq: an nn.Sequential, layer for layer, so PyTorch names tensors "I.weight" (libtl's "@index" map)
  res: a module with a residual block, whose attribute names are libtl's default layer names
  proj: a ResNet downsampling block (torchvision's BasicBlock with a `downsample` =
        Sequential(Conv2d 1x1 stride 2, BatchNorm2d) shortcut), torchvision's tensor names in the
        .safetensors ("block.downsample.0.weight"), read by libtl through the name map PROJ_MAP;
        the .txt names the tensors by their libtl names (the same map applied here)
For each: random initial parameters (running statistics too, so eval mode is tested) are written to
nn_torch_<case>.safetensors (the safetensors format, written by hand below: the `safetensors` package
is not in Debian), and nn_torch_<case>.txt receives, as "name n v1 v2 ..." lines with 9 significant
digits:
  x, y                 a batch of 4 inputs and labels
  eval_logits          forward in eval mode (running statistics)
  train_loss           cross-entropy, label smoothing 0.1, training mode (batch statistics)
  sgd.<tensor>         every tensor after one step of SGD(lr 0.1, momentum 0.9, nesterov,
                       weight_decay 1e-3) on that batch and loss (batch-norm running stats included)
  adamw.<tensor>       every tensor after one AdamW(lr 0.01, betas (0.9, 0.999), eps 1e-3,
                       weight_decay 0.01) step from the same initial parameters
eps is 1e-3 rather than 1e-8 because Adam's first step moves each weight by about lr * sign(grad):
with eps 1e-8 a gradient of 1e-9 (float rounding noise) would move a weight by a whole lr, in a
direction the rounding decides; with 1e-3 the step is a smooth function of the gradient and the
comparison tests the update rule rather than the noise.
Run from the repository root: /usr/bin/python3 tests/golden/make_nn.py
"""
import json
import os
import struct

import torch
import torch.nn as nn

torch.set_num_threads(1)
OUT = os.path.dirname(os.path.abspath(__file__))

SEQ_ARCH = ("conv:4:3,bn,relu,maxpool:2,conv:6:3:2:1,bn,lrelu:0.1,avgpool:2,flatten,"
            "dense:10,gelu,dense:8,tanh,dense:5,sigmoid,dense:3")
RES_ARCH = "conv:4:3,bn,relu,[conv:4:3,bn,relu,conv:4:3,bn],relu,gap,dense:3"
PROJ_ARCH = ("conv:4:3,bn,relu,[conv:6:3:2:1,bn,relu,conv:6:3:1:1,bn|conv:6:1:2:0,bn],relu,"
             "gap,dense:3")
PROJ_MAP = ("block.conv1.=conv2.,block.bn1.=bn2.,block.conv2.=conv3.,block.bn2.=bn3.,"
            "block.downsample.0.=conv4.,block.downsample.1.=bn4.,fc.=dense1.")
SHAPE = (2, 8, 8)


def seq_model():
    return nn.Sequential(
        nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 6, 3, stride=2, padding=1), nn.BatchNorm2d(6), nn.LeakyReLU(0.1),
        nn.AvgPool2d(2), nn.Flatten(), nn.Linear(6, 10), nn.GELU(), nn.Linear(10, 8), nn.Tanh(),
        nn.Linear(8, 5), nn.Sigmoid(), nn.Linear(5, 3))


class Res(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(2, 4, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(4)
        self.conv2 = nn.Conv2d(4, 4, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(4)
        self.conv3 = nn.Conv2d(4, 4, 3, padding=1)
        self.bn3 = nn.BatchNorm2d(4)
        self.dense1 = nn.Linear(4, 3)

    def forward(self, x):
        x = torch.relu(self.bn1(self.conv1(x)))
        h = self.bn3(self.conv3(torch.relu(self.bn2(self.conv2(x)))))
        x = torch.relu(h + x)
        return self.dense1(x.mean(dim=(2, 3)))


class BasicBlock(nn.Module):
    """torchvision.models.resnet.BasicBlock with stride 2 and its projection shortcut."""
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride),
                                        nn.BatchNorm2d(cout))

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return torch.relu(out + self.downsample(x))


class Proj(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(2, 4, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(4)
        self.block = BasicBlock(4, 6, 2)
        self.fc = nn.Linear(6, 3)

    def forward(self, x):
        x = self.block(torch.relu(self.bn1(self.conv1(x))))
        return self.fc(x.mean(dim=(2, 3)))


def map_name(name, rules):
    """libtl's name map: the first rule whose FROM prefixes the name replaces that prefix."""
    for rule in rules.split(","):
        a, b = rule.split("=")
        if name.startswith(a):
            return b + name[len(a):]
    return name


def tensors(model):
    """state_dict without num_batches_tracked (libtl keeps no step counter)."""
    return {k: v.detach().clone() for k, v in model.state_dict().items()
            if not k.endswith("num_batches_tracked")}


def write_safetensors(path, named, meta):
    header = {"__metadata__": meta}
    blobs, off = [], 0
    for name, t in named.items():
        b = t.contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def fmt(name, t):
    v = t.detach().reshape(-1).tolist()
    return name + " " + str(len(v)) + " " + " ".join("%.9g" % x for x in v) + "\n"


def make(case, model, arch, seed, name_map=None):
    torch.manual_seed(seed)
    m = model()
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, nn.BatchNorm2d):
                mod.weight.uniform_(0.5, 1.5)
                mod.bias.uniform_(-0.5, 0.5)
                mod.running_mean.uniform_(-0.3, 0.3)
                mod.running_var.uniform_(0.5, 2.0)
    init = tensors(m)
    write_safetensors(os.path.join(OUT, "nn_torch_%s.safetensors" % case), init,
                      {"libtl_arch": arch, "input_shape": "%d,%d,%d" % SHAPE})
    x = torch.randn(4, *SHAPE)
    y = torch.tensor([0, 2, 1, 2])
    lines = [fmt("x", x), fmt("y", y.float())]
    m.eval()
    lines.append(fmt("eval_logits", m(x)))
    crit = nn.CrossEntropyLoss(label_smoothing=0.1)
    for opt_name in ("sgd", "adamw"):
        m.load_state_dict(init, strict=False)
        m.train()
        if opt_name == "sgd":
            opt = torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9, nesterov=True,
                                  weight_decay=1e-3)
        else:
            opt = torch.optim.AdamW(m.parameters(), lr=0.01, betas=(0.9, 0.999), eps=1e-3,
                                    weight_decay=0.01)
        opt.zero_grad()
        loss = crit(m(x), y)
        if opt_name == "sgd":
            lines.append(fmt("train_loss", loss.reshape(1)))
        loss.backward()
        opt.step()
        for k, v in tensors(m).items():
            lines.append(fmt(opt_name + "." + (map_name(k, name_map) if name_map else k), v))
    with open(os.path.join(OUT, "nn_torch_%s.txt" % case), "w") as f:
        f.write("# made by tests/golden/make_nn.py with torch %s; arch %s\n" % (torch.__version__, arch))
        f.writelines(lines)


make("seq", seq_model, SEQ_ARCH, 1)
make("res", Res, RES_ARCH, 2)
make("proj", Proj, PROJ_ARCH, 3, PROJ_MAP)
