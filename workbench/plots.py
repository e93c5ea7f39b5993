"""Charts (matplotlib): the posterior predictive check and the posterior's marginals and pairs."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from .priors import Priors  # noqa: E402


def predictive_check_chart(check: pd.DataFrame, title: str):
    """Each report figure (dot) against the simulated median and 95 % interval (bar)."""
    rows = check.dropna(subset=["median"]).reset_index(drop=True)
    labels = [f"{r['name']}" + (f" (group {int(r['group'])})" if pd.notna(r["group"]) else "") + f"  ¶{r['paragraph']}"
              for _, r in rows.iterrows()]
    fig, ax = plt.subplots(figsize=(9, 0.28 * len(rows) + 1.2))
    y = np.arange(len(rows))[::-1]
    ax.hlines(y, rows["low"], rows["high"], color="#8fb3d9", lw=5, label="model 95 % interval")
    ax.plot(rows["median"], y, "|", color="#1f4e79", ms=12, label="model median")
    colors = np.where(rows["inside"], "#2e7d32", "#c62828")
    ax.scatter(rows["report"], y, c=colors, zorder=3, s=22, label="report (green inside, red outside)")
    ax.set_yticks(y, labels, fontsize=7)
    ax.set_xscale("symlog", linthresh=10)
    ax.set_xlabel("count")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return fig


def marginals_chart(particles: pd.DataFrame, priors: Priors):
    """Weighted posterior histogram of each parameter over its prior range."""
    n = len(priors.priors)
    cols = 4
    fig, axes = plt.subplots(int(np.ceil(n / cols)), cols, figsize=(12, 2.4 * np.ceil(n / cols)))
    for ax, prior in zip(axes.ravel(), priors.priors):
        x = particles[prior.name].to_numpy()
        log = prior.distribution == "loguniform"
        bins = np.geomspace(prior.low, prior.high, 25) if log else np.linspace(prior.low, prior.high, 25)
        ax.hist(x, bins=bins, weights=particles["weight"], color="#4f81bd", density=True, label="posterior")
        if log:
            ax.set_xscale("log")
            grid = np.geomspace(prior.low, prior.high, 100)
            ax.plot(grid, 1 / (grid * np.log(prior.high / prior.low)), color="grey", ls="--", label="prior")
        else:
            ax.axhline(1 / (prior.high - prior.low), color="grey", ls="--", label="prior")
        ax.set_title(prior.name, fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in axes.ravel()[n:]:
        ax.axis("off")
    axes.ravel()[0].legend(fontsize=7)
    fig.tight_layout()
    return fig


def pairs_chart(particles: pd.DataFrame, priors: Priors, names: list[str] | None = None):
    """Pairwise scatter of the posterior particles (point size by weight)."""
    names = names or priors.names[:6]
    k = len(names)
    fig, axes = plt.subplots(k, k, figsize=(2.0 * k, 2.0 * k))
    w = particles["weight"].to_numpy()
    size = 4 + 200 * w / w.max() / np.sqrt(len(w))
    for i, a in enumerate(names):
        for j, b in enumerate(names):
            ax = axes[i, j]
            if i == j:
                ax.hist(particles[a], bins=20, weights=w, color="#4f81bd")
            else:
                ax.scatter(particles[b], particles[a], s=size, alpha=0.4, color="#1f4e79")
            if i == k - 1:
                ax.set_xlabel(b, fontsize=6)
            if j == 0:
                ax.set_ylabel(a, fontsize=6)
            ax.tick_params(labelsize=5)
    fig.tight_layout()
    return fig
