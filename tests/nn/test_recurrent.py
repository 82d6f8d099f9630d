"""The recurrent actor-critic: step-by-step equals the sequence pass; `starts` resets the memory."""

import torch

from ilya.nn.recurrent import RecurrentActorCritic


def test_step_matches_sequence_and_memory_matters():
    torch.manual_seed(0)
    net = RecurrentActorCritic(obs_dim=5, n_actions=3, hidden=8)
    x = torch.randn(2, 6, 5)
    logits, values, _ = net(x)
    h = net.initial_state(2)
    for t in range(6):
        lt, vt, h = net.step(x[:, t], h)
        assert torch.allclose(lt, logits[:, t], atol=1e-5) and torch.allclose(vt, values[:, t], atol=1e-5)
    # the output at step 3 depends on what came before (memory is used)
    x2 = x.clone()
    x2[:, 0] += 1.0
    assert not torch.allclose(net(x2)[0][:, 3], logits[:, 3])


def test_starts_reset_the_memory():
    torch.manual_seed(0)
    for cell in ("gru", "lstm"):
        net = RecurrentActorCritic(obs_dim=4, n_actions=2, hidden=8, cell=cell)
        x = torch.randn(3, 7, 4)
        starts = torch.zeros(3, 7)
        starts[:, 4] = 1.0
        logits, _, _ = net(x, starts=starts)
        fresh, _, _ = net(x[:, 4:])
        assert torch.allclose(logits[:, 4:], fresh, atol=1e-5)
        assert torch.allclose(logits[:, :4], net(x[:, :4])[0], atol=1e-5)
