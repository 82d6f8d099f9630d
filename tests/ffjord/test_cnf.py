"""CNF blocks: change of variables, invertibility, adjoint gradients, NFE counting, regularisers."""

import math

import pytest
import torch
import torch.nn as nn

from ilya.ffjord import CNF, FlowConfig, ODEFunc, SequentialFlow, SolverOptions, build_flow
from ilya.ffjord.cnf import standard_normal_logprob

TIGHT = SolverOptions(atol=1e-8, rtol=1e-8)


class Linear(nn.Module):
    """f(z, t) = A z: the CNF whose flow map is exp(A t)."""

    def __init__(self, A: torch.Tensor) -> None:
        super().__init__()
        self.A = nn.Parameter(A)

    def forward(self, t, z, context=None):
        return z @ self.A.T


class Counting(nn.Module):
    """Wraps a network and counts its calls independently of ODEFunc."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net, self.calls = net, 0

    def forward(self, t, z, context=None):
        self.calls += 1
        return self.net(t, z, context)


def test_change_of_variables_matches_closed_form_for_linear_ode():
    torch.manual_seed(0)
    A = torch.randn(3, 3) * 0.5
    T = 0.7
    flow = SequentialFlow([CNF(ODEFunc(Linear(A.clone()), divergence="exact"), T=T, options=TIGHT)])
    x = torch.randn(16, 3, dtype=torch.float64)
    flow = flow.double()
    with torch.no_grad():
        z, delta = flow(x)
        logp = flow.log_prob(x)
    M = torch.linalg.matrix_exp(A.double() * T)
    assert torch.allclose(z, x @ M.T, atol=1e-6)
    assert torch.allclose(delta, torch.full_like(delta, T * torch.trace(A).item()), atol=1e-6)
    expected = standard_normal_logprob(x @ M.T) + T * torch.trace(A).double()
    assert torch.allclose(logp, expected, atol=1e-6)


def test_hutchinson_change_of_variables_is_unbiased_for_linear_ode():
    torch.manual_seed(0)
    A = torch.randn(4, 4) * 0.5
    flow = SequentialFlow([CNF(ODEFunc(Linear(A), noise="gaussian"), T=1.0, options=SolverOptions(atol=1e-6, rtol=1e-6))])
    x = torch.randn(4000, 4)
    with torch.no_grad():
        _, delta = flow(x)  # each row has its own noise draw
    se = delta.std() / math.sqrt(len(delta))
    assert abs(delta.mean().item() - torch.trace(A).item()) < 4 * se.item()


@pytest.mark.parametrize(("layer", "time_features"), [("concat", 0), ("concatsquash", 0), ("input", 3)])
def test_forward_then_reverse_returns_the_input(layer, time_features):
    torch.manual_seed(0)
    flow = build_flow(FlowConfig(dim=2, hidden=(32, 32), num_blocks=2, layer=layer, divergence="exact",
                                 time_features=time_features, solver=SolverOptions(atol=1e-6, rtol=1e-6)))
    x = torch.randn(64, 2) * 2
    with torch.no_grad():
        z, delta = flow(x)
        x_back, delta_back = flow.inverse(z)
    assert (x - x_back).abs().max() < 1e-4
    assert (delta - delta_back).abs().max() < 1e-4
    assert (z - x).abs().max() > 1e-2  # the flow did move the points


def test_adjoint_and_direct_backprop_agree():
    torch.manual_seed(0)
    cfg = FlowConfig(dim=2, hidden=(16, 16), num_blocks=2, solver=SolverOptions(atol=1e-6, rtol=1e-6))
    flow = build_flow(cfg).double()
    x = torch.randn(16, 2, dtype=torch.float64)
    grads = []
    for adjoint in (False, True):
        flow.set_solver(adjoint=adjoint)
        flow.zero_grad()
        torch.manual_seed(5)  # the same Hutchinson noise in both
        (-flow.log_prob(x).mean()).backward()
        grads.append([p.grad.clone() for p in flow.parameters()])
    g_direct, g_adj = (torch.cat([g.flatten() for g in gs]) for gs in grads)
    # the adjoint solves a second ODE to tolerance, so the two agree to about the solver's accuracy
    assert (g_direct - g_adj).norm() / g_direct.norm() < 2e-3
    # the learnable end time gets a gradient through both
    assert all(b.sqrt_end_time.grad is not None and b.sqrt_end_time.grad.abs() > 0 for b in flow.blocks)


def test_nfe_counter_counts_what_the_solver_called():
    torch.manual_seed(0)
    from ilya.ffjord.layers import ODEnet

    net = Counting(ODEnet(2, (16,), "concatsquash", "tanh"))
    rk4 = CNF(ODEFunc(net), T=1.0, options=SolverOptions(solver="rk4", step_size=0.1))
    flow = SequentialFlow([rk4])
    x = torch.randn(8, 2)
    loss = -flow.log_prob(x).mean()
    assert flow.nfe() == net.calls == 40  # 10 steps of RK4 (3/8 rule), 4 evaluations each
    loss.backward()
    assert flow.nfe_vjp() == 40  # every evaluation was differentiated once

    net2 = Counting(ODEnet(2, (16,), "concatsquash", "tanh"))
    dopri = SequentialFlow([CNF(ODEFunc(net2), T=1.0, options=SolverOptions(adjoint=True))])
    loss = -dopri.log_prob(x).mean()
    n_forward = dopri.nfe()
    assert n_forward == net2.calls and n_forward >= 8
    loss.backward()
    assert dopri.nfe() - n_forward == net2.calls - n_forward > 0  # the adjoint's backward solve


def test_kinetic_energy_of_a_constant_field():
    class Constant(nn.Module):
        def __init__(self):
            super().__init__()
            self.v = nn.Parameter(torch.tensor([0.3, -1.2]))

        def forward(self, t, z, context=None):
            return self.v.expand_as(z) + 0 * z

    T = 0.8
    flow = SequentialFlow([CNF(ODEFunc(Constant(), divergence="exact", regularisers=("kinetic", "jacobian")),
                               T=T, options=TIGHT)])
    flow.log_prob(torch.randn(5, 2))
    regs = flow.regularisation()
    assert regs["kinetic"].item() == pytest.approx(T * (0.3**2 + 1.2**2), rel=1e-5)
    assert regs["jacobian"].item() == pytest.approx(0.0, abs=1e-8)


def test_jacobian_regulariser_estimates_frobenius_norm():
    torch.manual_seed(0)
    A = torch.randn(3, 3)
    flow = SequentialFlow([CNF(ODEFunc(Linear(A), regularisers=("jacobian",), noise="gaussian"), T=1.0)])
    flow.log_prob(torch.randn(20000, 3))
    assert flow.regularisation()["jacobian"].item() == pytest.approx((A**2).sum().item(), rel=0.05)


def test_input_layer_with_fourier_time_is_zukos_mlp():
    """``--layer input --time-features 3``: f(z, t) = MLP([z, cos(k pi t), sin(k pi t)]), t in the first layer only."""
    from ilya.ffjord.layers import ODEnet

    torch.manual_seed(0)
    net = ODEnet(2, (8, 8), layer="input", activation="elu", time_features=3)
    z, t = torch.randn(5, 2), torch.tensor(0.3)
    k = torch.arange(1, 4) * math.pi
    emb = torch.cat([(k * 0.3).cos(), (k * 0.3).sin()]).expand(5, 6)
    lin = [m for m in net.modules() if isinstance(m, nn.Linear)]
    assert [m.in_features for m in lin] == [2 + 6, 8, 8]  # t enters the first layer only
    h = nn.functional.elu(lin[0](torch.cat([z, emb], dim=1)))
    h = nn.functional.elu(lin[1](h))
    assert torch.allclose(net(t, z), lin[2](h), atol=1e-6)


def test_context_conditions_the_dynamics():
    torch.manual_seed(0)
    flow = build_flow(FlowConfig(dim=2, hidden=(16,), d_context=3))
    x = torch.randn(4, 2)
    with torch.no_grad():
        a = flow.log_prob(x, context=torch.zeros(4, 3))
        b = flow.log_prob(x, context=torch.ones(4, 3))
    assert (a - b).abs().max() > 1e-4


def test_bad_options_are_refused():
    with pytest.raises(ValueError):
        build_flow(FlowConfig(layer="nope"))
    with pytest.raises(ValueError):
        build_flow(FlowConfig(solver=SolverOptions(solver="nope")))
    with pytest.raises(ValueError):
        build_flow(FlowConfig(regularisers=("nope",)))
