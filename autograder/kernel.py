"""Run scenarios in the learner's sandboxed kernel, over files in the folder the two share.

`bootstrap_code()` is the code that installs the grader's agent (`autograder/inside`, sent as
source) in a fresh kernel, before any learner code. `KernelRunner.run(...)` writes a request
(a check's scenario over all its cases), asks the kernel to serve it, waits (with a time limit) for the reply, and reads the answer
back as data through `channel.decode`. Files in the shared folder are written with O_EXCL and
read with O_NOFOLLOW as regular files of bounded size: the sandbox can write there too, so a
name it planted (a symlink, a FIFO) must not make the grader read or write anything else.
"""
from __future__ import annotations

import json
import os
import secrets
import stat
import time
from pathlib import Path

from jupyter_client import BlockingKernelClient

from workbook import tracebacks

from .inside import channel

INSIDE = Path(__file__).resolve().parent / "inside"
# Sent in place of their trusted-side namesakes in `inside/`: one source serves the learner's kit and the sandbox.
SHARED = {INSIDE / "tracebacks.py": Path(tracebacks.__file__)}
MAX_ANSWER_BYTES = channel.MAX_TENSOR_BYTES + channel.MAX_JSON_BYTES

_BOOT = '''
def _workbook_grader_boot(sources, packages):
    import importlib.abc, importlib.util, sys

    class GraderModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
        def find_spec(self, name, path=None, target=None):
            if name in sources:
                return importlib.util.spec_from_loader(name, self, is_package=name in packages)
        def create_module(self, spec):
            return None
        def exec_module(self, module):
            exec(compile(sources[module.__name__], "<grader " + module.__name__ + ">", "exec"), module.__dict__)

    sys.meta_path.insert(0, GraderModules())
    import _grader.agent
    for name in sources:
        if name.startswith("_grader.scenarios."):
            __import__(name)
_workbook_grader_boot({sources!r}, {packages!r})
del _workbook_grader_boot
'''


def bootstrap_code() -> str:
    """Code that makes `autograder/inside` importable as `_grader` in a kernel where nothing of ours is."""
    sources, packages = {}, set()
    for path in sorted(INSIDE.rglob("*.py")):
        parts = ["_grader", *path.relative_to(INSIDE).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts = parts[:-1]
            packages.add(".".join(parts))
        sources[".".join(parts)] = SHARED.get(path, path).read_text()
    return _BOOT.format(sources=sources, packages=sorted(packages))


class KernelGone(RuntimeError):
    """The kernel died, or stopped answering, while serving a request (`KernelRunner.gone` says which)."""


def _write_new(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def _read_regular(path: Path, limit: int) -> bytes | None:
    """The bytes of `path` if it is a regular file (not a link, FIFO or device) of at most `limit` bytes."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fh.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            return None
        return fh.read(limit + 1)[:limit]


def folder_size(folder: Path) -> int:
    """Bytes in the regular files directly in `folder` (what the sandbox may have written there)."""
    total = 0
    for entry in os.scandir(folder):
        try:
            if entry.is_file(follow_symlinks=False):
                total += entry.stat(follow_symlinks=False).st_size
        except OSError:
            continue
    return total


class KernelRunner:
    """The sandbox's side of a check's cases: `run(scenario, inputs, rules, device)` → the validated answer."""

    def __init__(self, km, folder: Path, timeout: float, alive=None):
        self.km, self.folder, self.timeout = km, Path(folder), timeout
        self.alive = alive or (lambda: True)
        self.gone: str | None = None  # why the kernel stopped answering, once it has
        self.kc = BlockingKernelClient()
        self.kc.load_connection_info(km.get_connection_info())
        self.kc.start_channels(shell=True, iopub=False, stdin=False, hb=False, control=False)

    def close(self) -> None:
        self.kc.stop_channels()

    def execute(self, code: str, timeout: float) -> dict:
        """Run `code` silently in the kernel; its execute_reply's content. `KernelGone` if none comes in time."""
        msg_id = self.kc.execute(code, silent=True, store_history=False, allow_stdin=False)
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not self.alive():
                raise KernelGone("no reply from the kernel in time" if left <= 0 else "the kernel died")
            try:
                reply = self.kc.get_shell_msg(timeout=min(left, 1.0))
            except Exception:  # queue.Empty: nothing yet
                continue
            if reply.get("parent_header", {}).get("msg_id") == msg_id:
                return reply["content"]

    def _gone(self) -> dict:
        return {"error": {"kind": "gone", "message": f"the kernel stopped ({self.gone}): your code took longer than "
                                                     f"{self.timeout:g} s, looped forever, or crashed it"}, "found": []}

    def run(self, scenario: str, batch: list[dict], rules, devices: list[str]) -> list[dict]:
        """The validated answers of the kernel to one scenario over a batch of cases (one request)."""
        if self.gone:
            return [self._gone()] * len(batch)
        rid = "r" + secrets.token_hex(8)
        doc, blob = channel.encode(batch)
        request = json.dumps({"scenario": scenario, "forbidden": list(rules), "devices": list(devices)}).encode()
        try:
            _write_new(self.folder / f"{rid}.inputs.safetensors", blob) if blob else None
            _write_new(self.folder / f"{rid}.inputs.json", doc)
            _write_new(self.folder / f"{rid}.json", request)
        except OSError as exc:
            return [_failed(f"the grader could not hand your notebook its request ({exc.strerror})")] * len(batch)
        try:
            reply = self.execute(f"__import__('_grader.agent', fromlist=['serve']).serve({str(self.folder)!r}, "
                                 f"{rid!r})", self.timeout)
        except KernelGone as exc:
            self.gone = str(exc)
            return [self._gone()] * len(batch)
        try:
            if reply.get("status") != "ok":
                return [_failed("the grader's request could not run in your notebook's kernel "
                                f"({reply.get('ename', 'error')}: {str(reply.get('evalue', ''))[:200]}); did the "
                                "notebook change Python's or IPython's machinery?")] * len(batch)
            doc = _read_regular(self.folder / f"{rid}.out.json", channel.MAX_JSON_BYTES)
            blob = _read_regular(self.folder / f"{rid}.out.safetensors", channel.MAX_TENSOR_BYTES) or b""
            if doc is None:
                return [_failed("the grader got no answer from your notebook's kernel")] * len(batch)
            answers = channel.decode(doc, blob)
            if not isinstance(answers, list) or len(answers) > len(batch):
                return [_failed("the answer from your notebook's kernel had the wrong form")] * len(batch)
            return [_validated(a) for a in answers]
        except channel.ChannelError as exc:
            return [_failed(f"the answer from your notebook's kernel was not valid data ({exc})")] * len(batch)
        finally:
            for suffix in (".json", ".inputs.json", ".inputs.safetensors", ".out.json", ".out.safetensors"):
                try:
                    os.unlink(self.folder / f"{rid}{suffix}")
                except OSError:
                    pass


def _failed(message: str) -> dict:
    return {"error": {"kind": "raised", "message": message}, "found": []}


def _validated(answer) -> dict:
    """The agent's answer, if it has the shape one must have: {"outputs": ...} or {"error": {...}}, "found"."""
    if not isinstance(answer, dict) or not ({"outputs"} <= set(answer) or {"error"} <= set(answer)):
        return _failed("the answer from your notebook's kernel had the wrong form")
    found = answer.get("found")
    if not isinstance(found, list) or not all(isinstance(f, str) for f in found):
        return _failed("the answer from your notebook's kernel had the wrong form")
    error = answer.get("error")
    if error is not None and not (isinstance(error, dict) and isinstance(error.get("kind"), str)
                                  and isinstance(error.get("message"), str)):
        return _failed("the answer from your notebook's kernel had the wrong form")
    return {k: answer[k] for k in ("outputs", "error", "found") if k in answer}
