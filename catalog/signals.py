"""Signal handlers only hand off to services and task helpers."""


def connect():
    pass
