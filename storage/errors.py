"""The storage layer's errors; psycopg's are translated here, with the cause kept."""


class StorageError(Exception):
    """Base of every storage failure."""


class MigrationError(StorageError):
    """A migration could not be applied."""


class DatabaseUnavailable(StorageError):
    """The database could not be reached or dropped the connection; retrying may help."""
