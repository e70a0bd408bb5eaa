"""Checks for lesson 04 (training an agent with PPO): generalised advantage estimation and PPO's
clipped surrogate loss, each against the library's own function in `mesalib.agents.ppo`.

`compute_gae` is checked as the library uses it on NumPy input: arrays in, a pair of arrays out.
`clipped_policy_loss` works on torch tensors, but cases stay plain data: the check turns each
case's arrays into float32 tensors (`new_logp` with `requires_grad=True`), calls the function, and
compares the loss *and* its gradient with respect to `new_logp`, because the gradient is what PPO
uses: where the clipping applies it must be exactly zero.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from mesalib.agents.ppo import clipped_policy_loss as _reference_clipped_policy_loss
from mesalib.agents.ppo import compute_gae as _reference_compute_gae
from mesalib.teaching.checks import Case, Exercise, close_number, same_array

# --------------------------------------------------------------------------------------------------
# Exercise 4.1: compute_gae


def _gae_case(rewards, values, dones, last_value, gamma, lam, label) -> Case:
    return Case(
        {
            "rewards": np.asarray(rewards, dtype=np.float64),
            "values": np.asarray(values, dtype=np.float64),
            "dones": np.asarray(dones, dtype=np.float64),
            "last_value": (
                np.asarray(last_value, dtype=np.float64) if np.ndim(last_value) else float(last_value)
            ),
            "gamma": float(gamma),
            "lam": float(lam),
        },
        label,
    )


def _gae_fixed() -> list[Case]:
    return [
        _gae_case(
            [0.0, 1.0],
            [0.5, 0.5],
            [0, 1],
            9.0,
            0.9,
            1.0,
            "the docstring's example: the episode ends at the last step, so last_value is not used",
        ),
        _gae_case(
            [0.0, 0.0, 1.0],
            [0.2, 0.4, 0.8],
            [0, 0, 0],
            0.5,
            0.9,
            0.0,
            "lam = 0: each advantage is the one-step TD error r + gamma * V(next) - V(now)",
        ),
        _gae_case(
            [0.0, 0.0, 1.0],
            [0.2, 0.4, 0.8],
            [0, 0, 0],
            0.5,
            0.9,
            1.0,
            "lam = 1, no episode end: discounted rewards plus gamma**T * last_value, minus V(now)",
        ),
        _gae_case(
            [1.0, 0.0, 0.0],
            [0.0, 0.0, 0.0],
            [0, 0, 0],
            0.0,
            0.5,
            0.5,
            "values all zero: gamma * lam discounts the advantage of the steps before a reward",
        ),
        _gae_case(
            [0.0, 1.0, 0.0, 1.0],
            [0.3, 0.6, 0.1, 0.7],
            [0, 1, 0, 0],
            2.0,
            0.9,
            0.95,
            "an episode ends at step 1: nothing after it may leak into steps 0 and 1",
        ),
        _gae_case(
            [1.0, 1.0, 1.0],
            [0.5, 1.5, 0.5],
            [1, 1, 1],
            3.0,
            0.9,
            0.95,
            "every step ends an episode: each advantage is just r - V",
        ),
        _gae_case(
            [[0.0, 1.0], [1.0, 0.0], [0.0, 0.0]],
            [[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]],
            [[0, 1], [0, 0], [1, 0]],
            [1.0, 2.0],
            0.97,
            0.95,
            "two games side by side, shape [T=3, B=2]; last_value has shape [B]",
        ),
    ]


def _gae_random(rng: np.random.Generator, n: int) -> list[Case]:
    cases = []
    for i in range(n):
        T = int(rng.integers(1, 25))
        shape = (T,) if i % 2 == 0 else (T, int(rng.integers(1, 6)))
        rewards = (rng.random(shape) < 0.25).astype(float) - 0.01 * (rng.random() < 0.3)
        values = np.round(rng.uniform(-0.5, 2.0, shape), 3)
        dones = (rng.random(shape) < rng.choice([0.0, 0.1, 0.25])).astype(float)
        last = (
            np.round(rng.uniform(-0.5, 2.0, shape[1:]), 3)
            if len(shape) == 2
            else round(float(rng.uniform(-0.5, 2.0)), 3)
        )
        gamma = float(rng.choice([0.5, 0.9, 0.97, 0.99]))
        lam = float(rng.choice([0.0, 0.5, 0.9, 0.95, 1.0]))
        cases.append(
            _gae_case(
                rewards,
                values,
                dones,
                last,
                gamma,
                lam,
                f"random #{i + 1}: shape {list(shape)}, {int(dones.sum())} episode end(s)",
            )
        )
    return cases


def _compare_gae(expected, actual) -> str | None:
    if not isinstance(actual, (tuple, list)) or len(actual) != 2:
        return f"return a pair (advantages, returns); got {type(actual).__name__}"
    for name, exp, act in zip(("advantages", "returns"), expected, actual):
        if not isinstance(act, np.ndarray):
            return (
                f"{name}: NumPy in, NumPy out: return NumPy arrays (np.asarray(...)); "
                f"got {type(act).__name__}"
            )
        problem = same_array(exp, act)
        if problem is not None:
            return f"{name}: {problem}"
    return None


def _show_gae(case: Case) -> str:
    a = case.args
    lines = [f"gamma = {a['gamma']}, lam = {a['lam']}"]
    for k in ("rewards", "values", "dones"):
        lines.append(f"{k:10s} = {np.array2string(np.asarray(a[k]), max_line_width=100, threshold=400)}")
    lines.append(f"last_value = {a['last_value']!r}")
    return "\n".join(lines)


compute_gae = Exercise(
    lesson="04",
    name="compute_gae",
    points=3,
    reference=_reference_compute_gae,
    fixed_cases=_gae_fixed,
    random_cases=_gae_random,
    compare=_compare_gae,
    show=_show_gae,
    nudge=(
        "An advantage depends on what comes after it, so compute from the last step backwards. What must "
        "not flow across the end of an episode?"
    ),
    hint=(
        "Walk backwards from the last step t = T-1 to 0, carrying the next step's value (it starts as "
        "last_value) and the next step's advantage (it starts at 0). Both are multiplied by "
        "(1 - dones[t]): nothing crosses an episode end. Discount the carried advantage by gamma * lam, "
        "the next value by gamma. returns = advantages + values. Work on whole rows (rewards[t] has "
        "shape [B]), so that [T, B] works too."
    ),
)


# --------------------------------------------------------------------------------------------------
# Exercise 4.2: clipped_policy_loss


def _tensors(args: dict) -> dict:
    """The case as the learner's function receives it: float32 tensors, `new_logp` requiring grad."""
    import torch

    out = dict(args)
    out["new_logp"] = torch.tensor(np.asarray(args["new_logp"]), dtype=torch.float32, requires_grad=True)
    out["old_logp"] = torch.tensor(np.asarray(args["old_logp"]), dtype=torch.float32)
    out["adv"] = torch.tensor(np.asarray(args["adv"]), dtype=torch.float32)
    return out


def _answer(loss, new_logp) -> Any:
    """The loss and d loss / d new_logp as plain data; a string says why it cannot be read."""
    import torch

    if not isinstance(loss, torch.Tensor):
        return (
            f"not a torch tensor but {type(loss).__name__}: return the loss as a tensor (no .item(), "
            "no NumPy), so that PPO can take its gradient"
        )
    if loss.numel() != 1:
        return f"a tensor of shape {tuple(loss.shape)}: the loss is one number, the mean over the samples"
    if not loss.requires_grad:
        return "a tensor with no gradient: build the loss from new_logp with torch operations (no .detach())"
    (grad,) = torch.autograd.grad(loss.reshape(()), new_logp, allow_unused=True)
    if grad is None:
        grad = torch.zeros_like(new_logp)
    return {"loss": float(f"{float(loss.detach()):.7g}"), "grad": grad.detach().numpy().astype(np.float64)}


class _TensorCall:
    """Calls a function of tensors on a plain-data case and returns its answer as plain data."""

    def __init__(self, fn: Callable):
        self.fn = fn

    def __call__(self, **args):
        tensors = _tensors(args)
        return _answer(self.fn(**tensors), tensors["new_logp"])


@dataclass(frozen=True)
class TensorExercise(Exercise):
    """An exercise whose function takes torch tensors while its cases stay plain data.

    `reference` is the library's function (tensors in, tensor out). `call(fn, args)` turns a case's
    arrays into tensors, calls `fn` and returns its answer as plain data.
    """

    def call(self, fn: Callable, args: dict) -> Any:
        return _TensorCall(fn)(**copy.deepcopy(args))


def _compare_loss(expected, actual) -> str | None:
    if isinstance(actual, str):
        return f"the answer is {actual}"
    if not isinstance(actual, dict):
        return f"expected a torch tensor holding one number; got {type(actual).__name__}"
    problem = close_number(expected["loss"], actual["loss"], tol=1e-5)
    if problem is not None:
        return f"the loss is {problem}"
    problem = same_array(expected["grad"], actual["grad"])
    if problem is not None:
        return (
            f"the loss is right but its gradient with respect to new_logp is not: {problem} (a clipped "
            "sample must get zero gradient; check min, clamp, and that nothing is detached)"
        )
    return None


def _loss_case(new_logp, old_logp, adv, clip, label) -> Case:
    return Case(
        {
            "new_logp": np.asarray(new_logp, dtype=np.float64),
            "old_logp": np.asarray(old_logp, dtype=np.float64),
            "adv": np.asarray(adv, dtype=np.float64),
            "clip": float(clip),
        },
        label,
    )


def _loss_fixed() -> list[Case]:
    ln = np.log
    return [
        _loss_case(
            [-1.0, -2.0, -0.5],
            [-1.0, -2.0, -0.5],
            [1.0, -0.5, 2.0],
            0.2,
            "new policy = old policy: the ratio is 1 and the loss is -mean(adv)",
        ),
        _loss_case(
            [ln(0.6)],
            [ln(0.4)],
            [1.0],
            0.2,
            "ratio 1.5 with a positive advantage: clipped at 1.2, gradient zero",
        ),
        _loss_case(
            [ln(0.2)],
            [ln(0.4)],
            [-1.0],
            0.2,
            "ratio 0.5 with a negative advantage: clipped at 0.8, gradient zero",
        ),
        _loss_case(
            [ln(0.2)],
            [ln(0.4)],
            [1.0],
            0.2,
            "ratio 0.5 with a positive advantage: not clipped (the pessimistic term is the unclipped one)",
        ),
        _loss_case([ln(0.6)], [ln(0.4)], [-2.0], 0.2, "ratio 1.5 with a negative advantage: not clipped"),
        _loss_case(
            [ln(0.43), ln(0.6), ln(0.3), ln(0.1)],
            [ln(0.4)] * 4,
            [0.5, 2.0, -1.0, 0.3],
            0.1,
            "a batch of four samples, clip 0.1: some clipped, some not",
        ),
        _loss_case(
            [ln(0.5), ln(0.25)],
            [ln(0.25), ln(0.5)],
            [3.0, 3.0],
            0.3,
            "ratios 2 and 0.5, both positive advantages, clip 0.3",
        ),
    ]


def _loss_random(rng: np.random.Generator, n: int) -> list[Case]:
    cases = []
    for i in range(n):
        size = int(rng.integers(1, 40))
        old = np.log(rng.uniform(0.05, 0.95, size))
        new = old + rng.normal(0.0, rng.choice([0.05, 0.2, 0.5]), size)
        adv = rng.normal(0.0, 1.0, size)
        clip = float(rng.choice([0.1, 0.2, 0.3]))
        cases.append(
            _loss_case(
                np.round(new, 4), np.round(old, 4), np.round(adv, 4), clip, f"random #{i + 1}: {size} samples"
            )
        )
    return cases


def _show_loss(case: Case) -> str:
    a = case.args
    ratio = np.exp(np.asarray(a["new_logp"]) - np.asarray(a["old_logp"]))
    rows = [f"clip = {a['clip']}"]
    for k in ("new_logp", "old_logp", "adv"):
        rows.append(
            f"{k:8s} = {np.array2string(np.asarray(a[k]), precision=4, max_line_width=100, threshold=60)}"
        )
    rows.append(f"(ratio   = {np.array2string(ratio, precision=4, max_line_width=100, threshold=60)})")
    rows.append("(your function receives them as float32 torch tensors; new_logp has requires_grad=True)")
    return "\n".join(rows)


clipped_policy_loss = TensorExercise(
    lesson="04",
    name="clipped_policy_loss",
    points=2,
    reference=_reference_clipped_policy_loss,
    fixed_cases=_loss_fixed,
    random_cases=_loss_random,
    compare=_compare_loss,
    show=_show_loss,
    nudge=(
        "Start from the ratio of the new and the old probability of each action. PPO keeps the more "
        "pessimistic of the clipped and the unclipped objective, and an optimiser minimises."
    ),
    hint=(
        "ratio = exp(new_logp - old_logp); take, sample by sample, the smaller of ratio * adv and "
        "clamp(ratio, 1 - clip, 1 + clip) * adv (torch.min, torch.clamp), average with .mean(), and "
        "put a minus sign in front: the optimiser minimises the loss, PPO maximises the objective."
    ),
)
