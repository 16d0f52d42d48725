#!/usr/bin/env python3
"""Turns a workspace's audit.db back into an older schema, as an older steward left it, for
the migration tests.

usage: audit_v1.py STATE_DIR [VERSION]

VERSION (default 1) is the schema to go back to: 4, before the checkpoints' macs and the
API tokens (drops that column and table); 3, also before the Merkle tree (drops table
merkle and the checkpoints' root column, and signs every checkpoint again in format 1,
"steward.checkpoint.v1\\0" || seq || hash || ts_ms, docs/audit.md, with STATE_DIR/audit.key);
2, also before the key binding (drops the macs, covers and the covered rows); 1, also before
the verified evidence (drops request_targets' visited, erased, remaining and skipped). Sets
PRAGMA user_version = VERSION. Ed25519 signing is RFC 8032 section 5.1.6 on the curve
code of docs/verify_proof.py (the standard library has none). Prints "N checkpoints".
"""
import hashlib
import os
import sqlite3
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs"))
import verify_proof as v  # noqa: E402


def encode(pt):
    x, y, z, _ = pt
    zi = pow(z, v.P - 2, v.P)
    x, y = x * zi % v.P, y * zi % v.P
    return (y | ((x & 1) << 255)).to_bytes(32, "little")


def sign(secret_key, msg):
    """libsodium's 64-byte secret key is the seed and the public key."""
    h = hashlib.sha512(secret_key[:32]).digest()
    a = int.from_bytes(h[:32], "little")
    a &= (1 << 254) - 8
    a |= 1 << 254
    pk = encode(v._mul(a, v.BASE))
    r = int.from_bytes(hashlib.sha512(h[32:] + msg).digest(), "little") % v.L
    big_r = encode(v._mul(r, v.BASE))
    k = int.from_bytes(hashlib.sha512(big_r + pk + msg).digest(), "little") % v.L
    return big_r + ((r + k * a) % v.L).to_bytes(32, "little"), pk


def main(argv):
    if len(argv) not in (2, 3) or (len(argv) == 3 and argv[2] not in ("1", "2", "3", "4")):
        sys.stderr.write(__doc__)
        return 2
    version = int(argv[2]) if len(argv) == 3 else 1
    with open(os.path.join(argv[1], "audit.key"), "rb") as f:
        sk = f.read()
    db = sqlite3.connect(os.path.join(argv[1], "audit.db"))
    rows = db.execute("SELECT seq, ts_ms, hash FROM checkpoints ORDER BY seq").fetchall()
    db.execute("DROP TABLE IF EXISTS tokens")
    db.execute("ALTER TABLE checkpoints DROP COLUMN mac")
    if version == 4:
        db.execute("PRAGMA user_version = 4")
        db.commit()
        db.close()
        print("%d checkpoints" % len(rows))
        return 0
    db.execute("DROP TABLE merkle")
    db.execute("ALTER TABLE checkpoints DROP COLUMN root")
    for seq, ts_ms, h in rows:
        msg = b"steward.checkpoint.v1\0" + struct.pack(">q", seq) + h + struct.pack(">q", ts_ms)
        sig, pk = sign(sk, msg)
        assert v.ed25519_verify(pk, msg, sig)
        db.execute("UPDATE checkpoints SET signature = ?, public_key = ? WHERE seq = ?",
                   (sig, pk, seq))
    if version <= 2:
        for sql in ("ALTER TABLE records DROP COLUMN covers", "ALTER TABLE records DROP COLUMN mac",
                    "ALTER TABLE pending DROP COLUMN mac", "DROP TABLE covered",
                    "DROP TABLE pending_rows"):
            db.execute(sql)
    if version <= 1:
        for col in ("visited", "erased", "remaining", "skipped"):
            db.execute("ALTER TABLE request_targets DROP COLUMN " + col)
    db.execute("PRAGMA user_version = %d" % version)
    db.commit()
    db.close()
    print("%d checkpoints" % len(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
