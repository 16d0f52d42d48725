#!/usr/bin/env python3
"""The audit log's key binding and covered rows, reimplemented from docs/audit.md.

usage: audit_mac.py check AUDIT_DB AUDIT_KEY

check   recomputes every record's mac under the subkey of AUDIT_KEY, every record's covers
        digest from the `covered` table, and the digest of every row of the covered tables
        against the newest entry of its key. Prints "N records match, M rows match" and
        exits 0, or names the first difference and exits 1.

The construction (audit/log.c, audit/cover.c):
  subkey = BLAKE2b-256(key = seed, salt = u64 LE 1 || 8 zero bytes,
                       person = "stewaudt" || 8 zero bytes), seed = audit.key[:32]
           (libsodium crypto_kdf_derive_from_key(32, 1, "stewaudt", seed))
  mac    = BLAKE2b-256(key = subkey) over "steward.mac.v1\\0" || seq u64 BE ||
           previous record's mac (32 zero bytes for seq 1) || hash || covers (or 32 zeros)
  row    = SHA-256("steward.row.v1\\0" || str(table) || for each non-NULL column in table
           order: str(name) || value)
  value  = b"i" || i64 BE | b"f" || f64 BE | b"t" || u32 BE len || UTF-8 | b"b" || u32 len || bytes
  key    = the primary key columns' values in key order (NULL as b"n")
  covers = SHA-256("steward.covers.v1\\0" || for each entry of the record by (tbl, key):
           str(tbl) || str(key) || (b"\\1" || row digest, or b"\\0" for a deleted row))
where str is a u32 BE length and the bytes.
"""
import hashlib
import sqlite3
import struct
import sys

TABLES = ("requests", "request_ids", "request_targets", "request_events", "suppressed")


def s(b):
    if isinstance(b, str):
        b = b.encode("utf-8")
    return struct.pack(">I", len(b)) + b


def value(v):
    if isinstance(v, int):
        return b"i" + struct.pack(">q", v)
    if isinstance(v, float):
        return b"f" + struct.pack(">d", v)
    if isinstance(v, str):
        return b"t" + s(v)
    return b"b" + s(bytes(v))


def subkey(seed):
    return hashlib.blake2b(b"", digest_size=32, key=seed, salt=struct.pack("<Q", 1) + bytes(8),
                           person=b"stewaudt" + bytes(8)).digest()


def mac(k, seq, prev, h, covers):
    return hashlib.blake2b(b"steward.mac.v1\0" + struct.pack(">q", seq) + prev + h +
                           (covers or bytes(32)), digest_size=32, key=k).digest()


def row_digest(table, names, row):
    m = hashlib.sha256(b"steward.row.v1\0" + s(table))
    for n, v in zip(names, row):
        if v is not None:
            m.update(s(n) + value(v))
    return m.digest()


def pk_columns(db, table):
    info = db.execute("PRAGMA table_info(\"%s\")" % table).fetchall()
    pk = sorted((r[5], r[1]) for r in info if r[5] > 0)
    return [r[1] for r in info], [n for _, n in pk]


def key_of(names, pk, row):
    return b"".join(b"n" if row[names.index(n)] is None else value(row[names.index(n)])
                    for n in pk)


def check(path, key_path):
    k = subkey(open(key_path, "rb").read()[:32])
    db = sqlite3.connect(path)
    entries = {}
    for seq, tbl, key, digest in db.execute(
            "SELECT seq, tbl, key, digest FROM covered ORDER BY seq, tbl, key"):
        entries.setdefault(seq, []).append((tbl, bytes(key), digest))
    prev = bytes(32)
    n = 0
    for seq, h, covers, m in db.execute("SELECT seq, hash, covers, mac FROM records ORDER BY seq"):
        if seq in entries:
            c = hashlib.sha256(b"steward.covers.v1\0")
            for tbl, key, digest in entries[seq]:
                c.update(s(tbl) + s(key) + (b"\1" + digest if digest else b"\0"))
            if c.digest() != covers:
                print("record %d: covers differs" % seq)
                return 1
        elif covers is not None:
            print("record %d: covers without entries" % seq)
            return 1
        if mac(k, seq, prev, h, covers) != m:
            print("record %d: mac differs" % seq)
            return 1
        prev = m
        n += 1
    rows = 0
    for t in TABLES:
        names, pk = pk_columns(db, t)
        for row in db.execute("SELECT * FROM \"%s\"" % t):
            newest = db.execute("SELECT digest FROM covered WHERE tbl = ? AND key = ?"
                                " ORDER BY seq DESC LIMIT 1", (t, key_of(names, pk, row))).fetchone()
            if not newest or newest[0] != row_digest(t, names, row):
                print("%s row %r: digest differs" % (t, row))
                return 1
            rows += 1
    print("%d records match, %d rows match" % (n, rows))
    return 0


def main(argv):
    if len(argv) == 4 and argv[1] == "check":
        return check(argv[2], argv[3])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
