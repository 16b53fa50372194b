"""Views: pure functions from values (tickets, items, stats), the language, the time zone and now to
the text (HTML, bot/texts) and keyboard a chat shows. They take values, never the services
(an import contract in pyproject.toml), so each can be read and tested alone."""
