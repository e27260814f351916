"""Kernel-side helper written by legate-jupyter into each kernel it installs.

It starts an IPython kernel exactly as `python -m ipykernel_launcher` would, and registers a
`%legate_info` magic that shows the kernel's Legate configuration without needing Legate.
Where Legate is installed, `%load_ext legate.jupyter` keeps working as before.
Standard library and IPython only.
"""

import json
import os
import sys

# The rows come from legate-jupyter's option table, written in at install time.
INFO_ROWS = json.loads(@INFO_ROWS@)
NOT_SET = @NOT_SET@
SPEC_KEY = "__LEGATE_JUPYTER_KERNEL_SPEC__"


def _show(value):
    return NOT_SET if value is None else str(value)


def render_info(spec_name, metadata):
    """Return the %legate_info text for `metadata` (the kernel.json metadata.legate)."""
    nodes = (metadata.get("multi_node") or {}).get("nodes")
    lines = ["Kernel '%s' configured for %s node(s)" % (spec_name, _show(nodes))]
    for title, section, rows in INFO_ROWS:
        lines += ["", title + ":"]
        values = metadata.get(section) or {}
        lines += ["%s : %s" % (label, _show(values.get(key))) for key, label in rows]
    return "\n".join(lines) + "\n"


def _kernel_spec():
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "kernel.json"), encoding="utf-8") as f:
        return json.load(f)


def legate_info(line=""):
    """Show this kernel's Legate configuration."""
    spec = _kernel_spec()
    name = os.environ.get(SPEC_KEY) or spec.get("env", {}).get(SPEC_KEY, "?")
    sys.stdout.write(render_info(name, spec.get("metadata", {}).get("legate", {})))


def main():
    from ipykernel.kernelapp import IPKernelApp

    app = IPKernelApp.instance()
    app.initialize(sys.argv[1:])
    app.shell.register_magic_function(legate_info, "line", "legate_info")
    app.start()


if __name__ == "__main__":
    main()
