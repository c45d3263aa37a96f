"""`make bench`: the performance benchmark of issue 8 (see docs/performance.md).

`python -m bench` generates seeded synthetic exports (cached in bench/work/), measures every figure in
fresh worker processes (`bench.worker`), writes bench/results.json and prints a table with the targets.
"""
