from datetime import date
from pathlib import Path

from bot.workcal import CalendarSource, WorkCalendar, load_calendar_dir

REPO = Path(__file__).resolve().parents[2]


def test_package_knows_2026_holidays_and_makeup_days() -> None:
    cal = WorkCalendar()
    assert not cal.is_workday(date(2026, 10, 1))  # National Day, Thursday
    assert not cal.is_workday(date(2026, 10, 7))
    assert cal.is_workday(date(2026, 10, 10))  # 调休 Saturday
    assert cal.is_workday(date(2026, 9, 20))  # 调休 Sunday
    assert cal.holiday_name(date(2026, 10, 10)) == "National Day"
    assert cal.source_for(date(2026, 5, 1)) == CalendarSource.PACKAGE


def test_weekdays_mode_ignores_the_package() -> None:
    cal = WorkCalendar(use_package=False)
    assert cal.is_workday(date(2026, 10, 1))
    assert not cal.is_workday(date(2026, 10, 10))


def test_uncovered_year_falls_back_to_monday_to_friday() -> None:
    cal = WorkCalendar()
    assert cal.source_for(date(2027, 1, 1)) == CalendarSource.FALLBACK
    assert cal.is_workday(date(2027, 1, 1))  # a Friday, schedule unknown
    assert not cal.is_workday(date(2027, 1, 2))


def test_missing_years_warns_from_december() -> None:
    cal = WorkCalendar()
    assert cal.missing_years(date(2026, 11, 30)) == []
    assert cal.missing_years(date(2026, 12, 1)) == [2027]
    assert cal.missing_years(date(2027, 3, 1)) == [2027]


def test_content_file_overrides_and_fills_a_year(tmp_path: Path) -> None:
    (tmp_path / "2027.yaml").write_text(
        "year: 2027\nsource: test\n"
        "holidays:\n  - {name: 元旦, from: 2027-01-01, to: 2027-01-03}\n"
        "workdays:\n  - {name: 春节, date: 2027-02-06}\n",
        encoding="utf-8",
    )
    cal, problems = WorkCalendar.from_dir(tmp_path)
    assert problems == []
    assert cal.covers(2027)
    assert cal.missing_years(date(2026, 12, 5)) == []
    assert not cal.is_workday(date(2027, 1, 1))
    assert cal.is_workday(date(2027, 2, 6))  # Saturday, make-up
    assert cal.is_workday(date(2027, 1, 4))  # ordinary Monday
    assert cal.holiday_name(date(2027, 1, 2)) == "元旦"


def test_broken_files_are_reported_with_line_and_skipped(tmp_path: Path) -> None:
    (tmp_path / "2027.yaml").write_text("year: 2027\nholidays: [\n", encoding="utf-8")
    (tmp_path / "2028.yaml").write_text("year: 2028\nholidays:\n  - {date: 2029-01-01}\n", encoding="utf-8")
    (tmp_path / "2029.yaml").write_text("year: 2029\nwrong: 1\n", encoding="utf-8")
    schedules, problems = load_calendar_dir(tmp_path)
    assert schedules == {}
    assert len(problems) == 3
    assert problems[0].startswith(f"{tmp_path / '2027.yaml'}:3: YAML")
    assert "not in 2028" in problems[1]
    assert "unknown key(s): wrong" in problems[2]


def test_shipped_calendar_dir_loads_cleanly_and_template_is_not_loaded() -> None:
    schedules, problems = load_calendar_dir(REPO / "content" / "calendar")
    assert problems == []
    assert (REPO / "content" / "calendar" / "TEMPLATE.yaml").exists()
    assert all(year >= 2027 for year in schedules)
