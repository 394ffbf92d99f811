#!/usr/bin/python3
"""PyTorch parity fixtures for tests/test_nn_torch_da.c (Debian's python3-torch 1.13, CPU): the
domain-adaptation losses of src/nn/da_loss.c and gradient reversal through a trainer head,
computed in float64 from float32 inputs (written with 9 significant digits, so both sides start
from the same float32 values). Writes tests/golden/nn_da.txt ("name rows cols" + values).

  grl:   trunk Linear(4,6)-Tanh-Linear(6,3), a domain head GRL(lambda 0.7)-Linear(6,2) on the
         tanh output; loss = CE(trunk(x[:4]), y) + CE(head(x), dom); the gradient of every
         parameter (the trunk's through the reversal)
  mmd:   MK-MMD (5 Gaussian kernels, multiplier 2, base width the mean squared distance over the
         joint sample's off-diagonal pairs, detached, as the DAN reference code mmd.py) of xs, xt
         (8 x 5 each): the quadratic (biased) estimate and DAN's linear-time one (quads
         (2i, 2i+1), width from the quads' four distances), values and gradients
  coral: Deep CORAL ||C_s - C_t||_F^2 / (4 d^2) of xs (10 x 6), xt (12 x 6), value and gradients
  cdan:  CDAN+E: f (8 x 5) features, g = softmax(logits) detached, T = bmm(g, f) (8 x 15), a
         discriminator Linear(15, 2), entropy weights 1 + exp(-H(g)) normalised per domain (first
         4 rows source), loss = sum w_i CE_i / sum w_i; gradients w.r.t. f and the discriminator
Run from the repository root: /usr/bin/python3 tests/golden/make_nn_da.py
"""
import os

import numpy as np
import torch

torch.set_num_threads(1)
OUT = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20261207)
mats = []


def f32(a):
    return np.asarray(a, dtype=np.float32).astype(np.float64)


def put(name, m):
    m = np.atleast_2d(np.asarray(m, dtype=np.float64))
    mats.append((name, m))


def T(a, grad=False):
    return torch.tensor(a, dtype=torch.float64, requires_grad=grad)


# ---- GRL through a head ----
class GRL(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, lam):
        ctx.lam = lam
        return x.view_as(x)

    @staticmethod
    def backward(ctx, g):
        return -ctx.lam * g, None


x = f32(rng.uniform(-1, 1, (8, 4)))
W1, b1 = f32(rng.uniform(-0.5, 0.5, (6, 4))), f32(rng.uniform(-0.5, 0.5, 6))
W2, b2 = f32(rng.uniform(-0.4, 0.4, (3, 6))), f32(rng.uniform(-0.4, 0.4, 3))
Wd, bd = f32(rng.uniform(-0.4, 0.4, (2, 6))), f32(rng.uniform(-0.4, 0.4, 2))
y = np.array([0, 2, 1, 2])
dom = np.array([0, 0, 0, 0, 1, 1, 1, 1])
ps = [T(v, True) for v in (W1, b1, W2, b2, Wd, bd)]
h = torch.tanh(T(x) @ ps[0].T + ps[1])
out = h @ ps[2].T + ps[3]
dout = GRL.apply(h, 0.7) @ ps[4].T + ps[5]
ce = torch.nn.functional.cross_entropy
loss = ce(out[:4], torch.tensor(y)) + ce(dout, torch.tensor(dom))
loss.backward()
for n, v in zip(("grl_x", "grl_W1", "grl_b1", "grl_W2", "grl_b2", "grl_Wd", "grl_bd"),
                (x, W1, b1, W2, b2, Wd, bd)):
    put(n, v)
put("grl_loss", [[loss.item()]])
for n, p in zip(("W1", "b1", "W2", "b2", "Wd", "bd"), ps):
    put("grl_g" + n, p.grad.numpy())


# ---- MK-MMD ----
def mk(total, width, kernels=5, mul=2.0):
    D = ((total[:, None, :] - total[None, :, :]) ** 2).sum(2)
    return D, width


def kern(D, base, kernels=5, mul=2.0):
    base = base / mul ** (kernels // 2)
    return sum(torch.exp(-D / (base * mul ** i)) for i in range(kernels))


xs = f32(rng.uniform(-1, 1, (8, 5)))
xt = f32(rng.uniform(-1, 1, (8, 5)) * 1.3 + 0.4)
put("mmd_xs", xs)
put("mmd_xt", xt)
S, Tt = T(xs, True), T(xt, True)
total = torch.cat([S, Tt], 0)
D = ((total[:, None, :] - total[None, :, :]) ** 2).sum(2)
n2 = total.shape[0]
base = D.detach().sum() / (n2 * n2 - n2)
K = kern(D, base)
n = 8
q = K[:n, :n].mean() + K[n:, n:].mean() - K[:n, n:].mean() - K[n:, :n].mean()
q.backward()
put("mmd_quad", [[q.item()]])
put("mmd_quad_gs", S.grad.numpy())
put("mmd_quad_gt", Tt.grad.numpy())
S, Tt = T(xs, True), T(xt, True)


def sq(a, b):
    return ((a - b) ** 2).sum()


quads = [(S[2 * i], S[2 * i + 1], Tt[2 * i], Tt[2 * i + 1]) for i in range(n // 2)]
base = sum(sq(a, b) + sq(c, d) + sq(a, d) + sq(b, c) for a, b, c, d in quads).detach() / (4 * len(quads))


def k1(a, b):
    return kern(sq(a, b), base)


lin = sum(k1(a, b) + k1(c, d) - k1(a, d) - k1(b, c) for a, b, c, d in quads) / len(quads)
lin.backward()
put("mmd_lin", [[lin.item()]])
put("mmd_lin_gs", S.grad.numpy())
put("mmd_lin_gt", Tt.grad.numpy())

# ---- CORAL ----
cs = f32(rng.uniform(-1, 1, (10, 6)))
ct = f32(rng.standard_normal((12, 6)) * 0.8 + 0.2)
put("coral_xs", cs)
put("coral_xt", ct)
S, Tt = T(cs, True), T(ct, True)


def cov(X):
    Xc = X - X.mean(0, keepdim=True)
    return Xc.T @ Xc / (X.shape[0] - 1)


d = 6
c = ((cov(S) - cov(Tt)) ** 2).sum() / (4 * d * d)
c.backward()
put("coral_loss", [[c.item()]])
put("coral_gs", S.grad.numpy())
put("coral_gt", Tt.grad.numpy())

# ---- CDAN+E ----
f = f32(rng.uniform(-1, 1, (8, 5)))
logit = f32(rng.uniform(-2, 2, (8, 3)))
Wc, bc = f32(rng.uniform(-0.3, 0.3, (2, 15))), f32(rng.uniform(-0.3, 0.3, 2))
put("cdan_f", f)
put("cdan_logits", logit)
put("cdan_W", Wc)
put("cdan_b", bc)
F = T(f, True)
g = torch.softmax(T(logit), 1).detach()
Tm = torch.bmm(g.unsqueeze(2), F.unsqueeze(1)).view(8, -1)
Wt, bt = T(Wc, True), T(bc, True)
z = Tm @ Wt.T + bt
H = -(g * torch.log(g)).sum(1)
w = 1 + torch.exp(-H)
ws = w * torch.tensor([1.0] * 4 + [0.0] * 4, dtype=torch.float64)
wt = w * torch.tensor([0.0] * 4 + [1.0] * 4, dtype=torch.float64)
weight = ws / ws.sum() + wt / wt.sum()
dl = torch.tensor([0] * 4 + [1] * 4)
loss = (weight * torch.nn.functional.cross_entropy(z, dl, reduction="none")).sum() / weight.sum()
loss.backward()
put("cdan_loss", [[loss.item()]])
put("cdan_gf", F.grad.numpy())
put("cdan_gW", Wt.grad.numpy())
put("cdan_gb", bt.grad.numpy())

with open(os.path.join(OUT, "nn_da.txt"), "w") as fh:
    fh.write("# domain-adaptation losses and gradient reversal against PyTorch %s (float64)\n"
             "# generated by tests/golden/make_nn_da.py; do not edit by hand\n" % torch.__version__)
    for name, m in mats:
        fh.write("%s %d %d\n" % (name, m.shape[0], m.shape[1]))
        for row in m:
            fh.write(" ".join("%.9g" % v for v in row) + "\n")
