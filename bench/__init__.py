"""`make bench`: the performance benchmark (see docs/performance.md).

`python -m bench` generates seeded synthetic exports (cached in bench/work/), measures every figure in
fresh worker processes (`bench.worker`), writes bench/results.json and prints a table with the targets.
`python -m bench --executors` also times the 2023 yearly job with the multiprocess executor.
"""
