"""Building digests: fetch -> parse -> normalise -> select -> render. No Telegram, no store."""
