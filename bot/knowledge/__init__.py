"""What the desk knows: retrieval over FAQ entries and answered questions (bot/knowledge/retrieval.py)
and the editorial marks kept from members (bot/knowledge/marks.py). No Telegram here."""
