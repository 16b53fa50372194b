"""scripts/system-deps: `make test` installs the Debian packages the browser tests need (issue 10).

The script runs for real under bash; only the system commands it calls (id, dpkg, apt-get, sudo)
are small fakes on PATH that record their calls, so no test touches this machine's packages.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "system-deps"


def fake_system(tmp_path: Path, *, uid: int, installed: set[str], sudo: bool | None) -> Path:
    """A bin/ with fake id/dpkg/apt-get (and sudo: None = absent, False = needs a password)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "calls.log"
    scripts = {
        "id": f'#!/bin/sh\n[ "$1" = "-u" ] && echo {uid}\n',
        "dpkg": "#!/bin/sh\n" + "".join(f'[ "$2" = "{p}" ] && exit 0\n' for p in sorted(installed)) + "exit 1\n",
        "apt-get": f'#!/bin/sh\necho "apt-get $*" >> {log}\n',
    }
    if sudo is not None:
        scripts["sudo"] = (
            f'#!/bin/sh\n[ "$1" = "-n" ] && shift\n[ "$1" = "true" ] && exit {0 if sudo else 1}\n'
            f'echo "sudo $*" >> {log}\n"$@"\n'
        )
    for name, body in scripts.items():
        path = bin_dir / name
        path.write_text(body)
        path.chmod(0o755)
    for tool in ("bash", "sh", "env", "cat", "echo"):  # what the script itself needs from the system
        real = subprocess.run(["sh", "-c", f"command -v {tool}"], capture_output=True, text=True).stdout.strip()
        if real and not (bin_dir / tool).exists():
            (bin_dir / tool).symlink_to(real)
    return bin_dir


def run(tmp_path: Path, bin_dir: Path, chromium: Path) -> subprocess.CompletedProcess[str]:
    env = {"PATH": str(bin_dir), "SERVICEBOT_CHROMIUM": str(chromium), "HOME": str(tmp_path)}
    return subprocess.run([str(bin_dir / "bash"), str(SCRIPT)], env=env, capture_output=True, text=True, timeout=60)


def calls(tmp_path: Path) -> list[str]:
    log = tmp_path / "calls.log"
    return log.read_text().splitlines() if log.exists() else []


@pytest.fixture
def chromium(tmp_path: Path) -> Path:
    path = tmp_path / "chromium"
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


def test_nothing_missing_installs_nothing_and_prints_nothing(tmp_path: Path, chromium: Path) -> None:
    bin_dir = fake_system(tmp_path, uid=1000, installed={"fonts-noto-cjk", "fonts-noto-color-emoji"}, sudo=None)
    done = run(tmp_path, bin_dir, chromium)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    assert calls(tmp_path) == []


def test_root_installs_exactly_what_is_missing(tmp_path: Path) -> None:
    bin_dir = fake_system(tmp_path, uid=0, installed={"fonts-noto-cjk"}, sudo=None)
    done = run(tmp_path, bin_dir, tmp_path / "no-chromium")
    assert done.returncode == 0, done.stderr
    assert calls(tmp_path) == ["apt-get update -qq", "apt-get install -y -qq chromium fonts-noto-color-emoji"]


def test_a_user_with_passwordless_sudo_installs_through_sudo(tmp_path: Path, chromium: Path) -> None:
    bin_dir = fake_system(tmp_path, uid=1000, installed={"fonts-noto-color-emoji"}, sudo=True)
    done = run(tmp_path, bin_dir, chromium)
    assert done.returncode == 0, done.stderr
    assert "sudo apt-get install -y -qq fonts-noto-cjk" in calls(tmp_path)


@pytest.mark.parametrize("sudo", [None, False], ids=["no-sudo", "sudo-needs-a-password"])
def test_neither_root_nor_sudo_is_one_clear_line_and_exit_1(tmp_path: Path, sudo: bool | None) -> None:
    bin_dir = fake_system(tmp_path, uid=1000, installed=set(), sudo=sudo)
    done = run(tmp_path, bin_dir, tmp_path / "no-chromium")
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "chromium fonts-noto-cjk fonts-noto-color-emoji" in lines[0] and "sudo apt-get install" in lines[0]
    assert calls(tmp_path) == []


def test_make_test_runs_the_script_before_the_tests() -> None:
    """`make test` (the README's command, and .ci/run's) goes through system-deps first."""
    plan = subprocess.run(
        ["make", "-n", "test"], cwd=ROOT, capture_output=True, text=True, env={**os.environ, "MAKEFLAGS": ""}
    ).stdout.splitlines()
    assert "scripts/system-deps" in plan
    assert plan.index("scripts/system-deps") < next(i for i, line in enumerate(plan) if "pytest" in line)
    assert "make test" in (ROOT / ".ci" / "run").read_text()
