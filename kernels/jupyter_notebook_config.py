# Written by legate-jupyter, which names this directory in JUPYTER_CONFIG_PATH for the classic
# Jupyter Notebook it starts. It changes one thing, and only for Notebook 6 running with
# jupyter_client 8 or newer: kernels are managed by Notebook's own AsyncMappingKernelManager.
#
# Why: with Notebook 6's default, synchronous kernel manager, jupyter_client 8 creates each
# kernel's manager, and so its ZMQ streams, on a private event loop in another thread. The
# kernel_info_reply that a new kernel websocket waits for then completes a future of the
# server's own loop from that thread, which the server notices only when something else wakes
# its loop: every notebook waits up to kernel_info_timeout (60 s) before its kernel connects.
#
# A kernel_manager_class given on the command line, or in any other Jupyter config file, wins.


def _legate_jupyter_async_kernels(c):
    try:
        import os

        import jupyter_client
        from jupyter_core.paths import jupyter_config_path
        from traitlets.config import Application

        if not Application.initialized():
            return
        if type(Application.instance()).__module__ != "notebook.notebookapp":
            return
        if int(jupyter_client.__version__.split(".")[0]) < 8:
            return
        here = os.path.dirname(os.path.abspath(__file__))
        for d in jupyter_config_path():
            if os.path.abspath(d) == here:
                continue
            for name in ("jupyter_notebook_config.py", "jupyter_notebook_config.json"):
                try:
                    with open(os.path.join(d, name), encoding="utf-8") as f:
                        if "kernel_manager_class" in f.read():
                            return
                except OSError:
                    pass
    except Exception:
        return
    c.NotebookApp.kernel_manager_class = (
        "notebook.services.kernels.kernelmanager.AsyncMappingKernelManager"
    )


_legate_jupyter_async_kernels(c)  # noqa: F821 (traitlets gives config files `c`)
del _legate_jupyter_async_kernels
