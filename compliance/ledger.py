"""Signed checkpoints of the decision log, kept outside the database.

Each seal ends with a checkpoint: the chain's last position, the decision id
up to which every row is in the chain, the head hash, the time and the
previous checkpoint's hash, signed with an Ed25519 key that the database
never sees (`CONSENTDESK_LEDGER_KEY`, a PEM PKCS#8 file). The checkpoints
are files in a store outside the database (`CONSENTDESK_LEDGER_CHECKPOINTS`,
one canonical JSON document each, written atomically and never overwritten);
the database keeps a copy (DecisionCheckpoint) for the audit page. Whoever
holds the public key can check them, as Certificate Transparency's signed
tree heads (RFC 6962): `verify_decision_log --checkpoints DIR --public-key FILE`.
"""

import base64
import hashlib
import json
import logging
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger(__name__)

GENESIS_HASH = "0" * 64
FORMAT_VERSION = 1


class CheckpointError(Exception):
    """A checkpoint file or key that cannot be read."""


def canonical(value: Any) -> bytes:
    """The one byte form that is signed, hashed and stored: sorted keys, no spaces, ASCII."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


_NUMBERS = frozenset({"seq", "position", "last_id", "rows_sealed"})  # the other fields are text


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    position: int  # the chain's last position (the number of rows ever chained)
    last_id: int  # every decision id up to this one is in the chain, or never committed
    rows_sealed: int  # chained by the seal that made this checkpoint
    head_hash: str  # the row hash at `position`
    at: str  # ISO 8601, UTC
    prev: str  # sha256 of the previous checkpoint's body (GENESIS_HASH for the first)
    key_id: str
    signature: str = ""  # base64 Ed25519 signature of the body's canonical bytes

    def body(self) -> dict[str, Any]:
        fields = asdict(self)
        del fields["signature"]
        return {"version": FORMAT_VERSION, **fields}

    def digest(self) -> str:
        return hashlib.sha256(canonical(self.body())).hexdigest()

    def document(self) -> str:
        return canonical({"checkpoint": self.body(), "signature": self.signature}).decode()

    def signed_by(self, public_key: Ed25519PublicKey) -> bool:
        try:
            public_key.verify(base64.b64decode(self.signature, validate=True), canonical(self.body()))
        except (InvalidSignature, ValueError):
            return False
        return True

    @classmethod
    def parse(cls, text: str | bytes) -> "Checkpoint":
        """A checkpoint from its document (text, or UTF-8 bytes as a file holds
        them); CheckpointError for anything else, field types included."""
        try:
            document = json.loads(text.decode() if isinstance(text, bytes) else text)
            body = dict(document["checkpoint"])
            if body.pop("version") != FORMAT_VERSION:
                raise CheckpointError("unknown checkpoint format version")
            checkpoint = cls(**body, signature=document["signature"])
        except (ValueError, KeyError, TypeError) as exc:  # UnicodeDecodeError is a ValueError
            raise CheckpointError(f"not a checkpoint document ({exc})") from exc
        for name, value in asdict(checkpoint).items():
            kind = int if name in _NUMBERS else str
            if type(value) is not kind:  # exactly: a bool is an int to isinstance
                raise CheckpointError(f"not a checkpoint document ({name} is not {kind.__name__})")
        return checkpoint


# --- keys ------------------------------------------------------------------------


def key_id(public_key: Ed25519PublicKey) -> str:
    """16 hex digits naming a key (sha256 of its raw 32 bytes)."""
    return hashlib.sha256(public_key_raw(public_key)).hexdigest()[:16]


def public_key_raw(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_key_pem(public_key: Ed25519PublicKey) -> str:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def public_key_path(private_key_path: Path) -> Path:
    """Where ledger_keygen puts the public half: beside the key, `.pub` added."""
    return private_key_path.with_name(private_key_path.name + ".pub")


def keypair_create(path: Path) -> Ed25519PrivateKey:
    """A new signing key at `path` (PEM PKCS#8, owner-only) and its public key
    beside it; refuses to replace an existing key (it would orphan every
    checkpoint signed with it)."""
    key = Ed25519PrivateKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
    public_key_path(path).write_text(public_key_pem(key.public_key()))
    return key


def signing_key() -> Ed25519PrivateKey:
    """The configured key. Unset, a key is created under the var directory
    with a warning (the demo); a configured path that holds no key is an error,
    never a fresh key that no auditor knows."""
    path = Path(settings.LEDGER_KEY_PATH)
    if not path.exists():
        if settings.LEDGER_KEY_CONFIGURED:
            raise ImproperlyConfigured(f"CONSENTDESK_LEDGER_KEY names {path}, which does not exist.")
        logger.warning(
            "CONSENTDESK_LEDGER_KEY is not set: created a checkpoint signing key at %s "
            "(set it to a key kept outside the database's reach; see README)",
            path,
        )
        try:
            return keypair_create(path)
        except FileExistsError:
            pass  # another process created it meanwhile
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ImproperlyConfigured(f"{path} is not an Ed25519 private key.")
    return key


def ledger_public_key() -> Ed25519PublicKey | None:
    """The configured key's public half: the `.pub` beside the key first (all
    a verifier needs), else the key itself; None without either.
    CheckpointError when the file found is not an Ed25519 key."""
    path = Path(settings.LEDGER_KEY_PATH)
    for candidate in (public_key_path(path), path):
        if candidate.exists():
            return public_key_load(candidate)
    return None


def public_key_load(path: Path) -> Ed25519PublicKey:
    """A public key from a file: PEM (public or private; only the public half
    is used) or the raw 32 bytes in base64, as the audit page shows them;
    CheckpointError for a file that cannot be read or holds no such key."""
    try:
        data = path.read_bytes().strip()
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot be read ({exc})") from exc
    try:
        if data.startswith(b"-----BEGIN PUBLIC KEY"):
            key = serialization.load_pem_public_key(data)
            if isinstance(key, Ed25519PublicKey):
                return key
        elif data.startswith(b"-----BEGIN"):
            private = serialization.load_pem_private_key(data, password=None)
            if isinstance(private, Ed25519PrivateKey):
                return private.public_key()
        else:
            return Ed25519PublicKey.from_public_bytes(base64.b64decode(data, validate=True))
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:  # TypeError: an encrypted key
        raise CheckpointError(f"{path}: not an Ed25519 key ({exc})") from exc
    raise CheckpointError(f"{path}: not an Ed25519 key")


# --- making and storing checkpoints ----------------------------------------------


def checkpoint_sign(
    *,
    key: Ed25519PrivateKey,
    seq: int,
    position: int,
    last_id: int,
    rows_sealed: int,
    head_hash: str,
    at: str,
    prev: str,
) -> Checkpoint:
    unsigned = Checkpoint(
        seq=seq,
        position=position,
        last_id=last_id,
        rows_sealed=rows_sealed,
        head_hash=head_hash,
        at=at,
        prev=prev,
        key_id=key_id(key.public_key()),
    )
    signature = base64.b64encode(key.sign(canonical(unsigned.body()))).decode()
    return Checkpoint(**{**asdict(unsigned), "signature": signature})


def store_dir() -> Path:
    return Path(settings.LEDGER_CHECKPOINT_DIR)


def _file_name(seq: int) -> str:
    return f"{seq:012d}.json"


def store_write(checkpoint: Checkpoint, directory: Path | None = None) -> Path:
    """Add one checkpoint file, atomically (a temporary file, fsynced, then
    hard-linked into place: a reader never sees half a file, and an existing
    checkpoint is never replaced). Writing the same checkpoint again is a no-op."""
    directory = directory or store_dir()
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / _file_name(checkpoint.seq)
    text = checkpoint.document() + "\n"
    if target.exists():
        if target.read_text() != text:
            raise CheckpointError(f"{target} already holds a different checkpoint #{checkpoint.seq}")
        return target
    with tempfile.NamedTemporaryFile("w", dir=directory, prefix=".tmp-", delete=False) as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    try:
        os.link(handle.name, target)
    finally:
        os.unlink(handle.name)
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)  # the new name survives a crash too
    finally:
        os.close(descriptor)
    return target


def store_read(directory: Path) -> list[Checkpoint]:
    """Every checkpoint in a store, in order; CheckpointError names a file that is not one."""
    checkpoints = []
    for path in sorted(directory.glob("*.json")):
        try:
            checkpoint = Checkpoint.parse(path.read_bytes())
        except OSError as exc:
            raise CheckpointError(f"{path.name}: cannot be read ({exc})") from exc
        except CheckpointError as exc:
            raise CheckpointError(f"{path.name}: {exc}") from exc
        if path.name != _file_name(checkpoint.seq):
            raise CheckpointError(f"{path.name} holds checkpoint #{checkpoint.seq}")
        checkpoints.append(checkpoint)
    return checkpoints
