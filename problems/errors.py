"""Errors that mean "bad input": the CLI turns them into one line and exit 2."""


class InputError(ValueError):
    """Bad user input (parameters, answers file, expressions). The message says what and where."""
