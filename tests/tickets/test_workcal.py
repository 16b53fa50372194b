from datetime import date, timedelta
from pathlib import Path

import chinese_calendar
import pytest

from bot.workcal import (
    CalendarSource,
    WorkCalendar,
    load_calendar_dir,
    official_package_years,
    statutory_holidays,
)

REPO = Path(__file__).resolve().parents[2]

# 2027 as the State Council might publish it (a test fixture, not the real notice): 元旦 Fri-Sun,
# 春节 2/5-2/11 with two make-up Saturdays/Sundays, the other festivals.
NOTICE_2027 = """\
year: 2027
source: test notice
holidays:
  - {name: 元旦, from: 2027-01-01, to: 2027-01-03}
  - {name: 春节, from: 2027-02-05, to: 2027-02-11}
  - {name: 清明节, date: 2027-04-05}
  - {name: 劳动节, from: 2027-05-01, to: 2027-05-05}
  - {name: 端午节, date: 2027-06-09}
  - {name: 中秋节, date: 2027-09-15}
  - {name: 国庆节, from: 2027-10-01, to: 2027-10-07}
workdays:
  - {name: 春节, date: 2027-02-20}
  - {name: 国庆节, date: 2027-10-09}
"""


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def test_agrees_with_chinesecalendar_on_every_day_of_2025_and_2026() -> None:
    cal = WorkCalendar()
    every = days(date(2025, 1, 1), date(2026, 12, 31))
    differ = [d for d in every if cal.is_workday(d) != chinese_calendar.is_workday(d)]
    assert differ == []
    # and the test is about something: both years have make-up weekends and weekday holidays
    assert sum(1 for d in every if d.weekday() >= 5 and cal.is_workday(d)) == 11
    assert sum(1 for d in every if d.weekday() < 5 and not cal.is_workday(d)) == 18 + 19  # 2025: 18 weekdays off, 2026: 19


def test_package_knows_2026_holidays_and_makeup_days() -> None:
    cal = WorkCalendar()
    assert not cal.is_workday(date(2026, 10, 1))  # National Day, Thursday
    assert not cal.is_workday(date(2026, 10, 7))
    assert cal.is_workday(date(2026, 10, 10))  # 调休 Saturday
    assert cal.is_workday(date(2026, 9, 20))  # 调休 Sunday
    assert cal.holiday_name(date(2026, 10, 1)) == "国庆节"
    assert cal.holiday_name(date(2026, 10, 10)) == "调休上班"
    assert cal.source_for(date(2026, 5, 1)) == CalendarSource.PACKAGE
    assert cal.covers(2026) and cal.coverage(2026).official


def test_2027_statutory_holidays_by_rule_without_a_file() -> None:
    """chinesecalendar 1.11 ends at 2026 and the old fallback promised answers on 元旦 and 春节 2027."""
    cal = WorkCalendar()
    assert cal.source_for(date(2027, 1, 1)) == CalendarSource.RULES
    assert not cal.covers(2027) and not cal.coverage(2027).official
    off = [date(2027, 1, 1), date(2027, 2, 5), date(2027, 2, 8), date(2027, 4, 5)]
    off += [date(2027, 6, 9), date(2027, 9, 15), date(2027, 10, 1)]
    assert [d for d in off if cal.is_workday(d)] == []
    assert cal.holiday_name(date(2027, 2, 5)) == "农历除夕"
    assert cal.is_workday(date(2027, 1, 4))  # an ordinary Monday
    assert not cal.is_workday(date(2027, 1, 2))  # a Saturday: no make-up days are known by rule


def test_statutory_holidays_by_rule_are_days_off_in_every_year_the_desk_will_see() -> None:
    cal = WorkCalendar()
    for year in range(2025, 2036):
        law = statutory_holidays(year)
        festival_days = sum(len(name.split("; ")) for name in law.values())  # 2028: 中秋 on 10-03
        assert festival_days == 13, year  # 元旦1 春节4 清明1 劳动2 端午1 中秋1 国庆3 (2024 revision)
        assert [d for d in law if cal.is_workday(d)] == [], year


def test_the_package_years_with_an_official_notice() -> None:
    years = official_package_years()
    assert {2025, 2026} <= years
    assert 2027 not in years  # holidays 0.109; a newer release that has it makes the warning stop


def test_weekdays_mode_ignores_the_package() -> None:
    cal = WorkCalendar(use_package=False)
    assert cal.is_workday(date(2026, 10, 1))
    assert not cal.is_workday(date(2026, 10, 10))
    assert cal.source_for(date(2026, 10, 1)) == CalendarSource.WEEKDAYS
    assert cal.missing_years(date(2026, 12, 1)) == []  # Mon-Fri was chosen: nothing to warn about


def test_missing_years_warns_from_november() -> None:
    cal = WorkCalendar()
    assert cal.missing_years(date(2026, 10, 31)) == []
    assert cal.missing_years(date(2026, 11, 1)) == [2027]
    assert cal.missing_years(date(2026, 12, 31)) == [2027]
    assert cal.missing_years(date(2027, 3, 1)) == [2027]
    assert cal.missing_years(date(2027, 11, 2)) == [2027, 2028]


def test_content_file_overrides_and_fills_a_year(tmp_path: Path) -> None:
    (tmp_path / "2027.yaml").write_text(NOTICE_2027, encoding="utf-8")
    cal, problems = WorkCalendar.from_dir(tmp_path)
    assert problems == []
    assert cal.covers(2027) and cal.coverage(2027).source == CalendarSource.CONTENT
    assert cal.coverage(2027).detail == "test notice"
    assert cal.missing_years(date(2026, 12, 5)) == []
    assert not cal.is_workday(date(2027, 1, 1))
    assert cal.is_workday(date(2027, 2, 20))  # Saturday, make-up
    assert not cal.is_workday(date(2027, 2, 11))  # in the file's block, not in the rules
    assert cal.is_workday(date(2027, 1, 4))  # ordinary Monday
    assert cal.holiday_name(date(2027, 1, 2)) == "元旦"


def test_refresh_takes_in_a_new_year_file_and_forgets_cached_answers(tmp_path: Path) -> None:
    cal, _ = WorkCalendar.from_dir(tmp_path)
    assert not cal.is_workday(date(2027, 2, 20))  # a Saturday, make-up unknown (and now cached)
    assert cal.missing_years(date(2026, 12, 1)) == [2027]
    (tmp_path / "2027.yaml").write_text(NOTICE_2027, encoding="utf-8")
    assert cal.refresh() == []
    assert cal.is_workday(date(2027, 2, 20))
    assert cal.missing_years(date(2026, 12, 1)) == []


def test_a_file_that_makes_a_statutory_holiday_a_workday_is_reported_and_skipped(tmp_path: Path) -> None:
    text = NOTICE_2027.replace("  - {name: 中秋节, date: 2027-09-15}\n", "")
    text = text.replace("from: 2027-01-01, to: 2027-01-03", "from: 2027-01-02, to: 2027-01-03")  # a typo
    (tmp_path / "2027.yaml").write_text(text, encoding="utf-8")
    cal, problems = WorkCalendar.from_dir(tmp_path)
    assert len(problems) == 1
    assert problems[0].startswith(f"{tmp_path / '2027.yaml'}:3: statutory holiday(s) ")
    assert "2027-01-01 元旦" in problems[0] and "2027-09-15 中秋节" in problems[0]
    assert cal.source_for(date(2027, 9, 15)) == CalendarSource.RULES
    assert not cal.is_workday(date(2027, 9, 15))


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


@pytest.mark.parametrize("year", [2027])
def test_template_filled_with_the_statutory_days_loads(tmp_path: Path, year: int) -> None:
    """What ops does in November: copy the template, enter the notice; the file then loads cleanly."""
    template = (REPO / "content" / "calendar" / "TEMPLATE.yaml").read_text(encoding="utf-8")
    assert "template: true" in template
    (tmp_path / f"{year}.yaml").write_text(NOTICE_2027, encoding="utf-8")
    schedules, problems = load_calendar_dir(tmp_path)
    assert problems == [] and year in schedules


def test_shipped_calendar_dir_loads_cleanly_and_template_is_not_loaded() -> None:
    schedules, problems = load_calendar_dir(REPO / "content" / "calendar")
    assert problems == []
    assert (REPO / "content" / "calendar" / "TEMPLATE.yaml").exists()
    assert all(year >= 2027 for year in schedules)
