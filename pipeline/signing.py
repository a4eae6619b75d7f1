"""SSH Ed25519 keys: load a reviewer's private key, sign ledger records, verify signatures.

Reviewers sign with the same key they use for SSH or for signing git commits
(`ssh-keygen -t ed25519`), read with `cryptography`; nothing is shelled out.
The signer's public key is stored as an OpenSSH line ("ssh-ed25519 AAAA...")
and shown by its fingerprint as `ssh-keygen -l` prints it.

A signature is stored base64-encoded, in one of two formats, told apart by
their bytes (see docs/ledger-signatures.md):

- SSHSIG (written now): OpenSSH's own signature format (PROTOCOL.sshsig), the
  body of what `ssh-keygen -Y sign -n outreach-ledger@outreach` prints between
  its BEGIN/END SSH SIGNATURE lines; its bytes begin with "SSHSIG". Anyone can
  check one with `ssh-keygen -Y verify` and no code of ours.
- raw Ed25519 (records signed before): 64 bytes, over DOMAIN + the message.
  Still verified, never written.

The two cannot stand in for each other or for any other signature by the same
key: an SSHSIG signs bytes that begin "SSHSIG" and name our namespace (a git
commit signature names "git"), a raw one signs bytes that begin with DOMAIN.
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
# The SSHSIG namespace of ledger signatures (`ssh-keygen -Y ... -n NAMESPACE`).
NAMESPACE = "outreach-ledger@outreach"
# Prefixed to every message signed in the older raw format, so it can never pass for any other signed thing.
DOMAIN = b"outreach-ledger-record-v1\n"
SSHSIG_MAGIC = b"SSHSIG"
SSHSIG_VERSION = 1
SSHSIG_HASH = "sha512"  # what we write, and what `ssh-keygen -Y sign` writes by default
SSHSIG_HASHES = {"sha512": hashlib.sha512, "sha256": hashlib.sha256}  # what OpenSSH accepts
RAW_SIGNATURE_BYTES = 64
ARMOR_BEGIN = "-----BEGIN SSH SIGNATURE-----"
ARMOR_END = "-----END SSH SIGNATURE-----"
ARMOR_WIDTH = 70  # ssh-keygen's line length


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
        """The SSHSIG signature of `message` in our namespace, base64 (as a ledger record stores it).

        Byte for byte what `ssh-keygen -Y sign -n outreach-ledger@outreach` makes with this key.
        """
        signed = _sshsig_signed_data(NAMESPACE, SSHSIG_HASH, message)
        inner = _ssh_string(KEY_TYPE.encode("ascii")) + _ssh_string(self.private.sign(signed))
        blob = (
            SSHSIG_MAGIC + SSHSIG_VERSION.to_bytes(4, "big") + _ssh_string(_key_blob(self.public_line))
            + _ssh_string(NAMESPACE.encode("ascii")) + _ssh_string(b"") + _ssh_string(SSHSIG_HASH.encode("ascii"))
            + _ssh_string(inner)
        )
        return base64.b64encode(blob).decode("ascii")


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
        if data.lstrip().startswith(b"ssh-"):
            private = path.with_suffix("") if path.suffix == ".pub" else "the file without .pub"
            raise ContentError([Problem(path, None, f"this is a public key; sign with its private half ({private})")], unusable=True) from None
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
    """Whether `signature` (SSHSIG or raw Ed25519, base64) is the key's signature of `message`."""
    return not signature_problem(line, message, signature)


def signature_problem(line: str, message: bytes, signature: str) -> str:
    """Why `signature` is not the key's signature of `message` ("" when it is)."""
    key = _public_key(line)
    if key is None:
        return "the record's key is not an ssh-ed25519 public key"
    try:
        data = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        return "the signature is not base64"
    if _is_sshsig(data):
        return _sshsig_problem(key, line, message, data)
    if len(data) != RAW_SIGNATURE_BYTES:
        return f"neither an SSHSIG signature nor a {RAW_SIGNATURE_BYTES}-byte Ed25519 one ({len(data)} bytes)"
    try:
        key.verify(data, DOMAIN + message)
    except InvalidSignature:
        return "the Ed25519 signature does not match"
    return ""


def is_sshsig(signature: str) -> bool:
    """Whether a stored signature is in OpenSSH's SSHSIG format (not the older raw one); it may still be wrong."""
    try:
        return _is_sshsig(base64.b64decode(signature, validate=True))
    except (binascii.Error, ValueError):
        return False


def _is_sshsig(data: bytes) -> bool:
    # Unambiguous: a raw signature is exactly 64 bytes, an SSHSIG one (magic, key, namespace, ...) far longer.
    return data.startswith(SSHSIG_MAGIC) and len(data) != RAW_SIGNATURE_BYTES


def armor(signature: str) -> str:
    """A stored SSHSIG signature as the file `ssh-keygen -Y sign` writes (BEGIN/END SSH SIGNATURE lines)."""
    if not is_sshsig(signature):
        raise ValueError("not an SSHSIG signature")
    body = base64.b64encode(base64.b64decode(signature, validate=True)).decode("ascii")
    lines = [body[start:start + ARMOR_WIDTH] for start in range(0, len(body), ARMOR_WIDTH)]
    return "\n".join([ARMOR_BEGIN, *lines, ARMOR_END]) + "\n"


def _sshsig_problem(key: Ed25519PublicKey, line: str, message: bytes, data: bytes) -> str:
    """What `ssh-keygen -Y verify` would refuse in this SSHSIG blob, given the record's key and our namespace."""
    head = len(SSHSIG_MAGIC) + 4
    if len(data) < head:
        return "a truncated SSHSIG signature"
    version = int.from_bytes(data[len(SSHSIG_MAGIC):head], "big")
    if version != SSHSIG_VERSION:
        return f"SSHSIG version {version}, not {SSHSIG_VERSION}"
    try:
        fields, rest = _read_ssh_strings(data[head:], 5)
        (kind, raw), inner_rest = _read_ssh_strings(fields[4], 2)
    except ValueError:
        return "a truncated SSHSIG signature"
    public, namespace, _reserved, hash_name = fields[:4]  # reserved is for future use: ignored, as OpenSSH does
    if rest or inner_rest:
        return "bytes after the end of the SSHSIG signature"
    if public != _key_blob(line):
        return "the SSHSIG signature carries another key than the record names"
    if namespace != NAMESPACE.encode("ascii"):
        return f"SSHSIG namespace {namespace.decode('utf-8', 'replace')!r}, not {NAMESPACE!r}"
    algorithm = hash_name.decode("ascii", "replace")
    if algorithm not in SSHSIG_HASHES:
        return f"SSHSIG hash {algorithm!r} (OpenSSH accepts {', '.join(sorted(SSHSIG_HASHES))})"
    if kind != KEY_TYPE.encode("ascii") or len(raw) != RAW_SIGNATURE_BYTES:
        return f"not an {KEY_TYPE} signature inside the SSHSIG one"
    try:
        key.verify(raw, _sshsig_signed_data(namespace.decode("ascii"), algorithm, message))  # checked above
    except InvalidSignature:
        return "the SSHSIG signature does not match"
    return ""


def _sshsig_signed_data(namespace: str, algorithm: str, message: bytes) -> bytes:
    """What an SSHSIG signature signs: the magic, namespace, empty reserved, hash name and H(message)."""
    digest = SSHSIG_HASHES[algorithm](message).digest()
    return (
        SSHSIG_MAGIC + _ssh_string(namespace.encode("ascii")) + _ssh_string(b"")
        + _ssh_string(algorithm.encode("ascii")) + _ssh_string(digest)
    )


def _ssh_string(value: bytes) -> bytes:
    return len(value).to_bytes(4, "big") + value


def _read_ssh_strings(data: bytes, count: int) -> tuple[list[bytes], bytes]:
    """`count` SSH wire strings (uint32 length, bytes) from the start of `data`, and what follows them."""
    values = []
    offset = 0
    for _ in range(count):
        if offset + 4 > len(data):
            raise ValueError("truncated")
        length = int.from_bytes(data[offset:offset + 4], "big")
        if offset + 4 + length > len(data):
            raise ValueError("truncated")
        values.append(data[offset + 4:offset + 4 + length])
        offset += 4 + length
    return values, data[offset:]


def _key_blob(line: str) -> bytes:
    """The wire form of a public key line's key (the base64 field decoded)."""
    try:
        return base64.b64decode(line.split()[1], validate=True)
    except (IndexError, binascii.Error):
        return b""


def _public_key(line: str) -> Ed25519PublicKey | None:
    if line not in _PUBLIC_CACHE:
        try:
            key = serialization.load_ssh_public_key(line.encode("ascii"))
        except (ValueError, UnsupportedAlgorithm, UnicodeEncodeError):
            key = None
        _PUBLIC_CACHE[line] = key if isinstance(key, Ed25519PublicKey) else None
    return _PUBLIC_CACHE[line]


def _read_key_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ContentError([Problem(path, None, "no such key file; pass --key FILE or set $OUTREACH_SIGNING_KEY")], unusable=True) from None
    except OSError as exc:
        raise ContentError([Problem(path, None, f"cannot read the key: {exc.strerror or exc}")], unusable=True) from None


def _is_openssh(data: bytes) -> bool:
    return data.lstrip().startswith(b"-----BEGIN OPENSSH PRIVATE KEY-----")
