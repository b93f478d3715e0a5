"""Password and PIN hashing with Argon2id."""
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context

_strong = PasswordHasher()
# Tests create hundreds of accounts; a cheaper Argon2id keeps them quick, never in production.
_cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def _hasher() -> PasswordHasher:
    if has_app_context() and current_app.config.get("FAST_PASSWORD_HASH"):
        return _cheap
    return _strong


def hash_secret(secret: str) -> str:
    return _hasher().hash(secret)


def verify_secret(stored_hash: str, secret: str) -> bool:
    try:
        return _hasher().verify(stored_hash, secret)
    except (VerificationError, InvalidHashError):
        return False


_dummy_hashes: dict[int, str] = {}


def dummy_hash() -> str:
    """A hash of nothing anyone knows, made once per hasher: an unknown phone or username is
    verified against it, so it takes as long to refuse as a wrong PIN."""
    hasher = _hasher()
    if id(hasher) not in _dummy_hashes:
        _dummy_hashes[id(hasher)] = hasher.hash("no account has this secret")
    return _dummy_hashes[id(hasher)]
