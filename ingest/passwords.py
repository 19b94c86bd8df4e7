"""Broker passwords for trackers: a Mosquitto password file, written as mosquitto_passwd writes it.

Each tracker logs in with its device id and a password of its own, so one tracker's credentials
cannot publish as another (the ACL's `pattern write trackers/%u/position` confines it to its own
topic). An entry is `user:$7$<iterations>$<salt>$<hash>`: PBKDF2-HMAC-SHA512 over a 12-byte
random salt, 101 iterations, 64-byte hash, both base64 — Mosquitto 2's own format, so the
broker reads the file as if mosquitto_passwd had made it. Only the hash is written; the password
is returned once to be given to the installer. The file is rewritten whole through a temporary
file and a rename, so the broker never reads half a file; it rereads it on SIGHUP.
"""

import base64
import hashlib
import hmac
import os
import secrets
from pathlib import Path

ITERATIONS = 101  # mosquitto_passwd's default
_SALT_BYTES = 12
_HASH_BYTES = 64


class PasswordFileError(OSError):
    """The password file cannot be read or written."""


def new_password() -> str:
    """A random password for one tracker (32 URL-safe characters)."""
    return secrets.token_urlsafe(24)


def hash_password(password: str, *, salt: bytes | None = None, iterations: int = ITERATIONS) -> str:
    """The `$7$` hash of a password, as mosquitto_passwd makes it."""
    salt = salt if salt is not None else secrets.token_bytes(_SALT_BYTES)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), salt, iterations, _HASH_BYTES)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def verify(password: str, hashed: str) -> bool:
    """True when the password matches a `$7$` hash."""
    try:
        _, kind, iterations, salt, digest = hashed.split("$")
        if kind != "7":
            return False
        expected = hash_password(password, salt=base64.b64decode(salt), iterations=int(iterations))
    except ValueError:
        return False
    return hmac.compare_digest(expected.rsplit("$", 1)[1], digest)


class PasswordFile:
    """A Mosquitto password file: one `user:hash` line per user."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def entries(self) -> dict[str, str]:
        """User name -> hash, in file order (empty when the file does not exist yet)."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise PasswordFileError(f"broker password file {self.path}: {exc.strerror or exc}") from exc
        found: dict[str, str] = {}
        for line in text.splitlines():
            user, sep, hashed = line.partition(":")
            if sep and user:
                found[user] = hashed
        return found

    def set(self, user: str, password: str) -> None:
        """Add or replace one user's entry, keeping every other line."""
        if not user or ":" in user or any(c.isspace() for c in user):
            raise ValueError(f"broker user {user!r}: must be non-empty, without ':' or spaces")
        entries = self.entries() | {user: hash_password(password)}
        self._write(entries)

    def remove(self, user: str) -> bool:
        """Drop one user's entry; False when it had none."""
        entries = self.entries()
        if entries.pop(user, None) is None:
            return False
        self._write(entries)
        return True

    def _write(self, entries: dict[str, str]) -> None:
        body = "".join(f"{user}:{hashed}\n" for user, hashed in entries.items())
        temporary = self.path.with_name(f".{self.path.name}.{secrets.token_hex(4)}")
        try:
            # Readable by its owner only: the hashes are offline-guessable. An existing file keeps
            # its owner (the broker's user must still read it) and mode.
            before = self.path.stat() if self.path.exists() else None
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(body)
            if before is not None:
                os.chmod(temporary, before.st_mode & 0o777)
                if os.geteuid() == 0:
                    os.chown(temporary, before.st_uid, before.st_gid)
            os.replace(temporary, self.path)
        except OSError as exc:
            temporary.unlink(missing_ok=True)
            raise PasswordFileError(f"broker password file {self.path}: {exc.strerror or exc}") from exc
