"""SSH Ed25519 keys: load a reviewer's private key, sign ledger records, verify signatures.

Reviewers sign with the same key they use for SSH or for signing git commits
(`ssh-keygen -t ed25519`), read with `cryptography`; nothing is shelled out.
A signature is a raw Ed25519 signature over a domain-separated message, stored
base64-encoded; the signer's public key is stored as an OpenSSH line
("ssh-ed25519 AAAA...") and shown by its fingerprint as `ssh-keygen -l` prints it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from pipeline.errors import ContentError, Problem

KEY_TYPE = "ssh-ed25519"
# Prefixed to every signed message, so a ledger signature can never pass for any other signed thing.
DOMAIN = b"outreach-ledger-record-v1\n"


class PassphraseNeeded(Exception):
    """The key file is encrypted and no passphrase (or a wrong one) was given."""


@dataclass(frozen=True, slots=True)
class SigningKey:
    """A loaded private key and its public half."""

    path: Path
    private: Ed25519PrivateKey
    public_line: str  # "ssh-ed25519 AAAA..." (no comment)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.public_line)

    def sign(self, message: bytes) -> str:
        return base64.b64encode(self.private.sign(DOMAIN + message)).decode("ascii")


def key_is_encrypted(path: Path) -> bool:
    """Whether the private key file needs a passphrase."""
    data = _read_key_file(path)
    try:
        serialization.load_ssh_private_key(data, password=None)
    except TypeError:
        return True
    except (ValueError, UnsupportedAlgorithm):
        return False  # load_signing_key reports what is wrong with it
    return False


def load_signing_key(path: Path, passphrase: str | None = None) -> SigningKey:
    """Read an OpenSSH Ed25519 private key; ContentError if it cannot be used, PassphraseNeeded if locked."""
    data = _read_key_file(path)
    password = passphrase.encode("utf-8") if passphrase else None
    try:
        key = serialization.load_ssh_private_key(data, password=password)
    except TypeError:
        if password is not None:  # a passphrase from the environment for a key that has none
            return load_signing_key(path, None)
        raise PassphraseNeeded(f"{path}: the key is protected by a passphrase") from None
    except ValueError as exc:
        if password is not None and _is_openssh(data):
            raise PassphraseNeeded(f"{path}: wrong passphrase") from None
        raise ContentError([Problem(path, None, f"not an OpenSSH private key ({exc}); make one with `ssh-keygen -t ed25519`")], unusable=True) from None
    except UnsupportedAlgorithm as exc:
        raise ContentError([Problem(path, None, f"unsupported key ({exc}); use an Ed25519 key (`ssh-keygen -t ed25519`)")], unusable=True) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ContentError([Problem(path, None, f"a {type(key).__name__.replace('PrivateKey', '')} key; ledger records are signed with Ed25519 keys (`ssh-keygen -t ed25519`)")], unusable=True)
    return SigningKey(path, key, public_line(key.public_key()))


def public_line(key: Ed25519PublicKey) -> str:
    """The OpenSSH one-line form of a public key, without a comment."""
    return key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode("ascii")


def parse_public_key(text: str) -> str:
    """Normalise "ssh-ed25519 AAAA... [comment]" to "ssh-ed25519 AAAA..."; ValueError saying why if it is not one."""
    parts = text.split()
    if len(parts) < 2:
        raise ValueError("expected 'ssh-ed25519 AAAA... [comment]'")
    if parts[0] != KEY_TYPE:
        raise ValueError(f"a {parts[0]!r} key; reviewers sign with Ed25519 keys ('{KEY_TYPE} AAAA...')")
    try:
        key = serialization.load_ssh_public_key(f"{parts[0]} {parts[1]}".encode("ascii"))
    except (ValueError, UnsupportedAlgorithm, UnicodeEncodeError) as exc:
        raise ValueError(f"not a valid {KEY_TYPE} public key ({exc})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"not an {KEY_TYPE} public key")
    return public_line(key)


def read_public_key_file(path: Path) -> str:
    """The text of a public key file (KEY.pub); ContentError for a private key or an unreadable file."""
    text = _read_key_file(path).decode("utf-8", errors="replace").strip()
    if "PRIVATE KEY" in text:
        raise ContentError([Problem(path, None, f"this is a private key; give its public half ({path.name}.pub) and keep this one to yourself")], unusable=True)
    return text


def fingerprint(line: str) -> str:
    """SHA256:... of a public key line, as `ssh-keygen -l` prints it."""
    try:
        blob = base64.b64decode(line.split()[1], validate=True)
    except (IndexError, binascii.Error):
        return "SHA256:?"
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode("ascii").rstrip("=")


_PUBLIC_CACHE: dict[str, Ed25519PublicKey | None] = {}


def verify(line: str, message: bytes, signature: str) -> bool:
    """Whether `signature` is the key's signature of `message`."""
    if line not in _PUBLIC_CACHE:
        try:
            key = serialization.load_ssh_public_key(line.encode("ascii"))
        except (ValueError, UnsupportedAlgorithm, UnicodeEncodeError):
            key = None
        _PUBLIC_CACHE[line] = key if isinstance(key, Ed25519PublicKey) else None
    key = _PUBLIC_CACHE[line]
    if key is None:
        return False
    try:
        key.verify(base64.b64decode(signature, validate=True), DOMAIN + message)
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


def _read_key_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ContentError([Problem(path, None, "no such key file; pass --key FILE or set $OUTREACH_SIGNING_KEY")], unusable=True) from None
    except OSError as exc:
        raise ContentError([Problem(path, None, f"cannot read the key: {exc.strerror or exc}")], unusable=True) from None


def _is_openssh(data: bytes) -> bool:
    return data.lstrip().startswith(b"-----BEGIN OPENSSH PRIVATE KEY-----")
