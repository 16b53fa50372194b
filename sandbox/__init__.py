"""The sandbox: an offline Telegram Bot API, control API and web chat. Imports nothing of the bot."""
