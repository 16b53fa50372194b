"""`servicebot check` and the calendar: what is known about each year the desk needs (issue 13, item 5)."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.config.test_cli import ROOT, check_on, shipped_config
from tests.tickets.test_workcal import NOTICE_2027


def test_december_without_next_years_notice_warns_what_is_assumed_and_exits_0(tmp_path: Path) -> None:
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    config = shipped_config(tmp_path, content_dir=str(content))
    december = check_on("2026-12-15T10:00", config)
    assert december.returncode == 0, december.stdout + december.stderr
    warned = [line.strip() for line in december.stdout.splitlines() if "warning:" in line]
    assert len(warned) == 1 and "2027: statutory holidays by rule" in warned[0], december.stdout
    assert "调休 make-up workdays are NOT known" in warned[0] and "2027.yaml" in warned[0]
    assert "config OK (1 warning(s))" in december.stdout
    # October: next year is not due yet, and 2026's notice is in the package
    assert "warning:" not in check_on("2026-10-15T10:00", config).stdout
    # the notice entered: no warning in December
    (content / "calendar" / "2027.yaml").write_text(NOTICE_2027, encoding="utf-8")
    covered = check_on("2026-12-15T10:00", config)
    assert covered.returncode == 0 and "warning:" not in covered.stdout, covered.stdout
