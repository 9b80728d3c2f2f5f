#!/usr/bin/python3
"""Measure libtorch (Debian python3-torch 1.13.1, CPU) training speed for the
shrink per-film learned codec model (issue 17).

Model: L=5 single-channel latent grids (stride s_l=4*2^l px, tau_l=2*2^l frames),
trilinear interpolation at B random pixels, features*1/8 -> MLP 5-24-24-3,
loss = MSE + lambda*rate (Laplace, per-level detached scale, noisy latents),
Adam (1e-2 latents, 2e-3 MLP). One step = forward + backward + Adam step,
including drawing the random pixel batch and gathering its targets.

Usage: /usr/bin/python3 tests/bench/torch_speed.py --W 160 --H 90 --threads 2 \
           --batches 4096,8192,32768 --interp take|grid_sample [--profile]
Prints one JSON line per batch size.
"""
import argparse, json, math, os, time, resource
import torch
import torch.nn.functional as F

ap = argparse.ArgumentParser()
ap.add_argument("--W", type=int, default=160)
ap.add_argument("--H", type=int, default=90)
ap.add_argument("--T", type=int, default=240)
ap.add_argument("--L", type=int, default=5)
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--batches", default="4096,8192,32768")
ap.add_argument("--interp", default="take", choices=["take", "isel", "grid_sample"])
ap.add_argument("--warmup", type=int, default=20)
ap.add_argument("--steps", type=int, default=200)
ap.add_argument("--lam", type=float, default=1e-3)
ap.add_argument("--tag", default="")
ap.add_argument("--profile", action="store_true")
args = ap.parse_args()

torch.set_num_threads(args.threads)
torch.manual_seed(0)
W, H, T, L = args.W, args.H, args.T, args.L

# random uint8 "video", T x H x W x 3, flattened to (T*H*W, 3)
video = torch.randint(0, 256, (T * H * W, 3), dtype=torch.uint8)

# ---- latent grids: one flat parameter holding all levels (offsets per level)
dims, offs, n = [], [], 0
for l in range(L):
    s, tau = 4 * 2 ** l, 2 * 2 ** l
    gw, gh, gt = math.ceil(W / s) + 1, math.ceil(H / s) + 1, math.ceil(T / tau) + 1
    dims.append((s, tau, gw, gh, gt))
    offs.append(n)
    n += gw * gh * gt
NLAT = n
latents = torch.nn.Parameter(torch.zeros(NLAT))
level_of = torch.cat([torch.full((d[2] * d[3] * d[4],), l, dtype=torch.long)
                      for l, d in enumerate(dims)])
level_sizes = torch.tensor([d[2] * d[3] * d[4] for d in dims], dtype=torch.float32)

mlp = torch.nn.Sequential(torch.nn.Linear(L, 24), torch.nn.ReLU(),
                          torch.nn.Linear(24, 24), torch.nn.ReLU(),
                          torch.nn.Linear(24, 3))
opt = torch.optim.Adam([{"params": [latents], "lr": 1e-2},
                        {"params": mlp.parameters(), "lr": 2e-3}])

# per-level constants for the vectorised gather
S = torch.tensor([d[0] for d in dims], dtype=torch.float32)        # (L,)
TAU = torch.tensor([d[1] for d in dims], dtype=torch.float32)
GW = torch.tensor([d[2] for d in dims], dtype=torch.long)
GH = torch.tensor([d[3] for d in dims], dtype=torch.long)
OFF = torch.tensor(offs, dtype=torch.long)
# corner offsets (dx,dy,dt) for the 8 corners, shape (8,)
CX = torch.tensor([0, 1, 0, 1, 0, 1, 0, 1])
CY = torch.tensor([0, 0, 1, 1, 0, 0, 1, 1])
CT = torch.tensor([0, 0, 0, 0, 1, 1, 1, 1])


def interp_take(lat, x, y, t, use_isel=False):
    """lat: flat (NLAT,) noisy latents; x,y,t: (B,) long. Returns (B,L)."""
    px = (x.float()[:, None] + 0.5) / S          # (B,L)
    py = (y.float()[:, None] + 0.5) / S
    pt = t.float()[:, None] / TAU
    x0, y0, t0 = px.floor(), py.floor(), pt.floor()
    fx, fy, ft = px - x0, py - y0, pt - t0
    x0, y0, t0 = x0.long(), y0.long(), t0.long()
    base = OFF + (t0 * GH + y0) * GW + x0        # (B,L)
    cidx = (CT[None, :] * GH[:, None] + CY[None, :]) * GW[:, None] + CX[None, :]  # (L,8)
    idx = base[:, :, None] + cidx[None]          # (B,L,8)
    wx = torch.stack([1 - fx, fx], -1)           # (B,L,2)
    wy = torch.stack([1 - fy, fy], -1)
    wt = torch.stack([1 - ft, ft], -1)
    w = (wt[:, :, :, None, None] * wy[:, :, None, :, None] * wx[:, :, None, None, :]).reshape(-1, L, 8)
    if use_isel:   # backward = index_add_ instead of put_(accumulate=True)
        vals = lat.index_select(0, idx.reshape(-1)).view(idx.shape)
    else:
        vals = torch.take(lat, idx)              # (B,L,8), backward = put_(accumulate)
    return (vals * w).sum(-1)


def interp_grid_sample(lat, x, y, t):
    feats = []
    B = x.shape[0]
    for l, (s, tau, gw, gh, gt) in enumerate(dims):
        g = lat[offs[l]:offs[l] + gw * gh * gt].view(1, 1, gt, gh, gw)
        px = (x.float() + 0.5) / s
        py = (y.float() + 0.5) / s
        pt = t.float() / tau
        grid = torch.stack([px / (gw - 1) * 2 - 1, py / (gh - 1) * 2 - 1,
                            pt / (gt - 1) * 2 - 1], -1).view(1, 1, 1, B, 3)
        feats.append(F.grid_sample(g, grid, mode="bilinear", align_corners=True).view(B))
    return torch.stack(feats, -1)


interp = {"take": interp_take, "grid_sample": interp_grid_sample,
          "isel": lambda *a: interp_take(*a, use_isel=True)}[args.interp]


def rate_bits(yq):
    """sum over all latents of -log2(F(y+.5)-F(y-.5)), Laplace(0,b_l)."""
    with torch.no_grad():
        b = torch.zeros(L).index_add_(0, level_of, yq.abs()) / level_sizes
        b = b.clamp_min(0.1)
    bb = b[level_of]
    def cdf(v):
        return 0.5 + 0.5 * torch.sign(v) * (1 - torch.exp(-v.abs() / bb))
    p = (cdf(yq + 0.5) - cdf(yq - 0.5)).clamp_min(1e-9)
    return -torch.log2(p).sum()


def step(B):
    x = torch.randint(0, W, (B,))
    y = torch.randint(0, H, (B,))
    t = torch.randint(0, T, (B,))
    target = video[(t * H + y) * W + x].float() / 255.0
    yq = latents + (torch.rand(NLAT) - 0.5)
    feat = interp(yq, x, y, t) * 0.125
    out = mlp(feat)
    mse = ((out - target) ** 2).mean()
    rate = rate_bits(yq)
    loss = mse + args.lam * rate / (W * H * T)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return loss


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def sys_busy():
    with open("/proc/stat") as f:
        v = [int(a) for a in f.readline().split()[1:]]
    return sum(v) - v[3] - v[4], sum(v)   # busy jiffies, total jiffies


for B in [int(b) for b in args.batches.split(",")]:
    for _ in range(args.warmup):
        step(B)
    la0 = loadavg()
    b0, tot0 = sys_busy()
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    for _ in range(args.steps):
        loss = step(B)
    float(loss)
    dt = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    b1, tot1 = sys_busy()
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    hz = os.sysconf("SC_CLK_TCK")
    rec = dict(tag=args.tag, torch=torch.__version__, W=W, H=H, T=T, nlat=NLAT,
               threads=args.threads, interp=args.interp, B=B, steps=args.steps,
               sec=round(dt, 3), steps_per_s=round(args.steps / dt, 2),
               pix_per_s=round(args.steps * B / dt), ms_per_step=round(1000 * dt / args.steps, 2),
               proc_cpu_s=round(cpu, 2),
               # CPU seconds used by *other* processes during the run (all cores)
               other_cpu_s=round((b1 - b0) / hz - cpu, 2),
               load_before=la0, load_after=loadavg(), loss=round(float(loss), 5))
    print(json.dumps(rec), flush=True)

if args.profile:
    from torch.profiler import profile, ProfilerActivity
    B = int(args.batches.split(",")[0])
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(20):
            step(B)
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=18))
