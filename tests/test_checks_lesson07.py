"""Lesson 07's checks accept correct answers written independently and reject plausible wrong ones."""

from __future__ import annotations

import numpy as np
import torch

from mesalib.teaching import checks

PROBE = checks.lesson07.probe_accuracy
STEER = checks.lesson07.steer


# --------------------------------------------------------------------------------------------------
# Exercise 7.1: probe_accuracy


def make_probe(
    *, bias=True, score_on_train=False, argmax_axis=1, use_ridge=True, one_hot=True, penalise_bias=True
):
    """A ridge probe written for this test; the switches turn it into a mutant."""

    def probe(train_x, train_y, test_x, test_y, n_classes, ridge):
        x, y = np.asarray(train_x, float), np.asarray(train_y)
        tx, ty = (x, y) if score_on_train else (np.asarray(test_x, float), np.asarray(test_y))
        if bias:
            x = np.hstack([x, np.ones((len(x), 1))])
            tx = np.hstack([tx, np.ones((len(tx), 1))])
        targets = np.eye(n_classes)[y] if one_hot else y[:, None].astype(float)
        penalty = (ridge if use_ridge else 0.0) * np.eye(x.shape[1])
        if bias and not penalise_bias:
            penalty[-1, -1] = 0.0
        w = np.linalg.pinv(x.T @ x + penalty) @ x.T @ targets
        scores = tx @ w
        pred = np.rint(scores[:, 0]).astype(int) if not one_hot else scores.argmax(axis=argmax_axis)
        return float(np.mean(pred == ty))

    return probe


def probe_in_torch(train_x, train_y, test_x, test_y, n_classes, ridge):
    """The same answer in float32 torch, the way a learner might write it."""
    x = torch.tensor(train_x, dtype=torch.float32)
    x = torch.cat([x, torch.ones(len(x), 1)], dim=1)
    y = torch.nn.functional.one_hot(torch.as_tensor(train_y), n_classes).float()
    w = torch.linalg.solve(x.T @ x + ridge * torch.eye(x.shape[1]), x.T @ y)
    t = torch.tensor(test_x, dtype=torch.float32)
    pred = (torch.cat([t, torch.ones(len(t), 1)], dim=1) @ w).argmax(dim=1)
    return (pred == torch.as_tensor(test_y)).float().mean().item()


def test_probe_answers_pass():
    for answer in (make_probe(), probe_in_torch):
        assert PROBE.run(answer).ok
        assert PROBE.run(answer, seed=11).ok


def test_probe_mutants_are_rejected():
    mutants = {
        "scored on the training rows": make_probe(score_on_train=True),
        "no bias column": make_probe(bias=False),
        "argmax over the wrong axis": make_probe(argmax_axis=0),
        "ridge ignored": make_probe(use_ridge=False),
        "regresses the class number instead of one-hot": make_probe(one_hot=False),
        "returns the number of correct rows": lambda **kw: make_probe()(**kw) * len(kw["test_y"]),
    }
    for name, mutant in mutants.items():
        assert not PROBE.run(mutant).ok, name


def test_leaving_the_bias_unpenalised_is_a_different_answer():
    # The docstring asks for the bias to be penalised like the other weights; the huge-ridge case shows
    # the difference, so the exercise's definition is what is checked.
    assert not PROBE.run(make_probe(penalise_bias=False)).ok


# --------------------------------------------------------------------------------------------------
# Exercise 7.2: steer


def steer_answer(features, group_a, group_b, scale):
    direction = np.mean(group_a, axis=0) - np.mean(group_b, axis=0)
    return np.asarray(features) + scale * direction


def steer_in_torch(features, group_a, group_b, scale):
    a, b = torch.tensor(group_a, dtype=torch.float32), torch.tensor(group_b, dtype=torch.float32)
    return (torch.tensor(features, dtype=torch.float32) + scale * (a.mean(0) - b.mean(0))).numpy()


def test_steer_answers_pass():
    for answer in (steer_answer, steer_in_torch):
        assert STEER.run(answer).ok
        assert STEER.run(answer, seed=5).ok


def test_steer_mutants_are_rejected():
    def unit(v):
        return v / np.linalg.norm(v)

    mutants = {
        "wrong sign (b minus a)": lambda features, group_a, group_b, scale: (
            features + scale * (group_b.mean(0) - group_a.mean(0))
        ),
        "sums instead of means": lambda features, group_a, group_b, scale: (
            features + scale * (group_a.sum(0) - group_b.sum(0))
        ),
        "normalised to length 1": lambda features, group_a, group_b, scale: (
            features + scale * unit(group_a.mean(0) - group_b.mean(0))
        ),
        "normalised by the number of features": lambda features, group_a, group_b, scale: (
            features + scale * (group_a.mean(0) - group_b.mean(0)) / features.shape[1]
        ),
        "means over the wrong axis": lambda features, group_a, group_b, scale: (
            features + scale * (group_a.mean(1).mean() - group_b.mean(1).mean())
        ),
        "returns the vector, not the steered features": lambda features, group_a, group_b, scale: (
            scale * (group_a.mean(0) - group_b.mean(0))
        ),
        "scale forgotten": lambda features, group_a, group_b, scale: (
            features + (group_a.mean(0) - group_b.mean(0))
        ),
    }
    for name, mutant in mutants.items():
        assert not STEER.run(mutant).ok, name
