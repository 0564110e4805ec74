"""The evaluation harness behind eval.py: scores with intervals, baselines, reports."""
