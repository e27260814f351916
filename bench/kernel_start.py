"""Times kernel start-ups through jupyter_client, for bench/kernel_start_bench.ts.

Usage: python3 kernel_start.py ROUNDS KERNEL [KERNEL ...]
Each round starts every KERNEL once, in an order that rotates from round to round, and times
from KernelManager.start_kernel() to the first kernel_info_reply (what wait_for_ready awaits,
and what a notebook waits for before it shows the kernel as idle). Prints JSON:
{"KERNEL": [ms, ...], ...}. One warm-up start per kernel comes first and is not counted.
"""

import json
import sys
import time

from jupyter_client.manager import KernelManager


def start_once(name):
    km = KernelManager(kernel_name=name)
    t0 = time.perf_counter()
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=60)
        return (time.perf_counter() - t0) * 1000
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def main():
    rounds, kernels = int(sys.argv[1]), sys.argv[2:]
    for name in kernels:
        start_once(name)
    times = {name: [] for name in kernels}
    for r in range(rounds):
        order = kernels[r % len(kernels):] + kernels[:r % len(kernels)]
        for name in order:
            times[name].append(start_once(name))
    json.dump(times, sys.stdout)


if __name__ == "__main__":
    main()
