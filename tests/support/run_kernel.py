"""Start a kernel by name through jupyter_client, run code cells, print the outputs as JSON.

Usage: python3 run_kernel.py KERNEL_NAME CODE [CODE ...]
Prints {"cells": [{"stdout": ..., "stderr": ..., "error": ...}, ...]} on stdout.
"""

import json
import sys

from jupyter_client.manager import start_new_kernel


def main():
    name, cells = sys.argv[1], sys.argv[2:]
    km, kc = start_new_kernel(kernel_name=name, startup_timeout=60)
    results = []
    try:
        for code in cells:
            cell = {"stdout": "", "stderr": "", "error": None}

            def hook(msg, cell=cell):
                t, c = msg["msg_type"], msg["content"]
                if t == "stream":
                    cell[c["name"]] += c["text"]
                elif t == "error":
                    cell["error"] = c["ename"] + ": " + c["evalue"]

            kc.execute_interactive(code, output_hook=hook, timeout=60)
            results.append(cell)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    json.dump({"cells": results}, sys.stdout)


if __name__ == "__main__":
    main()
