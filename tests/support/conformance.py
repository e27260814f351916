"""Run jupyter_kernel_test, the standard kernel conformance suite, against one kernel.

Usage: python3 conformance.py KERNEL_NAME [LEGATE_INFO_FILE]
Prints {"tests": {"test_name": "ok" | "skip: reason" | "fail: message"}} on stdout.

The samples are those ipykernel's own conformance test uses (Python code), plus two tests the
suite lacks: interrupt (a cell sleeping 60 s is interrupted through the kernel manager, as
Jupyter's stop button does, and ends with KeyboardInterrupt) and, when LEGATE_INFO_FILE is
given, `%legate_info`, whose output must be that file's text (the seed's block).
"""

import json
import sys
import time
import unittest

import jupyter_kernel_test as jkt

KERNEL, EXPECTED_INFO = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else None)


class Conformance(jkt.KernelTests):
    kernel_name = KERNEL
    language_name = "python"
    file_extension = ".py"

    code_hello_world = "print('hello, world')"
    code_stderr = "import sys; print('test', file=sys.stderr)"
    completion_samples = [{"text": "zi", "matches": {"zip"}}]
    complete_code_samples = ["1", "print('hello, world')", "def f(x):\n  return x*2\n\n\n"]
    incomplete_code_samples = ["print('''hello", "def f(x):\n  x*2"]
    invalid_code_samples = ["import = 7q"]
    code_page_something = "zip?"
    code_generate_error = "raise"
    code_execute_result = [
        {"code": "1+2+3", "result": "6"},
        {"code": "[n*n for n in range(1, 4)]", "result": "[1, 4, 9]"},
    ]
    code_display_data = [
        {"code": "from IPython.display import HTML, display; display(HTML('<b>test</b>'))",
         "mime": "text/html"},
        {"code": "from IPython.display import Math, display; display(Math('\\\\frac{1}{2}'))",
         "mime": "text/latex"},
    ]
    code_history_pattern = "1?2*"
    # ipykernel answers a "range" request for the running session with session number 0, which
    # the suite's range test rejects whatever the kernel: ipykernel's own use of the suite
    # lists these two.
    supported_history_operations = ("tail", "search")
    code_inspect_sample = "zip"
    code_clear_output = "from IPython.display import clear_output; clear_output()"

    def execute_helper(self, code, timeout=jkt.TIMEOUT, silent=False, store_history=True,
                       stop_on_error=True):
        # The suite's own helper gives each output message 0.1 s to arrive after the reply,
        # which a loaded machine misses; this one waits up to the suite's TIMEOUT, and is
        # otherwise the same.
        msg_id = self.kc.execute(code=code, silent=silent, store_history=store_history,
                                 stop_on_error=stop_on_error)
        reply = self.get_non_kernel_info_reply(timeout=timeout)
        jkt.validate_message(reply, "execute_reply", msg_id)
        busy = self.kc.get_iopub_msg(timeout=timeout)
        jkt.validate_message(busy, "status", msg_id)
        self.assertEqual(busy["content"]["execution_state"], "busy")
        output = []
        while True:
            msg = self.kc.get_iopub_msg(timeout=timeout)
            jkt.validate_message(msg, msg["msg_type"], msg_id)
            if msg["msg_type"] == "status":
                self.assertEqual(msg["content"]["execution_state"], "idle")
                return reply, output
            if msg["msg_type"] == "execute_input":
                self.assertEqual(msg["content"]["code"], code)
                continue
            output.append(msg)

    def test_interrupt(self):
        self.flush_channels()
        msg_id = self.kc.execute("import time; time.sleep(60)")
        # Interrupt once the cell runs (its busy status), as a user would.
        deadline = time.monotonic() + jkt.TIMEOUT
        while time.monotonic() < deadline:
            msg = self.kc.get_iopub_msg(timeout=jkt.TIMEOUT)
            if (msg["parent_header"].get("msg_id") == msg_id
                    and msg["msg_type"] == "status"
                    and msg["content"]["execution_state"] == "busy"):
                break
        time.sleep(0.5)
        self.km.interrupt_kernel()
        reply = self.kc.get_shell_msg(timeout=jkt.TIMEOUT)
        while reply["parent_header"].get("msg_id") != msg_id:
            reply = self.kc.get_shell_msg(timeout=jkt.TIMEOUT)
        self.assertEqual(reply["content"]["status"], "error")
        self.assertEqual(reply["content"]["ename"], "KeyboardInterrupt")
        # The interrupted cell's last message is its idle status.
        while True:
            msg = self.kc.get_iopub_msg(timeout=jkt.TIMEOUT)
            if (msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "status"
                    and msg["content"]["execution_state"] == "idle"):
                break
        # The kernel lives on and runs the next cell.
        reply, out = self.execute_helper("print('after')")
        self.assertEqual(reply["content"]["status"], "ok")
        self.assertIn("after\n", [m["content"].get("text") for m in out])

    def test_legate_info(self):
        if EXPECTED_INFO is None:
            raise unittest.SkipTest("not a Legate kernel")
        with open(EXPECTED_INFO, encoding="utf-8") as f:
            expected = f.read()
        self.flush_channels()
        reply, out = self.execute_helper("%legate_info")
        self.assertEqual(reply["content"]["status"], "ok")
        text = "".join(m["content"]["text"] for m in out
                       if m["msg_type"] == "stream" and m["content"]["name"] == "stdout")
        self.assertEqual(text, expected)


class Outcomes(unittest.TestResult):
    """Collects one outcome per test method; a failed subtest fails its test."""

    def __init__(self):
        super().__init__()
        self.outcomes = {}

    @staticmethod
    def name(test):
        # A failed setUpClass (the kernel did not start) reports a holder with no method.
        test = getattr(test, "test_case", test)
        return getattr(test, "_testMethodName", str(test))

    def set(self, test, outcome):
        name = self.name(test)
        if not self.outcomes.get(name, "ok").startswith("fail"):
            self.outcomes[name] = outcome

    def addSuccess(self, test):
        self.outcomes.setdefault(self.name(test), "ok")

    def addSkip(self, test, reason):
        if test is getattr(test, "test_case", test):
            self.set(test, "skip: " + reason)
        else:
            # A skipped subtest (a history operation not listed) skips only that part, and
            # then unittest reports no success for the test: its other parts passed.
            self.outcomes.setdefault(self.name(test), "ok")

    def addFailure(self, test, err):
        # The exception's own lines (a set difference spans several), not the traceback.
        text = self._exc_info_to_string(err, test).strip()
        start = text.rfind("\n" + err[0].__name__)
        self.set(test, "fail: " + (text[start + 1:] if start >= 0 else text.splitlines()[-1]))

    addError = addFailure

    def addSubTest(self, test, subtest, err):
        if err is not None:
            self.addFailure(subtest, err)


def main():
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(Conformance)
    result = Outcomes()
    suite.run(result)
    json.dump({"tests": result.outcomes}, sys.stdout, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
