"""Issuing and verifying the RS256 access tokens (contract section 2 and 3)."""

from __future__ import annotations

import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass

import jwt

from openmira.auth.signing import KeyStore
from openmira.config import Settings
from openmira.core.errors import Unauthorized

TOKEN_AUDIENCE = "public-api"
LEEWAY_SECONDS = 5
VERIFIED_CACHE_SIZE = 10_000
# A private claim: the key pair's generation when the token was issued (see KeyPair.generation). Standard
# claims are unchanged, so clients see the same token shape as before.
GENERATION_CLAIM = "omg"


@dataclass(frozen=True)
class TokenClaims:
    client_id: str
    org_id: uuid.UUID
    scope: str
    iat: int
    exp: int
    kid: str
    # None for a token issued before tokens carried it: only its ``iat`` then decides a rotation.
    generation: int | None


class TokenVerifier:
    def __init__(self, settings: Settings, keys: KeyStore) -> None:
        self._settings = settings
        self._keys = keys
        # Verifying RS256 costs far more than serving a cached page, so a token verified once is
        # remembered until it expires; revocation (of its key pair or its signing key) is checked on every
        # request regardless.
        self._verified: OrderedDict[str, TokenClaims] = OrderedDict()
        self._lock = threading.Lock()

    def issue(
        self, *, client_id: str, org_id: uuid.UUID, access: str, tokens_valid_after: int, generation: int
    ) -> str:
        kid, key = self._keys.signing_key()
        # Never below the pair's last rotation, so a token made with the new secret in the very
        # second of a rotation is not taken for one of the revoked.
        iat = max(int(time.time()), tokens_valid_after)
        claims = {
            "pol": f"xdr_{access}",
            "org": str(org_id),
            "iss": self._settings.effective_issuer,
            "sub": f"{client_id}@clients",
            "aud": TOKEN_AUDIENCE,
            "iat": iat,
            "exp": iat + self._settings.token_lifetime,
            "scope": access,
            "gty": "client-credentials",
            "azp": client_id,
            GENERATION_CLAIM: generation,
        }
        return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid, "typ": "JWT"})

    def verify(self, token: str) -> TokenClaims:
        cached = self._verified.get(token)
        if cached is not None:
            if cached.exp + LEEWAY_SECONDS < time.time():
                raise Unauthorized("the token has expired")
            self._check_key(cached)
            return cached
        claims = self._verify_signature(token)
        self._check_key(claims)
        with self._lock:
            self._verified[token] = claims
            if len(self._verified) > VERIFIED_CACHE_SIZE:
                self._verified.popitem(last=False)
        return claims

    def _check_key(self, claims: TokenClaims) -> None:
        refusal = self._keys.refusal(claims.kid, claims.iat)
        if refusal:
            raise Unauthorized(refusal)

    def _verify_signature(self, token: str) -> TokenClaims:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Unauthorized("the token is not a well-formed JWT") from None
        if header.get("alg") != "RS256":
            raise Unauthorized("the token must be signed with RS256")
        kid = header.get("kid")
        key = self._keys.public_key(kid) if isinstance(kid, str) else None
        if key is None:
            raise Unauthorized("the token was signed by an unknown key")
        try:
            payload = jwt.decode(
                token,
                key,
                algorithms=["RS256"],
                audience=TOKEN_AUDIENCE,
                issuer=self._settings.effective_issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iat", "iss", "aud", "azp", "org", "scope"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("the token has expired") from None
        except jwt.InvalidAudienceError:
            raise Unauthorized("the token's audience is not this API") from None
        except jwt.InvalidIssuerError:
            raise Unauthorized("the token was not issued by this server") from None
        except jwt.PyJWTError:
            raise Unauthorized("the token's signature or claims are invalid") from None
        try:
            return TokenClaims(
                client_id=str(payload["azp"]),
                org_id=uuid.UUID(str(payload["org"])),
                scope=_scope(payload["scope"]),
                iat=int(payload["iat"]),
                exp=int(payload["exp"]),
                kid=str(kid),
                generation=_generation(payload.get(GENERATION_CLAIM)),
            )
        except (ValueError, TypeError):
            raise Unauthorized("the token's claims are invalid") from None


def _generation(value: object) -> int | None:
    if value is None:
        return None
    if type(value) is not int:
        raise ValueError(GENERATION_CLAIM)
    return value


def _scope(value: object) -> str:
    if value not in ("rw", "ro"):
        raise ValueError("scope")
    return str(value)
