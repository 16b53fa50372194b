"""servicebot: the service desk and the morning paper of a resident service group."""
