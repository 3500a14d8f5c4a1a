#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/unit/cli/katls-verify.sh KATLS-VERIFY EVIDENCE-DIR [VALGRIND]
# TAP tests of the katls-verify command line: exit status, JSON fields,
# policies, usage errors, and one run under valgrind (no leak, no error).
set -u
cli=$1 ev=$2 valgrind=${3:-valgrind}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

. "$(dirname "$0")/../../lib/tap.sh"

# run EXPECTED-EXIT NAME ARGS...: output in $tmp/out, stderr in $tmp/err
run() {
	local want=$1 name=$2 rc
	shift 2
	"$cli" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	[ "$rc" -eq "$want" ]
	ok $? "$name (exit $rc, want $want)"
	[ "$rc" -eq "$want" ] || { sed 's/^/# /' "$tmp/out" "$tmp/err" | head -20; }
}

# json EXPR NAME: a Python expression over the parsed object j
json() {
	python3 -c 'import json,sys
j=json.load(open(sys.argv[1]))
sys.exit(0 if eval(sys.argv[2]) else 1)' "$tmp/out" "$1" 2>/dev/null
	ok $? "$2"
}

tap_plan_lazy
at=--at=2026-06-01T00:00:00Z
T1=$ev/tdx/gtdx_v4_spr_e4_quote.dat
mrtd=6363b8043668a3ad953278e10389574d326c6749fb78aa810ecd9336923db86f22fc00b8dcd404bc10d5e119d7215cbb

run 0 "T1 --json valid" --json $at "$T1"
json "j['verdict']=='valid' and j['tee']=='tdx' and j['version']==4 and j['measurement']=='$mrtd' and j['debug'] is False and j['errors']==[]" \
	"T1 JSON: verdict, tee, version, measurement, debug, errors"
json "j['report_data'].startswith('6c62dec1') and any('TCB collateral not supplied' in c for c in j['checks']) and j['tdx']['fmspc']=='50806f000000'" \
	"T1 JSON: report_data, checks list what was not checked, fmspc"
run 0 "T1 --type tdx text output" --type tdx $at "$T1"
grep -q '^verdict: *valid' "$tmp/out"; ok $? "text output says valid"
run 0 "RFC 3339 time with offset and fraction" --at 2026-06-01T02:00:00.5+02:00 "$T1"

run 0 "T4 (debug TD) valid without policy" --json $at "$ev/tdx/trustee_v4_debug_quote.dat"
json "j['debug'] is True" "T4 JSON: debug true"
run 1 "negative quote signature" --json $at "$ev/tdx/negative/gtdx_v4_neg_quotesig_0x27C.dat"
json "j['verdict']=='invalid' and any(e.startswith('quote signature') for e in j['errors'])" \
	"negative JSON: verdict invalid, error names the check"
run 1 "synthetic quote with fake Intel root" --json $at "$ev/tdx/negative/teekit_synthetic_v4_quote_test_root.dat"
json "any('root pinning' in e for e in j['errors'])" "synthetic quote: root pinning error"
run 1 "TDX forced as snp" --type snp $at "$T1"
run 1 "T1 expired PCK leaf at 2030" --at 2030-01-01T00:00:00Z "$T1"

mkdir -p "$tmp/certs" && cp "$ev/sev-snp/gsev_milan_vcek.der" "$tmp/certs/"
S1=$ev/sev-snp/gsev_milan_v2_report.bin
run 0 "S1 with --certs and --report-data" --json $at --certs "$tmp/certs" --report-data 0102030405 "$S1"
json "j['tee']=='snp' and j['version']==2 and j['debug'] is True and j['measurement'].startswith('b07af962') and j['snp']['reported_tcb']=='4405000000000002'" \
	"S1 JSON: tee, version, debug, measurement, reported TCB"
run 1 "S1 with wrong --report-data" --json $at --certs "$tmp/certs" --report-data 01 "$S1"
json "any('report data differs' in e for e in j['errors'])" "wrong report data named"
run 1 "S1 without any VCEK" $at "$S1"
# An auxblob as sev_guest returns it: GUID table (VCEK entry, terminator), DER.
python3 - "$ev/sev-snp/gsev_milan_vcek.der" "$tmp/aux.bin" <<'PY'
import struct, sys
der = open(sys.argv[1], 'rb').read()
guid = bytes.fromhex('63da758de6644564adc5f4b93be8accd')
open(sys.argv[2], 'wb').write(guid + struct.pack('<II', 48, len(der)) + bytes(24) + der)
PY
run 0 "S1 with the VCEK from --aux" --json $at --aux "$tmp/aux.bin" "$S1"
json "any('auxblob certificate table (1 entries)' in c for c in j['checks'])" "auxblob table used"

cat >"$tmp/ok.policy" <<POL
# S1 reference values
allow snp
debug allow
measurement b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b6bdf8a9ece31a5a608eb0cf2e4872b01
snp.min_tcb bl=2 tee=0 snp=5 ucode=68
POL
printf 'allow snp\nmeasurement b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b6bdf8a9ece31a5a608eb0cf2e4872b01\n' >"$tmp/nodebug.policy"
printf 'allow snp\n\nsnp.min_tcb bl=x\n' >"$tmp/broken.policy"
run 0 "S1 satisfies its policy" --json $at --certs "$tmp/certs" --policy "$tmp/ok.policy" "$S1"
json "j['policy']=='ok' and j['verdict']=='valid'" "policy name in JSON"
run 1 "S1 rejected by a no-debug policy" --json $at --certs "$tmp/certs" --policy "$tmp/nodebug.policy" "$S1"
json "any('debug mode forbidden' in e for e in j['errors'])" "policy error listed"
run 2 "broken policy is an error, never accept" $at --certs "$tmp/certs" --policy "$tmp/broken.policy" "$S1"
grep -q 'broken.policy:3:' "$tmp/err"; ok $? "broken policy reported as FILE:LINE"

run 0 "CCA token with --cpak" --json --cpak "$ev/cca/tfrmm_cpak_pub.pem" "$ev/cca/veraison_tfrmm_cca_token.cbor"
json "j['tee']=='cca' and j['report_data']=='ab'*64" "CCA JSON: tee and challenge"

# Every sample through --json: positives valid with their MRTD/measurement,
# negatives invalid.  (File, --at, certificate, measurement prefix.)
while read -r f when cert meas; do
	args=(--json --at "$when")
	if [ "$cert" != - ]; then
		rm -rf "$tmp/c" && mkdir "$tmp/c" && cp "$ev/$cert" "$tmp/c/"
		args+=(--certs "$tmp/c")
	fi
	if [ "$meas" = - ]; then
		run 1 "$f invalid" "${args[@]}" "$ev/$f"
		json "j['verdict']=='invalid' and len(j['errors'])>0" "$f: JSON verdict invalid with errors"
	else
		run 0 "$f valid" "${args[@]}" "$ev/$f"
		json "j['verdict']=='valid' and j['measurement'].startswith('$meas')" "$f: JSON measurement $meas..."
	fi
done <<'LIST'
tdx/gtdx_v4_spr_e4_quote.dat 2026-06-01T00:00:00Z - 6363b804
tdx/gtdx_v5_quote.dat 2026-06-01T00:00:00Z - 7348651a
tdx/gtdx_v4_gce_cos113_quote.dat 2026-06-01T00:00:00Z - dae67181
tdx/trustee_v4_debug_quote.dat 2026-06-01T00:00:00Z - 705ee938
tdx/trustee_v4_quote6.dat 2026-06-01T00:00:00Z - 21e8dead
tdx/trustee_azure_v4_td_quote.bin 2026-06-01T00:00:00Z - 024a32b0
tdx/negative/gtdx_v4_neg_version_0x000.dat 2026-06-01T00:00:00Z - -
tdx/negative/gtdx_v4_neg_sigdatalen_0x278.dat 2026-06-01T00:00:00Z - -
tdx/negative/gtdx_v4_neg_header_0x01E.dat 2026-06-01T00:00:00Z - -
tdx/negative/gtdx_v4_neg_body_0x03C.dat 2026-06-01T00:00:00Z - -
tdx/negative/gtdx_v4_neg_pckleaf_0xB77.dat 2026-06-01T00:00:00Z - -
tdx/negative/gtdx_v4_neg_intermediate_0xF5F.dat 2026-06-01T00:00:00Z - -
tdx/negative/gtdx_v4_neg_root_0x1329.dat 2026-06-01T00:00:00Z - -
tdx/negative/gtdx_v4_neg_qereport_0x342.dat 2026-06-01T00:00:00Z - -
tdx/negative/gtdx_v4_neg_qeauth_0x4C4.dat 2026-06-01T00:00:00Z - -
tdx/negative/gtdx_v4_neg_quotesig_0x27C.dat 2026-06-01T00:00:00Z - -
sev-snp/gsev_milan_v2_report.bin 2026-06-01T00:00:00Z sev-snp/gsev_milan_vcek.der b07af962
sev-snp/trustee_milan_v2_idblock_report.bin 2026-06-01T00:00:00Z sev-snp/trustee_milan_vcek.der a1f39304
sev-snp/trustee_milan_v3_vlek_report.bin 2025-06-01T00:00:00Z sev-snp/trustee_milan_vlek.der 8922ebbd
sev-snp/teekit_gcp_milan_v5_report.bin 2026-06-01T00:00:00Z sev-snp/teekit_gcp_milan_vcek.pem b747d554
sev-snp/teekit_gcp_milan_v5_reportdata_report.bin 2026-06-01T00:00:00Z sev-snp/teekit_gcp_milan_vcek.pem b747d554
sev-snp/azure_genoa_v3_report.bin 2026-06-01T00:00:00Z sev-snp/azure_genoa_vcek.pem f57dc09a
sev-snp/negative/trustee_milan_v2_neg_byte042.bin 2026-06-01T00:00:00Z sev-snp/trustee_milan_vcek.der -
sev-snp/negative/trustee_milan_v2_neg_byte384.bin 2026-06-01T00:00:00Z sev-snp/trustee_milan_vcek.der -
sev-snp/negative/gsev_milan_v2_neg_sig_r_0x2A0.bin 2026-06-01T00:00:00Z sev-snp/gsev_milan_vcek.der -
sev-snp/negative/gsev_milan_v2_neg_reportdata_0x050.bin 2026-06-01T00:00:00Z sev-snp/gsev_milan_vcek.der -
sev-snp/trustee_milan_v2_idblock_report.bin 2026-06-01T00:00:00Z sev-snp/negative/trustee_vcek_tampered_hwid_legacy.der -
sev-snp/trustee_milan_v2_idblock_report.bin 2026-06-01T00:00:00Z sev-snp/negative/trustee_vcek_tampered_hwid_octetstring.der -
LIST

coll=$(cd "$(dirname "$0")/../verify" && pwd)/data/tdx-collateral
run 1 "T1 with Intel PCS collateral (no TCB level matches)" --json --at 2023-07-01T00:00:00Z --collateral "$coll" "$T1"
json "any('below every TCB level' in e for e in j['errors']) and any('QE identity (TD_QE, ISVSVN 4): UpToDate' in c for c in j['checks']) and j['tcb_status']==''" \
	"collateral JSON: TCB error, QE status, no tcb_status"

run 2 "no arguments" 
run 2 "unknown --type" --type sgx "$T1"
run 2 "bad --at" --at 2026-13-01T00:00:00Z "$T1"
run 2 "bad --report-data" --report-data xyz "$T1"
run 2 "missing evidence file" "$tmp/nonexistent"
run 2 "two evidence files" "$T1" "$T1"
run 1 "unknown format" "$tmp/ok.policy"
grep -q "evidence type not detected" "$tmp/out" && grep -q "expected: TDX quote" "$tmp/out"
ok $? "unknown format: the error says what was expected"

# issue 11 item 4: a path named by an option that does not exist is an
# I/O error (exit 2), not an invalid verdict (exit 1).
run 2 "missing --certs directory" --certs "$tmp/no-such-dir" $at "$S1"
grep -q -- "--certs $tmp/no-such-dir: No such file" "$tmp/err"; ok $? "missing --certs named on stderr"
run 2 "missing --collateral directory" --collateral "$tmp/no-such-dir" $at "$T1"
run 2 "missing --roots directory" --roots "$tmp/no-such-dir" $at "$T1"
run 2 "--roots naming a file" --roots "$T1" $at "$T1"
run 2 "missing --cpak file" --cpak "$tmp/no-such.pem" "$ev/cca/veraison_tfrmm_cca_token.cbor"
run 2 "missing --policy file" --policy "$tmp/no-such.policy" $at "$T1"

# CCA: a text section and the JSON fields; --cpak as a JWK.
C1=$ev/cca/veraison_tfrmm_cca_token.cbor
run 0 "C1 text output" --cpak "$ev/cca/tfrmm_cpak_pub.pem" "$C1"
grep -q '^platform_profile: *http://arm.com/CCA-SSD/1.0.0' "$tmp/out" &&
	grep -q '^rem0: ' "$tmp/out" && grep -q '^realm_pub_key: ' "$tmp/out" &&
	grep -q '^platform_lifecycle: ' "$tmp/out"
ok $? "C1 text output has a CCA section (profile, REMs, RAK, lifecycle)"
run 0 "C1 --json" --json --cpak "$ev/cca/tfrmm_cpak_pub.pem" "$C1"
json "j['cca']['platform_instance_id'].startswith('01') and len(j['cca']['platform_instance_id'])==66 and j['cca']['platform_hash_alg']!='' and j['cca']['platform_sw_components']>0 and len(j['cca']['realm_pub_key'])>0 and j['cca']['realm_pub_key_hash_alg']!=''" \
	"C1 JSON: instance id, hash algorithm, components, realm key"
python3 - "$ev/cca/tfrmm_cpak_pub.pem" "$tmp" <<'PY'
import base64, json, sys
from cryptography.hazmat.primitives.serialization import load_pem_public_key
k = load_pem_public_key(open(sys.argv[1], 'rb').read()).public_numbers()
b = lambda n: base64.urlsafe_b64encode(n.to_bytes(48, 'big')).rstrip(b'=').decode()
jwk = {'kty': 'EC', 'crv': 'P-384', 'x': b(k.x), 'y': b(k.y)}
open(sys.argv[2] + '/cpak.jwk', 'w').write(json.dumps(jwk))
jwk['y'] = b(k.y ^ 1)
open(sys.argv[2] + '/bad.jwk', 'w').write(json.dumps(jwk))
jwk['crv'] = 'P-256'
open(sys.argv[2] + '/p256.jwk', 'w').write(json.dumps(jwk))
PY
run 0 "--cpak as an EC JWK" --json --cpak "$tmp/cpak.jwk" "$C1"
json "any('platform token signature' in c for c in j['checks'])" "JWK CPAK verifies the platform token"
run 1 "--cpak JWK off the curve" --json --cpak "$tmp/bad.jwk" "$C1"
json "any('JWK: not a point of the curve' in e for e in j['errors'])" "JWK off the curve named"
run 1 "--cpak JWK with a wrong-size coordinate" --json --cpak "$tmp/p256.jwk" "$C1"

# TDX 1.5 and the QE in JSON; SNP fields.
run 0 "TDX v5 (1.5 body) --json" --json --at 2026-02-03T00:00:00Z "$ev/tdx/gtdx_v5_quote.dat"
json "j['tdx']['body_type']==3 and len(j['tdx']['tee_tcb_svn2'])==32 and len(j['tdx']['mrservicetd'])==96 and j['tdx']['qe']['mrsigner'].startswith('dc9e2a7c') and j['tdx']['qe']['isvprodid']==2" \
	"TDX 1.5 JSON: body type, TEE_TCB_SVN2, MRSERVICETD, QE identity"
run 0 "T1 --json (TDX 1.0 body)" --json $at "$T1"
json "j['tdx']['body_type']==2 and j['tdx']['mrservicetd'] is None and j['tdx']['seam_attributes']=='0000000000000000'" \
	"TDX 1.0 JSON: 1.5 fields null"
mkdir -p "$tmp/gcerts" && cp "$ev/sev-snp/azure_genoa_vcek.pem" "$tmp/gcerts/"
run 0 "S6 (Genoa v3) --json" --json $at --certs "$tmp/gcerts" "$ev/sev-snp/azure_genoa_v3_report.bin"
json "j['snp']['cpuid']['family']==25 and j['snp']['platform_info'].startswith('0x') and len(j['snp']['report_id'])==64 and j['snp']['current_version'].count('.')==2 and j['snp']['launch_mit_vector'] is None" \
	"SNP v3 JSON: CPUID, platform info, report id, firmware version"

# UTF-8 paths: named in errors, valid JSON, the name kept as UTF-8.
u8="$tmp/évidence-ü"
mkdir -p "$u8/coll" && cp "$T1" "$u8/quote.dat"
run 1 "UTF-8 paths" --json $at --collateral "$u8/coll" "$u8/quote.dat"
json "any('évidence-ü/coll' in e for e in j['errors'])" "UTF-8 path kept in the JSON error"

if command -v "$valgrind" >/dev/null 2>&1; then
	"$valgrind" -q --leak-check=full --error-exitcode=99 "$cli" --json $at \
		--certs "$tmp/certs" --policy "$tmp/ok.policy" "$S1" >/dev/null 2>"$tmp/vg"
	rc=$?
	[ $rc -eq 0 ]; ok $? "valgrind: S1 with policy, no leak or error (exit $rc)"
	[ $rc -eq 0 ] || sed 's/^/# /' "$tmp/vg" | head -30
	"$valgrind" -q --leak-check=full --error-exitcode=99 "$cli" $at \
		"$ev/tdx/negative/gtdx_v4_neg_pckleaf_0xB77.dat" >/dev/null 2>"$tmp/vg"
	rc=$?
	[ $rc -eq 1 ]; ok $? "valgrind: invalid TDX quote, no leak or error (exit $rc)"
	[ $rc -eq 1 ] || sed 's/^/# /' "$tmp/vg" | head -30
else
	ok 1 "valgrind not installed (tools/install-deps)"
fi

tap_done
