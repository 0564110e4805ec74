"""Train and evaluate once per seed; report each figure's mean and standard deviation.

Fine-tuning on a few hundred articles swings by several points from seed to seed: a single
run's score says little without that spread.
"""
import copy
import json
from pathlib import Path

import numpy as np

from model.formulations import formulation_from


def figures(targets: list[str]) -> list[str]:
    return ["mean_macro_f1", "mean_f_avg", "mean_accuracy", *[f"{t}_macro_f1" for t in targets],
            *[f"{t}_f_avg" for t in targets]]


def run_seeds(recipe: dict, seeds: list[int], n_resamples: int = 200) -> tuple[Path, str]:
    from evaluation.harness import evaluate_run
    from model.training import train
    root = Path(recipe["training"]["output_dir"])
    names = figures(formulation_from(recipe).keys)
    per_seed = {}
    for seed in seeds:
        r = copy.deepcopy(recipe)
        r["training"].update(seed=seed, output_dir=str(root / f"seed-{seed}"))
        run, _ = train(r)
        result = evaluate_run(run, n_resamples=n_resamples)
        per_seed[seed] = result["systems"]
    summary = {}
    for system in per_seed[seeds[0]]:
        summary[system] = {}
        for fig in names:
            values = np.array([per_seed[s][system][fig] for s in seeds], dtype=float)
            summary[system][fig] = {"mean": float(np.nanmean(values)), "std": float(np.nanstd(values, ddof=1))
                                    if len(seeds) > 1 else 0.0, "values": values.tolist()}
    (root / "seeds.json").write_text(json.dumps({"seeds": seeds, "summary": summary}, indent=2))
    head = "| system | " + " | ".join(names) + " |"
    rows = [f"Test-split scores over seeds {', '.join(map(str, seeds))}: mean ± standard deviation.", "", head,
            "|" + "---|" * (len(names) + 1)]
    for system, figs in summary.items():
        rows.append(f"| {system} | " + " | ".join(f"{figs[f]['mean']:.3f} ± {figs[f]['std']:.3f}" for f in names)
                    + " |")
    table = "\n".join(rows) + "\n"
    (root / "seeds.md").write_text(table)
    return root, table
