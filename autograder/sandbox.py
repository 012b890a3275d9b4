"""The learner's sandbox: the grading kernel runs under bubblewrap, seeing nothing of the course.

Inside: an unprivileged user without capabilities; no network (a private network namespace);
a read-only system and Python environment (`/usr`, the interpreter, the virtual environment,
the learner-side `workbook` package, the cached data sets) with the instructor's packages
(`solutions`, `autograder`) masked wherever they would be visible; a private `/tmp` and home
(size-limited tmpfs); its own PID namespace, so every process it starts ends with it; limits on
address space, CPU time, processes, file size and open files. The one folder shared with the
grader holds the kernel's IPC sockets and the grader's requests and answers.

As root, bubblewrap sets up the namespaces and `setpriv` then becomes an unprivileged user in
the host's user namespace (a user namespace mapped to root would exempt the sandbox from the
process limit); as any other user, bubblewrap's own user namespace drops every capability.
"""
from __future__ import annotations

import atexit
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from traitlets import Dict, Integer, List, Unicode

HOME = "/home/learner"
MPLCONFIGDIR = "/tmp/matplotlib"
SYSTEM = ("/usr", "/lib", "/lib64", "/lib32", "/libx32", "/bin", "/sbin")
ETC = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "nsswitch.conf", "passwd", "group", "hosts", "localtime",
       "fonts", "alternatives", "mime.types", "ssl/certs")
TRUSTED = ("solutions", "autograder")  # packages the sandbox must never import


class SandboxUnavailable(RuntimeError):
    """Learner code cannot be sandboxed here; the message says what to install."""


@dataclass
class Limits:
    """Resource limits of a sandboxed kernel (0: no limit)."""
    memory_mb: int = 4096       # address space per process (not applied with a GPU: CUDA maps far more)
    cpu_seconds: int = 900      # CPU time per process
    processes: int = 64         # processes and threads of the sandbox (its own user): a kernel uses about 15
    file_mb: int = 256          # largest file it may write
    open_files: int = 512
    tmp_mb: int = 512           # its /tmp and home


def preflight() -> str:
    """The path of `bwrap`, after checking that a sandbox can start here; else `SandboxUnavailable`."""
    bwrap = shutil.which("bwrap")
    if not bwrap:
        raise SandboxUnavailable(
            "bubblewrap (bwrap) is not installed, and learner code is only ever graded inside its sandbox. "
            "Install it (Debian/Ubuntu: `sudo apt-get install bubblewrap`) and grade again. To grade without a "
            "sandbox anyway (learner code could then change grades), pass --SandboxedExecute.allow_unsandboxed=True.")
    if os.geteuid() == 0 and not shutil.which("setpriv"):
        raise SandboxUnavailable("setpriv (util-linux) is needed to drop root inside the sandbox: install util-linux")
    return bwrap


def gpu_devices() -> list[str]:
    """The NVIDIA device files to expose, when this machine has them."""
    return sorted(str(p) for p in Path("/dev").glob("nvidia*") if p.is_char_device() or p.is_dir())


def _inside(path: Path, roots: list[Path]) -> bool:
    return any(path == r or r in path.parents for r in roots)


def python_paths() -> list[Path]:
    """What the kernel's Python needs to read: the interpreter, the environment, the `workbook` package."""
    import workbook
    paths = [Path(sys.prefix), Path(sys.base_prefix), Path(sys.executable).resolve().parent.parent,
             Path(workbook.__file__).resolve().parent]
    out: list[Path] = []
    for p in paths:
        p = p.resolve()
        if p.exists() and not _inside(p, out):
            out = [q for q in out if not _inside(q, [p])] + [p]
    return out


def masked(bound: list[Path]) -> list[Path]:
    """Folders of the trusted packages that lie inside what is bound: they are hidden under an empty tmpfs."""
    found = []
    for name in TRUSTED:
        spec = importlib.util.find_spec(name)
        for loc in (spec.submodule_search_locations or []) if spec else []:
            loc = Path(loc).resolve()
            if _inside(loc, bound):
                found.append(loc)
    return found


def command(argv: list[str], shared: Path, limits: Limits, *, env: dict[str, str], data_dir: Path | None = None,
            uid: int = 65534, gpu: bool | None = None) -> list[str]:
    """The command line that runs `argv` (the kernel) in the sandbox."""
    bwrap = preflight()
    gpus = gpu_devices() if gpu is not False else []
    root = os.geteuid() == 0
    cmd = [bwrap, "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try",
           "--die-with-parent", "--new-session", "--hostname", "sandbox"]
    cmd += ["--unshare-user", "--cap-drop", "ALL"] if not root else []
    for path in SYSTEM:
        if os.path.islink(path):
            cmd += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            cmd += ["--ro-bind", path, path]
    for name in ETC:
        if os.path.exists(f"/etc/{name}"):
            cmd += ["--ro-bind", f"/etc/{name}", f"/etc/{name}"]
    # The private /tmp and home first: what is bound below them (a checkout, its .venv or the shared folder under
    # /tmp, as in a CI clone made with mktemp) then stays visible on top of them instead of being hidden.
    size = str(limits.tmp_mb * 2**20)
    cmd += ["--perms", "1777", "--size", size, "--tmpfs", "/tmp", "--perms", "1777", "--size", size, "--tmpfs", HOME]
    fonts = font_cache()
    if fonts:  # read-only: one learner's kernel cannot hand another a font list of its making
        cmd += ["--perms", "1777", "--dir", MPLCONFIGDIR, "--ro-bind", str(fonts), f"{MPLCONFIGDIR}/{fonts.name}"]
    bound = python_paths()
    extra = [data_dir] if data_dir and data_dir.is_dir() else []
    cmd += _parents([*bound, *extra, shared])
    for path in bound:
        cmd += ["--ro-bind", str(path), str(path)]
    for path in masked(bound):
        cmd += ["--tmpfs", str(path)]
    for path in extra:
        cmd += ["--ro-bind", str(path), str(path)]
    cmd += ["--dev", "/dev", "--proc", "/proc"]
    for dev in gpus:
        cmd += ["--dev-bind", dev, dev]
    if gpus:
        cmd += ["--ro-bind", "/sys", "/sys"]
    cmd += ["--bind", str(shared), str(shared), "--chdir", HOME, "--clearenv"]
    for key, value in env.items():
        cmd += ["--setenv", key, value]
    cmd.append("--")
    if root:  # become an unprivileged user of the host, without capabilities (bwrap made no user namespace)
        cmd += ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--inh-caps=-all",
                "--bounding-set=-all", "--no-new-privs", "--"]
    return _limited(limits, bool(gpus)) + cmd + list(argv)


@lru_cache(maxsize=None)
def font_cache() -> Path | None:
    """matplotlib's font list, built once per grading process outside the sandbox (no learner code runs there) and
    bound read-only into every kernel's matplotlib folder; else each kernel scans the system's fonts again, a
    quarter of a second of every notebook that plots. None where matplotlib cannot build it."""
    folder = Path(tempfile.mkdtemp(prefix="workbook-fonts-"))
    atexit.register(shutil.rmtree, folder, True)
    env = {**os.environ, "MPLCONFIGDIR": str(folder), "MPLBACKEND": "Agg"}
    try:
        subprocess.run([sys.executable, "-c", "import matplotlib.font_manager"], env=env, timeout=120,
                       check=True, capture_output=True)
    except (OSError, subprocess.SubprocessError):
        return None
    found = sorted(folder.glob("fontlist-*.json"))
    if not found:
        return None
    folder.chmod(0o755)
    found[0].chmod(0o644)
    return found[0]


def _parents(paths) -> list[str]:
    """Options making each folder above `paths` traversable (bubblewrap would make them 0700, root's)."""
    made, opts = {*SYSTEM, "/tmp", HOME}, []  # /tmp and home are already there, as tmpfs
    for path in paths:
        for parent in reversed(Path(path).parents):
            p = str(parent)
            if p != "/" and p not in made:
                made.add(p)
                opts += ["--perms", "0755", "--dir", p]
    return opts


def _limited(limits: Limits, gpu: bool) -> list[str]:
    """`prlimit` options for `limits` (the address-space cap is left off with a GPU)."""
    opts = []
    if limits.memory_mb and not gpu:
        opts.append(f"--as={limits.memory_mb * 2**20}")
    for flag, value in (("--cpu", limits.cpu_seconds), ("--nproc", limits.processes),
                        ("--fsize", limits.file_mb * 2**20), ("--nofile", limits.open_files)):
        if value:
            opts.append(f"{flag}={value}")
    prlimit = shutil.which("prlimit")
    if opts and not prlimit:
        raise SandboxUnavailable("prlimit (util-linux) is needed to limit the sandbox: install util-linux")
    return [prlimit, *opts, "--"] if opts else []


def environment(threads: int, extra: dict[str, str]) -> dict[str, str]:
    """The kernel's whole environment: nothing of the grader's but what is named here."""
    env = {"HOME": HOME, "USER": "learner", "LOGNAME": "learner", "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "LANG": "C.UTF-8",
           "PYTHONNOUSERSITE": "1", "PYTHONDONTWRITEBYTECODE": "1", "MPLBACKEND": "Agg",
           "MPLCONFIGDIR": MPLCONFIGDIR, "IPYTHONDIR": "/tmp/ipython", "JUPYTER_RUNTIME_DIR": "/tmp/jupyter",
           "TQDM_DISABLE": "1"}
    if threads:
        env.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    for key in ("NBGRADER_EXECUTION", "WORKBOOK_DEVICE", "CUDA_VISIBLE_DEVICES", "VIRTUAL_ENV"):
        if os.environ.get(key):
            env[key] = os.environ[key]
    env.update(extra)
    return env


def fresh_uid() -> int:
    """A user id of its own for one sandbox: the process limit counts per user, so a sandbox that forks
    without end must not starve another learner's kernel graded at the same time."""
    import secrets
    return 200_000 + secrets.randbelow(800_000)


def shared_folder(uid: int) -> Path:
    """A new folder for the kernel's sockets and the grader's requests, writable by the sandbox user."""
    folder = Path(tempfile.mkdtemp(prefix="workbook-sandbox-"))
    if os.geteuid() == 0:
        os.chown(folder, uid, uid)
    return folder


class SandboxedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernel starts inside the sandbox, talking over IPC sockets in `shared_dir`."""

    shared_dir = Unicode(help="The folder shared with the sandbox (sockets, requests).").tag(config=True)
    sandbox_limits = Dict(help="Limits (fields of autograder.sandbox.Limits).").tag(config=True)
    sandbox_env = Dict(help="Extra environment variables inside the sandbox.").tag(config=True)
    sandbox_uid = Integer(65534, help="The unprivileged user the kernel runs as (when grading as root): give each "
                                      "sandbox its own (`fresh_uid`).").tag(config=True)
    threads = Integer(1, help="CPU threads for torch inside (0: torch's default).").tag(config=True)
    data_dirs = List(Unicode(), help="Folders of cached data sets, bound read-only.").tag(config=True)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.transport = "ipc"
        self.ip = os.path.join(self.shared_dir, "kernel")
        self.connection_file = os.path.join(self.shared_dir, "kernel.json")

    def format_kernel_cmd(self, extra_arguments=None) -> list[str]:
        argv = super().format_kernel_cmd(extra_arguments)
        data = next((Path(d) for d in self.data_dirs if Path(d).is_dir()), None)
        return command(argv, Path(self.shared_dir), Limits(**self.sandbox_limits),
                       env=environment(self.threads, dict(self.sandbox_env)), data_dir=data, uid=self.sandbox_uid)

    def write_connection_file(self, **kwargs) -> None:
        super().write_connection_file(**kwargs)
        if os.geteuid() == 0:  # the kernel, as the sandbox user, reads it
            os.chown(self.connection_file, self.sandbox_uid, self.sandbox_uid)
