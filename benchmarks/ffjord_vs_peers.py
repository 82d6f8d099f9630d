"""FFJORD: ilya's CNF vs zuko's CNF vs a discrete flow (zuko NSF), and RNODE's effect on NFE.

Same data, same iterations, same batch, same optimiser for every model, in one process:

    .venv/bin/python benchmarks/ffjord_vs_peers.py                 # the recorded run (see docs/benchmarks.md)
    .venv/bin/python benchmarks/ffjord_vs_peers.py --iters 100     # a quick look

Per model and data set it prints the test NLL in nats (the CNFs with the exact trace; the NSF's is exact by
construction), mean seconds per training iteration, and the NFE: forward/backward per training iteration
(mean over the last quarter of training) and forward per test batch.  RNODE is ilya's CNF with the
kinetic-energy and Jacobian-Frobenius regularisers (weights --rnode, default 0.01, Finlay et al. 2020).

The tabular-sized set is POWER when the MAF archive is present under $ILYA_DATA/maf, else ``synthetic6``
(an offline 6-dim stand-in of POWER's shape); the output says which.  One torch thread per model.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch


def _stream(name: str, iters: int, batch: int, seed: int):
    """The same training batches for every model."""
    from ilya.ffjord.data import sample_toy

    if name in ("checkerboard", "2spirals", "8gaussians"):
        return [sample_toy(name, batch, seed=np.random.default_rng([seed, i])) for i in range(iters)]
    train = TABULAR[name].train
    rng = np.random.default_rng(seed)
    return [train[rng.integers(0, len(train), batch)] for _ in range(iters)]


def _test_set(name: str, n: int) -> np.ndarray:
    from ilya.ffjord.data import sample_toy

    if name in ("checkerboard", "2spirals", "8gaussians"):
        return sample_toy(name, n, seed=10**6)
    return TABULAR[name].test[:n]


TABULAR: dict = {}


ARCH: dict[str, object] = {}  # FlowConfig fields of ilya's CNF, set from --ilya-arch
ADJOINT = [False]  # ilya's CNFs backprop with the adjoint method, set from --adjoint
ARCH_RNODE = [0.01]  # the RNODE weight of both regularisers, set from --rnode


class IlyaModel:
    def __init__(self, dim: int, hidden: tuple[int, ...], rnode: bool, atol: float, num_blocks: int,
                 adjoint: bool = False):
        from ilya.ffjord import FlowConfig, SolverOptions, build_flow

        regs = ("kinetic", "jacobian") if rnode else ()
        # ilya's defaults for 2D and tabular data (ilya.ffjord.config.DEFAULTS); --ilya-arch overrides,
        # e.g. the paper code's '{"layer": "concatsquash", "time_features": 0, "activation": "tanh"}'
        from ilya.ffjord.config import DEFAULTS

        d = DEFAULTS["toy" if dim == 2 else "tabular"]
        arch = {k: d[k] for k in ("layer", "time_features", "activation")} | {
            "T": 0.5, "train_T": True, "num_blocks": num_blocks} | ARCH
        self.flow = build_flow(FlowConfig(dim=dim, hidden=hidden, regularisers=regs,
                                          solver=SolverOptions(atol=atol, rtol=atol, adjoint=adjoint), **arch))
        self.rnode, self.adjoint = rnode, adjoint

    def parameters(self):
        return self.flow.parameters()

    def loss(self, x):
        self.flow.reset_nfe()
        nll = -self.flow.log_prob(x).mean()
        total = nll
        if self.rnode:
            regs = self.flow.regularisation()
            w = ARCH_RNODE[0]
            total = nll + w * regs["kinetic"] + w * regs["jacobian"]
        self._fwd = self.flow.nfe()
        return nll, total

    def nfe_after_backward(self):
        if self.adjoint:  # the adjoint re-evaluates f backwards in time
            return self._fwd, self.flow.nfe() - self._fwd
        return self._fwd, self.flow.nfe_vjp()

    def test(self, x, batch=1000):
        self.flow.set_divergence("exact")
        nll, nfes = 0.0, []
        with torch.no_grad():
            for i in range(0, len(x), batch):
                self.flow.reset_nfe()
                nll += float(-self.flow.log_prob(x[i:i + batch]).sum())
                nfes.append(self.flow.nfe())
        self.flow.set_divergence("approximate")
        return nll / len(x), float(np.mean(nfes))


class ZukoCNF:
    def __init__(self, dim: int, hidden: tuple[int, ...], atol: float):
        import zuko

        # zuko's default trains with the exact trace; FFJORD's recipe is Hutchinson's, so we ask for it.
        self.flow = zuko.flows.CNF(dim, hidden_features=hidden, exact=False, atol=atol, rtol=atol)
        self.calls = 0
        self.flow.transform.ode.register_forward_hook(self._count)

    def _count(self, *_):
        self.calls += 1

    def parameters(self):
        return self.flow.parameters()

    def loss(self, x):
        self.calls = 0
        nll = -self.flow().log_prob(x).mean()
        self._fwd = self.calls
        return nll, nll

    def nfe_after_backward(self):
        return self._fwd, self.calls - self._fwd  # zuko's adjoint re-evaluates f backwards

    def test(self, x, batch=1000):
        self.flow.transform.exact = True
        nll, nfes = 0.0, []
        with torch.no_grad():
            for i in range(0, len(x), batch):
                self.calls = 0
                nll += float(-self.flow().log_prob(x[i:i + batch]).sum())
                nfes.append(self.calls)
        self.flow.transform.exact = False
        return nll / len(x), float(np.mean(nfes))


class ZukoNSF:
    def __init__(self, dim: int, hidden: tuple[int, ...]):
        import zuko

        self.flow = zuko.flows.NSF(dim, transforms=4, hidden_features=hidden)

    def parameters(self):
        return self.flow.parameters()

    def loss(self, x):
        nll = -self.flow().log_prob(x).mean()
        return nll, nll

    def nfe_after_backward(self):
        return None, None

    def test(self, x, batch=1000):
        with torch.no_grad():
            return float(-self.flow().log_prob(x).mean()), None


def make(model: str, dim: int, hidden: tuple[int, ...], blocks: int, atol: float):
    if model in ("ilya", "ilya_rnode"):
        return IlyaModel(dim, hidden, model == "ilya_rnode", atol, blocks, ADJOINT[0])
    if model == "zuko_cnf":
        return ZukoCNF(dim, hidden, atol)
    return ZukoNSF(dim, (64, 64) if dim == 2 else (10 * dim, 10 * dim))


def run_one(model, batches, test_x, lr: float) -> dict:
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    t0, c0 = time.time(), time.process_time()
    nfe_f, nfe_b, losses = [], [], []
    for x in batches:
        nll, total = model.loss(torch.from_numpy(x))
        opt.zero_grad(set_to_none=True)
        total.backward()
        opt.step()
        f, b = model.nfe_after_backward()
        nfe_f.append(f)
        nfe_b.append(b)
        losses.append(nll.item())
    secs = (time.time() - t0) / len(batches)
    cpu = (time.process_time() - c0) / len(batches)  # one thread: fair when other jobs share the machine
    test_nll, test_nfe = model.test(torch.from_numpy(test_x))
    q = max(len(batches) // 4, 1)
    tail = lambda v: None if v[-1] is None else float(np.mean(v[-q:]))  # noqa: E731
    return {"test_nll": test_nll, "s_per_iter": secs, "cpu_s_per_iter": cpu, "nfe_forward": tail(nfe_f), "nfe_backward": tail(nfe_b),
            "test_nfe": test_nfe, "final_train_nll": float(np.mean(losses[-q:]))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iters", type=int, default=600)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--atol", type=float, default=1e-5, help="atol = rtol for both CNFs (the paper's 1e-5)")
    ap.add_argument("--n-test", type=int, default=5000)
    ap.add_argument("--data", nargs="*", default=["checkerboard", "2spirals", "tabular"])
    ap.add_argument("--models", nargs="*", default=["ilya", "ilya_rnode", "zuko_cnf", "zuko_nsf"])
    ap.add_argument("--ilya-arch", default="", help='FlowConfig fields of our CNF as JSON, e.g. '
                    '\'{"layer": "input", "time_features": 3, "activation": "elu", "T": 1.0, "train_T": false}\'')
    ap.add_argument("--adjoint", action="store_true", help="ilya's CNFs backprop with the adjoint method")
    ap.add_argument("--rnode", type=float, default=0.01, help="weight of the kinetic and Jacobian terms")
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/ffjord_vs_peers.json"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    ARCH.update(json.loads(args.ilya_arch) if args.ilya_arch else {})
    ARCH_RNODE[0] = args.rnode
    ADJOINT[0] = args.adjoint

    from ilya.core.errors import IlyaError
    from ilya.ffjord.data import load_tabular

    results: dict = {"config": vars(args) | {"out": str(args.out)}, "runs": {}}
    for name in args.data:
        if name == "tabular":
            try:
                TABULAR["power"] = load_tabular("power")
                name = "power"
            except IlyaError:
                TABULAR["synthetic6"] = load_tabular("synthetic6")
                name = "synthetic6"
        dim = 2 if name in ("checkerboard", "2spirals", "8gaussians") else TABULAR[name].dim
        hidden = (64, 64, 64) if dim == 2 else (10 * dim, 10 * dim)
        blocks = 1
        batches = _stream(name, args.iters, args.batch, seed=0)
        test_x = _test_set(name, args.n_test)
        for m in args.models:
            torch.manual_seed(0)
            r = run_one(make(m, dim, hidden, blocks, args.atol), batches, test_x, args.lr)
            results["runs"][f"{name}/{m}"] = r
            print(json.dumps({"data": name, "model": m, **{k: (round(v, 4) if isinstance(v, float) else v)
                                                           for k, v in r.items()}}), flush=True)
        base, reg = results["runs"].get(f"{name}/ilya"), results["runs"].get(f"{name}/ilya_rnode")
        if base and reg:
            print(f"{name}: RNODE cuts training NFE (fwd+bwd) by "
                  f"{(base['nfe_forward'] + base['nfe_backward']) / (reg['nfe_forward'] + reg['nfe_backward']):.2f}x, "
                  f"test NFE by {base['test_nfe'] / reg['test_nfe']:.2f}x, "
                  f"at {reg['test_nll'] - base['test_nll']:+.3f} nats", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
