#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""keyscan.py KEY.pem NAME: how many copies of the private key each
process named NAME (its comm) holds in its memory.

Looks, in every readable mapping of /proc/PID/mem, for the EC private
scalar in big-endian and in little-endian byte order (GMP keeps it as
little-endian limbs on x86), and for the key's DER encoding.  Prints one
line per process, "PID HITS", none if no process has that name.  Needs root (CAP_SYS_PTRACE: the sandbox is
not dumpable).  The caller runs it on the monitor too, as the control
that shows the scan finds a key where one is.
"""
import glob
import re
import sys

from cryptography.hazmat.primitives import serialization


def needles(pem):
    key = serialization.load_pem_private_key(pem, password=None)
    d = key.private_numbers().private_value
    size = (key.curve.key_size + 7) // 8
    be = d.to_bytes(size, "big")
    der = key.private_bytes(serialization.Encoding.DER,
                            serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    # 16 bytes of the scalar are enough to be unique and survive a
    # mapping boundary less often than the whole; the DER is checked
    # as a whole.
    return [be[:16], be[::-1][:16], der]


def hits(pid, pats):
    n = 0
    with open("/proc/%d/maps" % pid) as maps, \
            open("/proc/%d/mem" % pid, "rb", 0) as mem:
        for line in maps:
            m = re.match(r"([0-9a-f]+)-([0-9a-f]+) (\S+)", line)
            start, end, perms = int(m[1], 16), int(m[2], 16), m[3]
            if perms[0] != "r" or "[vvar" in line or "[vsyscall" in line:
                continue
            try:
                mem.seek(start)
                data = mem.read(end - start)
            except OSError:
                continue
            for p in pats:
                n += data.count(p)
    return n


def named(name):
    for comm in glob.glob("/proc/[0-9]*/comm"):
        try:
            if open(comm).read().strip() == name:
                yield int(comm.split("/")[2])
        except OSError:
            pass


def main():
    pats = needles(open(sys.argv[1], "rb").read())
    for pid in named(sys.argv[2]):
        print(pid, hits(pid, pats))


if __name__ == "__main__":
    main()
