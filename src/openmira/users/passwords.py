"""Console passwords (argon2id), and the bound on how many are checked at once."""

from __future__ import annotations

import asyncio
import os
import weakref

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
# Verified when the email is unknown, so sign-in takes the same time either way.
_DUMMY_HASH = _hasher.hash("openmira-no-such-user")

MIN_PASSWORD_LENGTH = 8


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, stored_hash: str | None) -> bool:
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


# An argon2 check takes ~0.17 s of a core and 64 MiB. Unbounded, 24 concurrent sign-ins filled the thread
# pool and the cores, and /health took 3.4 s; bounded, the rest of the API keeps its threads and cores,
# and the sign-ins above the bound wait their turn without holding a thread.
HASHING_CONCURRENCY = max(1, (os.cpu_count() or 2) // 2)
_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = weakref.WeakKeyDictionary()


def hashing_slot() -> asyncio.Semaphore:
    """Hold one while checking a password (``async with hashing_slot(): ...``). One per event loop, since
    an asyncio semaphore belongs to the loop it first waits on."""
    loop = asyncio.get_running_loop()
    slot = _slots.get(loop)
    if slot is None:
        slot = _slots[loop] = asyncio.Semaphore(HASHING_CONCURRENCY)
    return slot
