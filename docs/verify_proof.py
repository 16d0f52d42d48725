#!/usr/bin/env python3
"""Checks a steward audit proof on its own, with nothing but Python 3's standard library.

usage: verify_proof.py PROOF.json... [--public-key HEX]

PROOF.json is what `steward audit prove SEQ --json` or `steward audit consistency FILE
--json` prints. The script checks, as docs/audit.md ("Proofs") describes byte for byte:
  - each checkpoint's Ed25519 signature over its format 2 message (RFC 8032 verification,
    written out below because the standard library has no Ed25519), with --public-key when
    given, else with the key inside the proof;
  - an inclusion proof: that the record hashes to the leaf (the chain encoding), that the
    leaf index is seq - 1, and that the audit path leads from the leaf to the signed root
    (RFC 9162 section 2.1.3.2);
  - a consistency proof: that the path leads from the old signed root to the new one
    (RFC 9162 section 2.1.4.2).
Prints "proof holds: ..." and exits 0, or "proof rejected: REASON" and exits 1; exits 2 when
the file cannot be read. Given several files, prints one line for each, "FILE: " and the
verdict, and exits 1 when any is rejected. `steward audit check-proof` does the same checks.
"""
import hashlib
import json
import struct
import sys

# ---- Ed25519 verification (RFC 8032 section 5.1.7), on extended coordinates -----------------

P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)


def _add(a, b):
    x1, y1, z1, t1 = a
    x2, y2, z2, t2 = b
    aa = (y1 - x1) * (y2 - x2) % P
    bb = (y1 + x1) * (y2 + x2) % P
    cc = 2 * D * t1 * t2 % P
    dd = 2 * z1 * z2 % P
    e, f, g, h = bb - aa, dd - cc, dd + cc, bb + aa
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def _mul(k, pt):
    acc = (0, 1, 1, 0)
    while k:
        if k & 1:
            acc = _add(acc, pt)
        pt = _add(pt, pt)
        k >>= 1
    return acc


def _decode(b):
    """The point encoded in 32 bytes, or None when it is not one (or not canonical)."""
    if len(b) != 32:
        return None
    y = int.from_bytes(b, "little")
    sign, y = y >> 255, y & ((1 << 255) - 1)
    if y >= P:
        return None
    u, v = (y * y - 1) % P, (D * y * y + 1) % P
    x = u * pow(v, 3, P) * pow(u * pow(v, 7, P), (P - 5) // 8, P) % P
    if v * x * x % P == (-u) % P:
        x = x * SQRT_M1 % P
    elif v * x * x % P != u:
        return None
    if x == 0 and sign:
        return None
    if x & 1 != sign:
        x = P - x
    return (x, y, 1, x * y % P)


BASE = _decode((4 * pow(5, P - 2, P) % P).to_bytes(32, "little"))


def _same(a, b):
    return (a[0] * b[2] - b[0] * a[2]) % P == 0 and (a[1] * b[2] - b[1] * a[2]) % P == 0


def ed25519_verify(public_key, message, signature):
    if len(signature) != 64:
        return False
    a, r = _decode(public_key), _decode(signature[:32])
    s = int.from_bytes(signature[32:], "little")
    if a is None or r is None or s >= L:
        return False
    k = int.from_bytes(hashlib.sha512(signature[:32] + public_key + message).digest(),
                       "little") % L
    return _same(_mul(s, BASE), _add(r, _mul(k, a)))


# ---- steward's encodings -------------------------------------------------------------------


def sha256(b):
    return hashlib.sha256(b).digest()


def q(v):
    return struct.pack(">Q", v & 0xFFFFFFFFFFFFFFFF)


def s(v):
    if v is None:
        return b"\xff\xff\xff\xff"
    b = v.encode("utf-8")
    return struct.pack(">I", len(b)) + b


def record_hash(r):
    """The chain hash of a record (docs/audit.md, "The hash chain")."""
    return sha256(b"steward.audit.v1\0" + q(r["seq"]) + bytes.fromhex(r["prev"])
                  + q(r["ts_ms"]) + s(r["actor"]) + q(r["uid"])
                  + b"".join(s(r[k]) for k in ("role", "action", "object", "purpose",
                                               "outcome", "reason", "counts", "host"))
                  + q(r["pid"]) + s(r["version"]) + q(1 if r["pii"] else 0))


def checkpoint_message(c):
    """The signed message of a format 2 checkpoint."""
    return (b"steward.checkpoint.v2\0" + q(c["seq"]) + bytes.fromhex(c["hash"]) + q(c["ts_ms"])
            + q(c["tree_size"]) + bytes.fromhex(c["root"]))


def leaf_hash(data):
    return sha256(b"\x00" + data)


def node(left, right):
    return sha256(b"\x01" + left + right)


# ---- RFC 9162's verification algorithms -----------------------------------------------------


def verify_inclusion(leaf, index, size, path, root):
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node(p, r)
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def verify_consistency(m, n, root1, root2, path):
    if not 0 < m <= n:
        return False
    if m == n:
        return not path and root1 == root2
    if not path:
        return False
    if m & (m - 1) == 0:
        path = [root1] + path
    fn, sn = m - 1, n - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node(c, fr), node(c, sr)
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == root1 and sr == root2


# ---- the proof document ---------------------------------------------------------------------


class Rejected(Exception):
    pass


def h32(v, what):
    try:
        b = bytes.fromhex(v)
    except (TypeError, ValueError):
        b = b""
    if len(b) != 32:
        raise Rejected("%s is not 64 hex digits" % what)
    return b


def check_checkpoint(c, what, key, given):
    fields = ("version", "seq", "ts_ms", "hash", "tree_size", "root", "public_key", "signature")
    if not isinstance(c, dict) or any(f not in c for f in fields):
        raise Rejected("the %s is incomplete or malformed" % what)
    if c["version"] != 2:
        raise Rejected("the %s is not a format 2 checkpoint (it has no Merkle root)" % what)
    if c["tree_size"] != c["seq"]:
        raise Rejected("the %s's tree size %d is not its seq %d" % (what, c["tree_size"],
                                                                     c["seq"]))
    pk = h32(c["public_key"], "the %s's public key" % what)
    if key is not None and pk != key:
        raise Rejected("the %s is signed by another key than %s"
                       % (what, "the one given" if given else "the first checkpoint"))
    try:
        sig = bytes.fromhex(c["signature"])
        msg = checkpoint_message(c)
    except (TypeError, ValueError):
        raise Rejected("the %s is incomplete or malformed" % what)
    if not ed25519_verify(pk, msg, sig):
        raise Rejected("the %s's signature does not verify" % what)
    return pk


def check(doc, key):
    given = key is not None
    if not isinstance(doc, dict) or doc.get("format") != "steward-audit-proof":
        raise Rejected("not a steward proof")
    if doc.get("version") != 1:
        raise Rejected("the proof's format version is not 1")
    path = doc.get("path")
    if not isinstance(path, list):
        raise Rejected("the path is not a list of hashes")
    path = [h32(p, "path hash %d" % (i + 1)) for i, p in enumerate(path)]
    if doc.get("type") == "inclusion":
        cp = doc.get("checkpoint")
        key = check_checkpoint(cp, "checkpoint", key, given)
        seq, index, size = doc.get("seq"), doc.get("leaf_index"), doc.get("tree_size")
        if size != cp["tree_size"]:
            raise Rejected("the proof's tree size %s is not the signed tree size %d"
                           % (size, cp["tree_size"]))
        if h32(doc.get("root"), "the root") != bytes.fromhex(cp["root"]):
            raise Rejected("the proof's root is not the signed root")
        if not isinstance(seq, int) or index != seq - 1:
            raise Rejected("leaf index %s is not the index of record %s" % (index, seq))
        leaf = h32(doc.get("leaf"), "the leaf")
        record = doc.get("record")
        if record is not None:
            try:
                ok = record["seq"] == seq and record_hash(record) == leaf
            except (KeyError, TypeError, ValueError, AttributeError):
                raise Rejected("the record is incomplete or malformed")
            if not ok:
                raise Rejected("the record does not hash to the leaf: it was changed")
        if not verify_inclusion(leaf_hash(leaf), index, size, path, bytes.fromhex(cp["root"])):
            raise Rejected("the audit path does not lead from the leaf to the signed root")
        return key, "record %d is in the audit log of %d records" % (seq, size)
    if doc.get("type") == "consistency":
        old, new = doc.get("old"), doc.get("new")
        key = check_checkpoint(old, "old checkpoint", key, given)
        check_checkpoint(new, "new checkpoint", key, given)
        m, n = old["tree_size"], new["tree_size"]
        if m > n:
            raise Rejected("the old tree (%d records) is larger than the new (%d)" % (m, n))
        if not verify_consistency(m, n, bytes.fromhex(old["root"]), bytes.fromhex(new["root"]),
                                  path):
            raise Rejected("the consistency path does not lead from the old root to the new "
                           "root")
        return key, "the audit log of %d records extends the one of %d records" % (n, m)
    raise Rejected("the proof's type is neither inclusion nor consistency")


def main(argv):
    args, key = argv[1:], None
    if len(args) >= 3 and args[-2] == "--public-key":
        try:
            key = bytes.fromhex(args[-1])
        except ValueError:
            key = b""
        if len(key) != 32:
            sys.stderr.write("error: the public key must be 64 hex digits\n")
            return 2
        args = args[:-2]
    if not args or any(a.startswith("-") for a in args):
        sys.stderr.write(__doc__)
        return 2
    code = 0
    for path in args:
        prefix = path + ": " if len(args) > 1 else ""
        try:
            with open(path, encoding="utf-8") as f:
                doc = json.load(f)
        except (OSError, ValueError) as e:
            sys.stderr.write("error: cannot read the proof '%s': %s\n" % (path, e))
            return 2
        try:
            used, what = check(doc, key)
        except Rejected as e:
            print("%sproof rejected: %s" % (prefix, e))
            code = 1
            continue
        print("%sproof holds: %s" % (prefix, what))
        if not prefix:
            print("signed with public key %s (%s)" % (used.hex(), "given" if key else
                                                      "taken from the proof"))
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv))
