"""Adam, the optimiser PPO trains with, written out in a dozen lines.

Why not `torch.optim.Adam`: every optimiser in `torch.optim` imports TorchDynamo (PyTorch's compiler)
on its first step, which takes 1.5-2.5 s on two cores: a large share of a training run that the course
wants to finish in about ten seconds. This is the same algorithm (Kingma and Ba, 2015, "Adam: a method
for stochastic optimization") in the same order of floating-point operations as PyTorch's CPU
implementation, so it gives the same numbers (a test checks it, bit for bit, against `torch.optim.Adam`).
"""

from __future__ import annotations

from collections.abc import Iterable

import torch


class Adam:
    """Adam without weight decay or AMSGrad. `lr` may be changed between steps (learning-rate schedules)."""

    def __init__(
        self,
        params: Iterable[torch.nn.Parameter],
        lr: float,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ):
        self.params = [p for p in params if p.requires_grad]
        self.lr, self.betas, self.eps = lr, betas, eps
        self.steps = 0
        self.exp_avg = [torch.zeros_like(p) for p in self.params]
        self.exp_avg_sq = [torch.zeros_like(p) for p in self.params]

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        """One update of every parameter that has a gradient, from its running moment estimates."""
        beta1, beta2 = self.betas
        self.steps += 1
        step_size = self.lr / (1 - beta1**self.steps)
        bias_correction2_sqrt = (1 - beta2**self.steps) ** 0.5
        for p, m, v in zip(self.params, self.exp_avg, self.exp_avg_sq):
            if p.grad is None:
                continue
            m.lerp_(p.grad, 1 - beta1)
            v.mul_(beta2).addcmul_(p.grad, p.grad, value=1 - beta2)
            denom = (v.sqrt() / bias_correction2_sqrt).add_(self.eps)
            p.addcdiv_(m, denom, value=-step_size)
