"""Train and evaluate one recipe several times and summarize: once per seed, or once per
held-out group (leave-one-group-out).

Fine-tuning on a few hundred articles swings by several points from seed to seed: a single
run's score says little without that spread. And where the outlet and the stance go together,
a random split cannot tell stance from outlet style: holding out each outlet (family) in turn can.
"""
import re
from pathlib import Path

import numpy as np

from data.build import group_values
from model.formulations import formulation_from
from model.recipe import merge
from model.validate import validate_recipe

from .report import score_table, write_metrics_json


def figures(targets: list[str]) -> list[str]:
    return ["mean_macro_f1", "mean_f_avg", "mean_accuracy", *[f"{t}_macro_f1" for t in targets],
            *[f"{t}_f_avg" for t in targets]]


def train_and_evaluate(recipe: dict, runs: dict, n_resamples: int) -> dict:
    """`runs`: name -> changes to the recipe (nested sections); name -> `evaluate_run`'s result on
    each run's own test split."""
    from evaluation.harness import evaluate_run
    from model.training import train
    results = {}
    for name, changes in runs.items():
        run, _ = train(merge(recipe, changes))
        results[name] = evaluate_run(run, n_resamples=n_resamples)
    return results


def spread(results: dict, names: list[str]) -> dict:
    """system -> figure -> mean, standard deviation and values over the runs."""
    runs = list(results)
    summary = {}
    for system in results[runs[0]]["systems"]:
        summary[system] = {}
        for fig in names:
            values = np.array([results[r]["systems"][system][fig] for r in runs], dtype=float)
            summary[system][fig] = {"mean": float(np.nanmean(values)), "std": float(np.nanstd(values, ddof=1))
                                    if len(runs) > 1 else 0.0, "values": values.tolist()}
    return summary


def spread_table(summary: dict, names: list[str], caption: str) -> str:
    rows = [caption, "", "| system | " + " | ".join(names) + " |", "|" + "---|" * (len(names) + 1)]
    for system, figs in summary.items():
        rows.append(f"| {system} | " + " | ".join(f"{figs[f]['mean']:.3f} ± {figs[f]['std']:.3f}" for f in names)
                    + " |")
    return "\n".join(rows) + "\n"


def run_seeds(recipe: dict, seeds: list[int], n_resamples: int = 200) -> tuple[Path, str]:
    """One run per seed in <output_dir>/seed-N; returns seeds.md and its table."""
    root = Path(recipe["training"]["output_dir"])
    names = figures(formulation_from(recipe).keys)
    results = train_and_evaluate(recipe, {s: {"training": {"seed": s, "output_dir": str(root / f"seed-{s}")}}
                                          for s in seeds}, n_resamples)
    summary = spread(results, names)
    write_metrics_json({"seeds": seeds, "summary": summary}, root / "seeds.json")
    table = spread_table(summary, names, f"Test-split scores over seeds {', '.join(map(str, seeds))}: "
                                         "mean ± standard deviation.")
    (root / "seeds.md").write_text(table)
    return root / "seeds.md", table


def leave_one_group_out(recipe: dict, n_resamples: int = 1000) -> tuple[Path, str]:
    """One run per value of `data.group_column`, in <output_dir>/holdout-<value>: its test split is
    every article of that value (`data.holdout_group`). Returns leave_one_group_out.md and its tables."""
    validate_recipe(recipe)  # before the data is read
    data = recipe["data"]
    column = data.get("group_column")
    if not column:
        raise ValueError("--leave-one-group-out needs data.group_column, the column whose values are held out "
                         "in turn (e.g. data.group_column=outlet_family)")
    if not data.get("source"):
        raise ValueError("--leave-one-group-out builds its own splits from data.source (not a saved data.dataset)")
    keys = formulation_from(recipe).keys
    groups = group_values({**data, "targets": keys})
    root = Path(recipe["training"]["output_dir"])
    folders = {g: root / ("holdout-" + re.sub(r"[^\w.-]+", "_", g)) for g in groups}
    results = train_and_evaluate(recipe, {g: {"data": {"holdout_group": g}, "training": {"output_dir": str(f)}}
                                          for g, f in folders.items()}, n_resamples)
    names = figures(keys)
    summary = spread(results, names)
    rows = {g: {**r["systems"]["model"], "articles": r["articles"]} for g, r in results.items()}
    rows[f"mean over {len(groups)} groups"] = {**{f: summary["model"][f]["mean"] for f in names}, "ci": {},
                                               "articles": sum(r["articles"] for r in results.values())}
    table = "\n".join([
        f"Leave one {column} out: each row trains without that {column} (validation: a share of the others) "
        f"and tests on all its articles; the model's scores with 95% bootstrap intervals.", "",
        score_table(rows, f"held-out {column}"), "",
        spread_table(summary, names, f"Every system, mean ± standard deviation over the {len(groups)} held-out "
                                     "groups:")])
    write_metrics_json({"group_column": column, "summary": summary,
                        "groups": {g: {"run": str(folders[g]), "articles": r["articles"], "model": r["systems"]["model"]}
                                   for g, r in results.items()}}, root / "leave_one_group_out.json")
    (root / "leave_one_group_out.md").write_text(table)
    return root / "leave_one_group_out.md", table
