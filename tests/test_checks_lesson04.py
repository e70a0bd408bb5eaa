"""Lesson 04's checks accept the answers re-written here and reject plausible wrong ones."""

import numpy as np
import pytest
import torch

from mesalib.agents.ppo import clipped_policy_loss as library_loss
from mesalib.agents.ppo import compute_gae as library_gae
from mesalib.teaching import checks

GAE = checks.lesson04.compute_gae
LOSS = checks.lesson04.clipped_policy_loss


# ---------------------------------------------------------------------------------------------------
# compute_gae, re-written in float64 with an explicit mask, and its mutants


def gae(
    rewards,
    values,
    dones,
    last_value,
    gamma,
    lam,
    *,
    mask_delta=True,
    mask_trace=True,
    trace=None,
    next_value="next",
    done_shift=0,
    add_values=True,
):
    """The right answer with switches that turn it into the mutants below."""
    r, v, d = (np.asarray(x, dtype=np.float64) for x in (rewards, values, dones))
    T = len(r)
    adv = np.zeros_like(r)
    following = np.zeros_like(r[0])
    for t in reversed(range(T)):
        if next_value == "next":
            v_next = v[t + 1] if t + 1 < T else np.asarray(last_value, dtype=np.float64)
        else:  # off by one: the value of the step itself
            v_next = v[t]
        s = min(max(t + done_shift, 0), T - 1)
        alive = 1.0 - d[s]
        delta = r[t] + gamma * v_next * (alive if mask_delta else 1.0) - v[t]
        factor = gamma * lam if trace is None else trace(gamma, lam)
        following = delta + factor * (alive if mask_trace else 1.0) * following
        adv[t] = following
    return adv, (adv + v if add_values else adv)


def test_gae_reference_in_own_words_passes():
    assert GAE.run(gae).ok
    assert GAE.run(gae, seed=7).ok


def test_gae_float64_answer_passes_for_many_seeds():
    for seed in range(30):
        assert GAE.run(gae, seed=seed).ok, seed


def test_gae_agrees_with_the_library_on_tensors_too():
    rng = np.random.default_rng(0)
    r, v = rng.random((8, 3)), rng.random((8, 3))
    d = (rng.random((8, 3)) < 0.3).astype(float)
    last = rng.random(3)
    adv, ret = gae(r, v, d, last, 0.97, 0.95)
    t_adv, t_ret = library_gae(
        torch.tensor(r), torch.tensor(v), torch.tensor(d), torch.tensor(last), 0.97, 0.95
    )
    np.testing.assert_allclose(t_adv.numpy(), adv, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(t_ret.numpy(), ret, rtol=1e-5, atol=1e-6)


GAE_MUTANTS = {
    "ignores dones": lambda **a: gae(**a, mask_delta=False, mask_trace=False),
    "bootstraps across episode ends (only the trace is cut)": lambda **a: gae(**a, mask_delta=False),
    "carries the advantage across episode ends (only the bootstrap is cut)": lambda **a: gae(
        **a, mask_trace=False
    ),
    "lambda without gamma in the trace": lambda **a: gae(**a, trace=lambda gamma, lam: lam),
    "gamma without lambda in the trace": lambda **a: gae(**a, trace=lambda gamma, lam: gamma),
    "off by one: the value of the same step instead of the next": lambda **a: gae(**a, next_value="same"),
    "off by one: looks at the next step's done flag": lambda **a: gae(**a, done_shift=1),
    "off by one: looks at the previous step's done flag": lambda **a: gae(**a, done_shift=-1),
    "returns = advantages (forgot + values)": lambda **a: gae(**a, add_values=False),
    "advantages and returns swapped": lambda **a: gae(**a)[::-1],
    "returns torch tensors": lambda **a: tuple(torch.tensor(x) for x in gae(**a)),
    "returns only the advantages": lambda **a: gae(**a)[0],
}


@pytest.mark.parametrize("name", sorted(GAE_MUTANTS))
def test_gae_mutants_are_rejected(name):
    assert not GAE.run(GAE_MUTANTS[name]).ok, name


@pytest.mark.parametrize("name", [n for n in sorted(GAE_MUTANTS) if "torch" not in n and "only" not in n])
def test_gae_mutants_are_rejected_by_the_fixed_cases_alone(name):
    mutant = GAE_MUTANTS[name]
    assert any(GAE.judge(case, mutant(**case.args)) is not None for case in GAE.fixed_cases()), name


# ---------------------------------------------------------------------------------------------------
# clipped_policy_loss, re-written with torch.where, and its mutants


def loss(new_logp, old_logp, adv, clip):
    ratio = (new_logp - old_logp).exp()
    clipped_ratio = torch.where(
        ratio > 1 + clip,
        torch.full_like(ratio, 1 + clip),
        torch.where(ratio < 1 - clip, torch.full_like(ratio, 1 - clip), ratio),
    )
    surrogate = torch.where(ratio * adv < clipped_ratio * adv, ratio * adv, clipped_ratio * adv)
    return -surrogate.sum() / len(surrogate)


def test_loss_reference_in_own_words_passes():
    assert LOSS.run(loss).ok
    assert LOSS.run(loss, seed=3).ok


def _ratio(n, o):
    return torch.exp(n - o)


LOSS_MUTANTS = {
    "no clipping": lambda new_logp, old_logp, adv, clip: -(_ratio(new_logp, old_logp) * adv).mean(),
    "max instead of min": lambda new_logp, old_logp, adv, clip: (
        -torch.max(
            _ratio(new_logp, old_logp) * adv,
            torch.clamp(_ratio(new_logp, old_logp), 1 - clip, 1 + clip) * adv,
        ).mean()
    ),
    "missing minus sign": lambda new_logp, old_logp, adv, clip: -library_loss(new_logp, old_logp, adv, clip),
    "clips the advantage instead of the ratio": lambda new_logp, old_logp, adv, clip: (
        -torch.min(
            _ratio(new_logp, old_logp) * adv,
            _ratio(new_logp, old_logp) * torch.clamp(adv, 1 - clip, 1 + clip),
        ).mean()
    ),
    "only the clipped term": lambda new_logp, old_logp, adv, clip: (
        -(torch.clamp(_ratio(new_logp, old_logp), 1 - clip, 1 + clip) * adv).mean()
    ),
    "clamps the product ratio * adv": lambda new_logp, old_logp, adv, clip: (
        -torch.min(
            _ratio(new_logp, old_logp) * adv,
            torch.clamp(_ratio(new_logp, old_logp) * adv, 1 - clip, 1 + clip),
        ).mean()
    ),
    "ratio of log-probabilities": lambda new_logp, old_logp, adv, clip: library_loss(
        torch.log(new_logp / old_logp), torch.zeros_like(old_logp), adv, clip
    ),
    "ratio upside down": lambda new_logp, old_logp, adv, clip: library_loss(old_logp, new_logp, adv, clip),
    "sum instead of mean": lambda new_logp, old_logp, adv, clip: (
        library_loss(new_logp, old_logp, adv, clip) * len(adv)
    ),
    "returns a Python float": lambda new_logp, old_logp, adv, clip: library_loss(
        new_logp, old_logp, adv, clip
    ).item(),
    "detached: no gradient": lambda new_logp, old_logp, adv, clip: library_loss(
        new_logp.detach(), old_logp, adv, clip
    ),
    "per-sample losses, no mean": lambda new_logp, old_logp, adv, clip: (
        -torch.min(
            _ratio(new_logp, old_logp) * adv,
            torch.clamp(_ratio(new_logp, old_logp), 1 - clip, 1 + clip) * adv,
        )
    ),
    "clamped ratio detached (right value, wrong gradient)": lambda new_logp, old_logp, adv, clip: (
        -torch.min(
            _ratio(new_logp, old_logp) * adv,
            torch.clamp(_ratio(new_logp, old_logp), 1 - clip, 1 + clip).detach() * adv,
        ).mean()
    ),
}


@pytest.mark.parametrize("name", sorted(LOSS_MUTANTS))
def test_loss_mutants_are_rejected(name):
    assert not LOSS.run(LOSS_MUTANTS[name]).ok, name


def test_loss_mutant_reports_say_what_is_wrong():
    assert "not a torch tensor" in LOSS.run(LOSS_MUTANTS["returns a Python float"]).failure
    assert "no gradient" in LOSS.run(LOSS_MUTANTS["detached: no gradient"]).failure
    assert (
        "gradient" in LOSS.run(LOSS_MUTANTS["clamped ratio detached (right value, wrong gradient)"]).failure
    )
    assert "NumPy" in GAE.run(GAE_MUTANTS["returns torch tensors"]).failure


def test_loss_cases_are_plain_data_and_the_answers_too():
    for case in LOSS.cases(0):
        assert all(isinstance(v, (float, np.ndarray)) for v in case.args.values())
        expected = LOSS.expected(case)
        assert isinstance(expected["loss"], float) and isinstance(expected["grad"], np.ndarray)
        assert LOSS.judge(case, LOSS.call(loss, case.args)) is None


def test_clipped_samples_get_zero_gradient_in_the_reference():
    case = LOSS.fixed_cases()[1]  # ratio 1.5 with a positive advantage
    assert np.all(LOSS.expected(case)["grad"] == 0.0)
    case = LOSS.fixed_cases()[3]  # ratio 0.5 with a positive advantage: not clipped
    assert np.all(LOSS.expected(case)["grad"] != 0.0)


def test_handing_in_the_library_function_is_refused():
    assert not LOSS.run(library_loss).ok
    assert not GAE.run(library_gae).ok
