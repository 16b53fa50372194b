import subprocess
import sys


def test_python_m_bot_shows_help() -> None:
    out = subprocess.run([sys.executable, "-m", "bot", "--help"], capture_output=True, text=True, check=True)
    assert "servicebot" in out.stdout
