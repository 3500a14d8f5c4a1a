#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# tests/sim-tsm/vm-test.sh [KO] - run inside a 6.12 guest (tools/katls-vm):
# loads katls_sim_tsm.ko unless the harness already did, runs the
# selftest (built by "make -C tests/sim-tsm selftest" on the host), checks
# the provider cannot be loaded twice, and unloads the module if it
# loaded it.  TAP output.
set -u
here=$(cd "$(dirname "$0")" && pwd)
ko=${1:-$here/katls_sim_tsm.ko}
loaded=0
if [ ! -d /sys/module/katls_sim_tsm ]; then
	if ! insmod "$ko"; then
		echo "1..1"
		echo "not ok 1 - insmod $ko"
		exit 1
	fi
	loaded=1
fi
"$here/sim_tsm_selftest"
rc=$?
if [ "$loaded" = 1 ]; then
	# Every report entry is gone: the provider can go away.
	if rmmod katls_sim_tsm && [ ! -d /sys/module/katls_sim_tsm ]; then
		echo "# rmmod katls_sim_tsm: ok"
	else
		echo "# rmmod katls_sim_tsm failed"
		rc=1
	fi
fi
exit $rc
