#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Independent implementation of katls's RFC 9261 Exported Authenticators
and binder ea v1 (Documentation/binder.rst), with hashlib/hmac and
python3-cryptography only -- not GnuTLS -- written from RFC 8446 (the
exporter), RFC 9261 (the authenticator) and the katls documentation.

  ea_vectors.py                 print the vectors (ea_vectors.txt)
  ea_vectors.py --check FILE    TAP: FILE equals a fresh computation
  ea_vectors.py --fuzz-seeds DIR  write seed inputs for tests/fuzz/fuzz_ea.c
  ea_vectors.py --answer IN OUT   build the authenticator for IN's request
                                (a live session's exporter secret, key,
                                cmw) into OUT: katlsd must accept it
                                (tests/e2e/post/rogue.c python)
  ea_vectors.py --verify IN     TAP: verify the authenticator katlsd sent
                                on a live session (rogue.c pyclient)
  ea_vectors.py --cross IN OUT  TAP: verify the authenticator that the C
                                code made on a live GnuTLS session (IN:
                                its exporter master secret, request,
                                authenticator, key), then answer IN's
                                second request with our own authenticator
                                and binder into OUT for the C code to
                                verify on that same session
"""
import hashlib
import hmac
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import NameOID
import datetime

CMW_EXT = 0xff4c
SIGALGS_EXT = 13
HS_CERT, HS_CR, HS_CV, HS_CCR, HS_FIN = 11, 13, 15, 17, 20
# RFC 8032 section 7.1 TEST 1
ED_SEED = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc4"
                        "4449c5697b326919703bac031cae7f60")
SPKI = bytes.fromhex("302a300506032b6570032100"
                     "d75a980182b10ab7d54bfed3c964073a"
                     "0ee172f3daa62325af021a68f707511a")
EMS = bytes(range(0x00, 0x20))          # exporter_master_secret, SHA-256
CTX = bytes(range(0xc0, 0xe0))          # certificate_request_context
CMW = b"katls test evidence"


# ---- RFC 8446 7.1 and 7.5 ----

# HKDF-Expand-Label: the same independent implementation as binder v1's
# vectors (binder_vectors.py, beside this file).
from binder_vectors import hkdf_expand_label  # noqa: E402


def exporter(hname, ems, label, context, length):
    """TLS-Exporter(label, context, length) from exporter_master_secret."""
    hlen = hashlib.new(hname).digest_size
    derived = hkdf_expand_label(hname, ems, label,
                                hashlib.new(hname, b"").digest(), hlen)
    return hkdf_expand_label(hname, derived, b"exporter",
                             hashlib.new(hname, context).digest(), length)


def ea_keys(hname, ems, sender):
    """RFC 9261: Handshake Context and Finished MAC Key (empty context)."""
    hlen = hashlib.new(hname).digest_size
    pre = b"EXPORTER-" + sender + b" authenticator "
    return (exporter(hname, ems, pre + b"handshake context", b"", hlen),
            exporter(hname, ems, pre + b"finished key", b"", hlen))


def binder(ctx, spki, bind):
    return hashlib.sha512(b"katls ea v1" + bytes([len(ctx)]) + ctx +
                          len(spki).to_bytes(2, "big") + spki +
                          bind).digest()


# ---- messages ----

def u(n, b):
    return n.to_bytes(b, "big")


def vec(b, n):
    return u(len(b), n) + b


def hs(t, body):
    return bytes([t]) + vec(body, 3)


def request(t, ctx, schemes, cmw=True):
    exts = u(SIGALGS_EXT, 2) + vec(vec(b"".join(u(s, 2) for s in schemes),
                                       2), 2)
    if cmw:
        exts += u(CMW_EXT, 2) + u(0, 2)
    return hs(t, vec(ctx, 1) + vec(exts, 2))


def parse_request(req):
    assert req[0] in (HS_CR, HS_CCR) and int.from_bytes(req[1:4], "big") == \
        len(req) - 4, "request framing"
    p = 4
    ctx = req[p + 1:p + 1 + req[p]]
    p += 1 + req[p]
    el = int.from_bytes(req[p:p + 2], "big")
    p += 2
    assert p + el == len(req), "request length"
    schemes, cmw = [], False
    while p < len(req):
        et = int.from_bytes(req[p:p + 2], "big")
        dl = int.from_bytes(req[p + 2:p + 4], "big")
        d = req[p + 4:p + 4 + dl]
        p += 4 + dl
        if et == SIGALGS_EXT:
            n = int.from_bytes(d[:2], "big")
            schemes = [int.from_bytes(d[2 + i:4 + i], "big")
                       for i in range(0, n, 2)]
        elif et == CMW_EXT:
            cmw = True
    return ctx, schemes, cmw


def transcript(hname, hc, *parts):
    h = hashlib.new(hname)
    h.update(hc)
    for p in parts:
        h.update(p)
    return h.digest()


def cv_input(th):
    return b"\x20" * 64 + b"Exported Authenticator\x00" + th


def scheme_of(key):
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return 0x0807
    return {256: 0x0403, 384: 0x0503, 521: 0x0603}[key.curve.key_size]


def sign(key, data):
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(data)
    h = {256: hashes.SHA256(), 384: hashes.SHA384(),
         521: hashes.SHA512()}[key.curve.key_size]
    return key.sign(data, ec.ECDSA(h))


def make_authenticator(hname, hc, fk, req, cert_der, key, cmw):
    ctx, schemes, offered = parse_request(req)
    assert offered, "request does not offer cmw_attestation"
    scheme = scheme_of(key)
    assert scheme in schemes, "scheme not offered"
    ext = u(CMW_EXT, 2) + vec(vec(cmw, 2), 2)
    entry = vec(cert_der, 3) + vec(ext, 2)
    cert = hs(HS_CERT, vec(ctx, 1) + vec(entry, 3))
    sig = sign(key, cv_input(transcript(hname, hc, req, cert)))
    cv = hs(HS_CV, u(scheme, 2) + vec(sig, 2))
    fin = hs(HS_FIN, hmac.new(fk, transcript(hname, hc, req, cert, cv),
                              hname).digest())
    return cert + cv + fin


class Reader:
    def __init__(self, b):
        self.b, self.p = b, 0

    def n(self, k):
        assert self.p + k <= len(self.b), "truncated"
        v = int.from_bytes(self.b[self.p:self.p + k], "big")
        self.p += k
        return v

    def vec(self, k):
        n = self.n(k)
        assert self.p + n <= len(self.b), "truncated"
        v = self.b[self.p:self.p + n]
        self.p += n
        return v

    def done(self):
        return self.p == len(self.b)


def verify_authenticator(hname, hc, fk, req, auth, spki):
    """Returns the cmw_data; raises AssertionError on any failure."""
    ctx, schemes, _ = parse_request(req)
    r = Reader(auth)
    msgs = []
    for want in (HS_CERT, HS_CV, HS_FIN):
        start = r.p
        assert r.n(1) == want, "message type"
        body = r.vec(3)
        msgs.append((auth[start:r.p], body))
    assert r.done(), "trailing bytes"
    (cert_msg, cert_body), (cv_msg, cv_body), (_, fin) = msgs
    c = Reader(cert_body)
    assert c.vec(1) == ctx, "context"
    lst = Reader(c.vec(3))
    assert c.done()
    leaf = lst.vec(3)
    e = Reader(lst.vec(2))
    assert e.n(2) == CMW_EXT, "cmw_attestation"
    d = Reader(e.vec(2))
    cmw = d.vec(2)
    assert d.done() and e.done() and cmw, "cmw_data"
    want_fin = hmac.new(fk, transcript(hname, hc, req, cert_msg, cv_msg),
                        hname).digest()
    assert hmac.compare_digest(fin, want_fin), "Finished"
    crt = x509.load_der_x509_certificate(leaf)
    pub = crt.public_key()
    got_spki = pub.public_bytes(serialization.Encoding.DER,
                                serialization.PublicFormat.SubjectPublicKeyInfo)
    assert got_spki == spki, "key"
    v = Reader(cv_body)
    scheme = v.n(2)
    sig = v.vec(2)
    assert v.done() and scheme in schemes, "scheme"
    data = cv_input(transcript(hname, hc, req, cert_msg))
    if scheme == 0x0807:
        pub.verify(sig, data)
    else:
        h = {0x0403: hashes.SHA256(), 0x0503: hashes.SHA384(),
             0x0603: hashes.SHA512()}[scheme]
        pub.verify(sig, data, ec.ECDSA(h))
    return cmw


# ---- fixed vectors ----

def ed_cert():
    key = ed25519.Ed25519PrivateKey.from_private_bytes(ED_SEED)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME,
                                         "katls ea vector")])
    t0 = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    crt = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
           .public_key(key.public_key()).serial_number(1)
           .not_valid_before(t0)
           .not_valid_after(t0 + datetime.timedelta(days=3650))
           .sign(key, None))
    return key, crt.public_bytes(serialization.Encoding.DER)


def vectors():
    hname = "sha256"
    hc, fk = ea_keys(hname, EMS, b"server")
    chc, cfk = ea_keys(hname, EMS, b"client")
    bind = exporter(hname, EMS, b"Attestation", CTX, 32)
    key, cert = ed_cert()
    req = request(HS_CCR, CTX, [0x0807, 0x0403])
    auth = make_authenticator(hname, hc, fk, req, cert, key, CMW)
    return [
        ("ea-keys-sha256", [
            ("exporter_master_secret", EMS.hex()),
            ("server_hs_context", hc.hex()), ("server_finished_key", fk.hex()),
            ("client_hs_context", chc.hex()), ("client_finished_key", cfk.hex()),
            ("ctx", CTX.hex()), ("bind", bind.hex())]),
        ("ea-binder-v1", [
            ("ctx", CTX.hex()), ("spki", SPKI.hex()), ("bind", bind.hex()),
            ("report_data", binder(CTX, SPKI, bind).hex())]),
        ("ea-authenticator-ed25519-sha256", [
            ("seed", ED_SEED.hex()), ("cert", cert.hex()),
            ("hs_context", hc.hex()), ("finished_key", fk.hex()),
            ("request", req.hex()), ("cmw", CMW.hex()),
            ("authenticator", auth.hex())]),
    ]


def render():
    lines = ["# katls Exported Authenticator test vectors, generated by",
             "# ea_vectors.py.  Documented in Documentation/binder.rst.",
             "# All values hex."]
    for name, kv in vectors():
        lines.append("")
        lines.append("[%s]" % name)
        lines.extend("%s = %s" % (k, v) for k, v in kv)
    return "\n".join(lines) + "\n"


def load(path):
    out = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#") and " = " in line:
                k, v = line.split(" = ", 1)
                out[k] = v
    return out


def tap_check(path):
    with open(path) as f:
        ok = f.read() == render()
    print("TAP version 13\n1..2")
    print("%sok 1 - %s equals a fresh independent computation"
          % ("" if ok else "not ", path))
    v = dict(vectors()[2][1])
    key, cert = ed_cert()
    try:
        cmw = verify_authenticator("sha256", bytes.fromhex(v["hs_context"]),
                                   bytes.fromhex(v["finished_key"]),
                                   bytes.fromhex(v["request"]),
                                   bytes.fromhex(v["authenticator"]), SPKI)
        ok2 = cmw == CMW
    except Exception as e:          # noqa: BLE001 - reported as TAP
        print("# %s" % e)
        ok2 = False
    print("%sok 2 - the verifier accepts the vector authenticator"
          % ("" if ok2 else "not "))
    return 0 if ok and ok2 else 1


def tap_cross(inp, outp):
    """Both directions of the cross-check with the C code (test_ea.c)."""
    v = load(inp)
    hname = v["hash"]
    ems = bytes.fromhex(v["exporter_master_secret"])
    spki = bytes.fromhex(v["spki"])
    hc, fk = ea_keys(hname, ems, b"server")
    n, failed = 0, 0

    def point(ok, what):
        nonlocal n, failed
        n += 1
        failed += not ok
        print("%sok %d - %s" % ("" if ok else "not ", n, what))

    print("TAP version 13")
    try:
        cmw = verify_authenticator(hname, hc, fk, bytes.fromhex(v["request"]),
                                   bytes.fromhex(v["authenticator"]), spki)
        point(cmw == bytes.fromhex(v["cmw"]),
              "python verifies the authenticator katls built (%s)" % hname)
    except Exception as e:          # noqa: BLE001
        point(False, "python verifies the authenticator katls built: %s" % e)
    # a tampered copy must fail here too
    bad = bytearray(bytes.fromhex(v["authenticator"]))
    bad[-1] ^= 1
    try:
        verify_authenticator(hname, hc, fk, bytes.fromhex(v["request"]),
                             bytes(bad), spki)
        point(False, "python rejects a tampered Finished")
    except AssertionError:
        point(True, "python rejects a tampered Finished")
    key = ec.derive_private_key(int(v["key_p256"], 16), ec.SECP256R1())
    req2 = bytes.fromhex(v["request2"])
    ctx2, _, _ = parse_request(req2)
    auth2 = make_authenticator(hname, hc, fk, req2,
                               bytes.fromhex(v["cert"]), key, CMW)
    bind2 = exporter(hname, ems, b"Attestation", ctx2, 32)
    with open(outp, "w") as f:
        f.write("authenticator = %s\n" % auth2.hex())
        f.write("report_data = %s\n" % binder(ctx2, spki, bind2).hex())
    point(True, "python built an authenticator for the second request")
    print("1..%d" % n)
    return 1 if failed else 0


def fuzz_seeds(d):
    """Inputs that reach the deepest checks of fuzz_ea.c (same fixed keys)."""
    import os
    key, cert = ed_cert()
    req = request(HS_CCR, b"\x33" * 32, [0x0807, 0x0403, 0x0804])
    for sel, hname in ((0, "sha256"), (1, "sha384")):
        hlen = hashlib.new(hname).digest_size
        auth = make_authenticator(hname, b"\x11" * hlen, b"\x22" * hlen,
                                  req, cert, key, CMW)
        for mode in (0, 2):
            with open(os.path.join(d, "auth-%s-%d" % (hname, mode)),
                      "wb") as f:
                f.write(bytes([mode, sel]) + auth)
    with open(os.path.join(d, "request"), "wb") as f:
        f.write(b"\x01" + req)
    return 0


def answer(inp, outp):
    v = load(inp)
    hname = v["hash"]
    hc, fk = ea_keys(hname, bytes.fromhex(v["exporter_master_secret"]),
                     b"server")
    key = ec.derive_private_key(int(v["key_p256"], 16), ec.SECP256R1())
    auth = make_authenticator(hname, hc, fk, bytes.fromhex(v["request"]),
                              bytes.fromhex(v["cert"]), key,
                              bytes.fromhex(v["cmw"]))
    with open(outp, "w") as f:
        f.write("authenticator = %s\n" % auth.hex())
    return 0


def verify(inp):
    v = load(inp)
    hname = v["hash"]
    hc, fk = ea_keys(hname, bytes.fromhex(v["exporter_master_secret"]),
                     b"server")
    try:
        cmw = verify_authenticator(hname, hc, fk, bytes.fromhex(v["request"]),
                                   bytes.fromhex(v["authenticator"]),
                                   bytes.fromhex(v["spki"]))
        print("ok - python3-cryptography verifies katlsd's authenticator "
              "(%s, %d bytes of evidence record)" % (hname, len(cmw)))
        return 0
    except Exception as e:          # noqa: BLE001 - reported
        print("not ok - python3-cryptography verifies katlsd's "
              "authenticator: %s" % e)
        return 1


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--answer":
        return answer(sys.argv[2], sys.argv[3])
    if len(sys.argv) == 3 and sys.argv[1] == "--verify":
        return verify(sys.argv[2])
    if len(sys.argv) == 3 and sys.argv[1] == "--fuzz-seeds":
        return fuzz_seeds(sys.argv[2])
    if len(sys.argv) == 3 and sys.argv[1] == "--check":
        return tap_check(sys.argv[2])
    if len(sys.argv) == 4 and sys.argv[1] == "--cross":
        return tap_cross(sys.argv[2], sys.argv[3])
    if len(sys.argv) == 1:
        sys.stdout.write(render())
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
