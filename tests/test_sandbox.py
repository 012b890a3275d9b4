"""The learner's sandbox, from the inside: what a hostile notebook's kernel can and cannot reach.

One sandboxed kernel (as autograde starts it) runs small probes; each probe is code that raises
unless the property holds. The channel's files are also tested against names planted by the sandbox.
"""
import os
import socket
import subprocess
import textwrap
import uuid

import pytest
from jupyter_core.utils import run_sync

from autograder import sandbox
from autograder.kernel import KernelRunner, _read_regular, _write_new, bootstrap_code

pytestmark = pytest.mark.sandbox
LIMITS = {"memory_mb": 2048, "processes": 100, "file_mb": 8, "open_files": 128, "tmp_mb": 64}


def start():
    uid = sandbox.fresh_uid()
    folder = sandbox.shared_folder(uid)
    km = sandbox.SandboxedKernelManager(kernel_name="python3", shared_dir=str(folder), sandbox_limits=LIMITS,
                                        sandbox_uid=uid)
    run_sync(km.start_kernel)()
    return km, KernelRunner(km, folder, timeout=60, alive=lambda: run_sync(km.is_alive)())


@pytest.fixture(scope="module")
def kernel():
    km, runner = start()
    runner.execute("pass", 60)  # wait until it answers
    yield km, runner
    runner.close()
    run_sync(km.shutdown_kernel)(now=True)


def probe(kernel, code: str, timeout: float = 60) -> dict:
    """Run `code` in the sandboxed kernel; its execute_reply's content."""
    return kernel[1].execute(textwrap.dedent(code), timeout)


def holds(kernel, code: str) -> None:
    reply = probe(kernel, code)
    assert reply["status"] == "ok", f"{reply.get('ename')}: {reply.get('evalue')}"


def test_an_unprivileged_user_without_capabilities(kernel):
    holds(kernel, """
        import os
        assert os.getuid() != 0 and os.geteuid() != 0, os.getuid()
        caps = [l for l in open("/proc/self/status") if l.startswith("CapEff")][0].split()[1]
        assert int(caps, 16) == 0, caps
    """)


def test_no_network_not_even_the_hosts_loopback(kernel):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    try:
        holds(kernel, f"""
            import socket
            for host, port in (("127.0.0.1", {port}), ("8.8.8.8", 53)):
                s = socket.socket(); s.settimeout(2)
                try:
                    s.connect((host, port))
                except OSError:
                    pass
                else:
                    raise AssertionError(f"reached {{host}}:{{port}}")
        """)
    finally:
        server.close()


def test_nothing_of_the_course_is_visible(kernel):
    from autograder import course
    holds(kernel, f"""
        import importlib, os
        for name in ("solutions", "autograder", "autograder.exercises"):
            try:
                importlib.import_module(name)
            except ImportError:
                continue
            raise AssertionError(f"imported {{name}}")
        for path in {[str(course.REPO / p) for p in ("solutions", "autograder", "source", "nbgrader_config.py",
                                                      "gradebook.db", ".git", "README.md")]!r}:
            assert not os.path.exists(path), path
        import torch, workbook, workbook.testing  # what notebooks need is there
    """)


def test_the_system_and_the_environment_are_read_only(kernel):
    import site
    holds(kernel, f"""
        import os
        for folder in ("/usr/lib", {site.getsitepackages()[0]!r}, os.path.dirname(__import__("workbook").__file__)):
            try:
                open(os.path.join(folder, "planted.pth"), "w")
            except OSError:
                continue
            raise AssertionError(f"could write into {{folder}}")
    """)


def test_a_private_tmp_and_home(kernel):
    marker = f"/tmp/host-{uuid.uuid4().hex}"
    open(marker, "w").close()
    try:
        holds(kernel, f"""
            import os
            assert not os.path.exists({marker!r})
            open("/tmp/inside", "w").write("x"); open(os.path.expanduser("~/inside"), "w").write("x")
        """)
        assert not os.path.exists("/tmp/inside")
    finally:
        os.unlink(marker)


def test_matplotlib_reads_the_graders_font_list_and_cannot_change_it(kernel):
    fonts = sandbox.font_cache()
    assert fonts is not None and fonts.is_file()
    holds(kernel, f"""
        import os, matplotlib, matplotlib.font_manager as fm
        cache = os.path.join(matplotlib.get_cachedir(), {fonts.name!r})
        assert matplotlib.get_cachedir() == {sandbox.MPLCONFIGDIR!r}, matplotlib.get_cachedir()
        assert open(cache).read() == {fonts.read_text()!r}  # the grader's list, found where matplotlib looks
        assert fm.fontManager.ttflist                       # and loaded
        try:
            open(cache, "w")
        except OSError:
            pass
        else:
            raise AssertionError("could overwrite the font list every learner's kernel reads")
    """)


def test_limits_on_files_memory_and_processes(kernel):
    holds(kernel, """
        import resource, subprocess
        try:
            with open("/tmp/big", "wb") as fh:
                fh.write(b"0" * (16 * 2**20))
        except OSError:
            pass
        else:
            raise AssertionError("wrote a file over the size limit")
        try:
            hoard = bytearray(4 * 2**30)
        except MemoryError:
            pass
        else:
            raise AssertionError("allocated over the memory limit")
        children = []
        try:
            for _ in range(200):
                children.append(subprocess.Popen(["sleep", "30"]))
        except OSError:
            pass
        else:
            raise AssertionError("started 200 processes")
        finally:
            for c in children:
                c.kill()
    """)


def test_every_process_it_started_ends_with_it():
    km, runner = start()
    marker = uuid.uuid4().hex
    reply = runner.execute(f"import subprocess\nsubprocess.Popen(['sh', '-c', 'sleep 1000; echo {marker[:8]}'], "
                           "start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)", 60)
    assert reply["status"] == "ok"
    assert marker[:8] in subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    runner.close()
    run_sync(km.shutdown_kernel)(now=True)
    assert marker[:8] not in subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout


def test_the_agent_runs_there_and_answers_as_data(kernel):
    km, runner = kernel
    assert runner.execute(bootstrap_code(), 60)["status"] == "ok"
    assert probe(kernel, "def double(x):\n    return 2 * x")["status"] == "ok"
    import torch
    twice, nowhere = runner.run("basic.call", [{"fn": "double", "args": [torch.tensor([1.0, 2.0])]},
                                               {"fn": "nowhere", "args": []}], (), ["cpu", "cpu"])
    assert torch.equal(twice["outputs"]["y"], torch.tensor([2.0, 4.0])) and twice["found"] == []
    assert "defines no `nowhere`" in nowhere["error"]["message"]


def test_names_planted_in_the_shared_folder_are_never_followed(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("root's")
    (tmp_path / "link.json").symlink_to(secret)
    os.mkfifo(tmp_path / "fifo.json")
    (tmp_path / "big.json").write_bytes(b"0" * 100)
    assert _read_regular(tmp_path / "link.json", 1000) is None
    assert _read_regular(tmp_path / "fifo.json", 1000) is None  # and it did not block
    assert _read_regular(tmp_path / "big.json", 10) is None
    (tmp_path / "planted.json").symlink_to(secret)
    with pytest.raises(OSError):
        _write_new(tmp_path / "planted.json", b"overwrite")
    assert secret.read_text() == "root's"


def test_without_bubblewrap_nothing_is_graded(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(sandbox.SandboxUnavailable, match="apt-get install bubblewrap"):
        sandbox.preflight()
