"""The Chinese working calendar: the chinesecalendar package, content/calendar overrides, Mon-Fri fallback."""
