"""The evaluation harness behind evaluate.py: scores with intervals, baselines, reports."""
