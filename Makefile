# SPDX-License-Identifier: GPL-2.0
#
# katls top-level Makefile.
#
#   make               module (Debian 6.12 headers, or KDIR=...) + userspace
#   make check         deps, the shared build, then unit, kunit (with the
#                      ynl-gen check), vm-check's three parts, dkms-check,
#                      deb-check and systemd-e2e, two at a time; prints
#                      "check: N passed, N failed"
#   make soak          the long chaos run (issue 16 item 1) in a 6.12 guest
#                      of its own, SOAK_SECS (1200) of faults and
#                      connections; prints "soak: N passed, N failed"
#   make demo-serving  nginx and 64 clients under katls-run in a 6.12 guest
#                      (the full serving scenario, with its figures)
#   make install       everything a host needs, below DESTDIR (PREFIX,
#                      default /usr, see "install" below)
#   make deb           the Debian packages (dpkg-buildpackage -b -us -uc)
#                      in $(DEB_OUT), default build/deb
#
# Kernel objects are built out of the work tree, below
# $(KATLS_CACHE)/build/<kernelrelease> (see tools/katls-vm build).
KATLS_CACHE ?= /var/cache/katls
export KATLS_CACHE
KDIR ?=

.PHONY: all module module-6.1 userspace deps unit kunit vm-check check soak demo demo-serving bench clean
.PHONY: install install-dkms install-userspace install-examples deb dkms-check deb-check systemd-e2e

all: module userspace

module:
ifneq ($(KDIR),)
	tools/katls-vm build --kdir $(KDIR)
else
	tools/katls-vm build --kernel 6.12
endif

module-6.1:
	tools/katls-vm build --kernel 6.1

userspace:
	$(MAKE) -C userspace all

deps:
	tools/install-deps

# Each stage prints its own "STAGE: N passed, N failed" lines.
# tools/debugk/test-scan-log: the debug tier's report detector on
# genuine reports of the debug kernel (host only, a second).
unit:
	@rc=0; $(MAKE) -C userspace check || rc=1; \
	tools/debugk/test-scan-log || rc=1; \
	tools/lib/test-check-stages || rc=1; \
	$(MAKE) -s -C tools/attack check || rc=1; exit $$rc

# Both need Debian's linux-source-6.12: the generated netlink files are
# checked against its ynl-gen-c.py ("ynl-gen: N passed, N failed"), then
# KUnit runs on UML.
kunit:
	@rc=0; tools/ynl-gen --check || rc=1; tools/kunit-run || rc=1; exit $$rc

# The guests start userspace/katlsd when it is built: build it first,
# but still run the tests that do not need it when it does not build.
vm-check:
	@fail=; $(MAKE) -C userspace all || \
		{ echo "userspace-build: 0 passed, 1 failed"; fail=1; }; \
	tools/vm-check --kernel 6.12 --kernel 6.1 && [ -z "$$fail" ]

# The debug-kernel tier (tools/debugk): KASAN, lockdep, KFENCE, kmemleak
# and DEBUG_ATOMIC_SLEEP on a 6.12 built once under $(KATLS_CACHE)/debugk;
# the VM tests with 2 vCPUs (single-threaded TCG); DEBUGK_ARGS=--e2e adds
# the 6.12 end-to-end list (long).
.PHONY: debug-check
debug-check:
	@fail=; $(MAKE) -C userspace all || \
		{ echo "debug-userspace-build: 0 passed, 1 failed"; fail=1; }; \
	tools/debugk/debug-check $(DEBUGK_ARGS) && [ -z "$$fail" ]

# make check's debug-kernel stage: the guest of debug-check (and, the first
# time, the debug kernel's build); the scanner's host test is in make unit.
.PHONY: vm-debug
vm-debug:
	@tools/debugk/debug-check --no-scan-test

# make check: everything the stages share is built first (check-build),
# then the stages run two at a time, longest first (a TCG guest keeps one
# core busy; tools/lib/check-stages prints each stage's output whole).
# CHECK_JOBS=1 runs them one by one.
CHECK_JOBS ?= 2
CHECK_STAGES := vm-e2e systemd-e2e vm-debug vm-selftest unit vm-kernel \
	deb-check vm-pair kunit dkms-check

.PHONY: check-build vm-kernel vm-selftest vm-e2e
check-build:
	$(MAKE) -C userspace all
	tools/katls-vm build --kernel 6.12
	tools/katls-vm build --kernel 6.1
	$(MAKE) -s -C tests/vm all e2e-prep
	$(MAKE) -s -C tests/ktls-selftest KVER=6.12 cmd >/dev/null
	$(MAKE) -s -C tests/ktls-selftest KVER=6.1 cmd >/dev/null

# The parts of vm-check, for make check to run side by side.
vm-kernel vm-selftest vm-e2e:
	@fail=; $(MAKE) -C userspace all || \
		{ echo "userspace-build: 0 passed, 1 failed"; fail=1; }; \
	tools/vm-check --part $(@:vm-%=%) && [ -z "$$fail" ]

# vm-pair: a 6.12 server and a 6.1 client guest (then 6.12 and 6.12) over
# virtio-net, tools/vm-pair ("vm-pair: N passed, N failed").
.PHONY: vm-pair
vm-pair:
	@fail=; $(MAKE) -s -C userspace all || \
		{ echo "userspace-build: 0 passed, 1 failed"; fail=1; }; \
	tools/vm-pair && [ -z "$$fail" ]

check: deps
	@tools/lib/check-stages -j $(CHECK_JOBS) --first check-build \
		$(CHECK_STAGES)

# Long chaos run (not part of check; the short run is in vm-check's e2e
# stage).
soak:
	@tools/chaos/soak

# Benchmarks (not tests): ratios measured side by side in the 6.12 guest.
bench:
	tools/bench/run $(BENCH_ARGS)

demo:
	@if [ -x tools/demo ]; then exec tools/demo; \
	else echo "make demo: tools/demo does not exist yet" >&2; exit 1; fi

# The inference-serving scenario in full (tests/e2e/serving/serving.sh
# --full in a 6.12 guest): nginx under katls-run --server, 64 clients
# under katls-run, throughput and handshake figures.  The short version
# runs in make check's 6.12 e2e stage.
demo-serving:
	@tools/demo-serving

# ---------------------------------------------------------------------
# install: what a host needs, for packaging (debian/rules) and by hand.
#   make install [DESTDIR=/tmp/root] [PREFIX=/usr] [LIBDIR=...]
# PREFIX defaults to /usr, the packaging prefix (katlsd.service names
# /usr/sbin/katlsd).  Fixed whatever PREFIX is: /etc/katls (katlsd's
# configuration, the example policies as *.policy.example, never the
# simulated-TSM policy), /lib/systemd/system (the unit), /usr/src
# (the module source for DKMS: dkms looks there) and
# /usr/lib/modules-load.d/katls.conf (loads katls.ko at boot).
# Nothing of tests/ is installed (no sim TSM module, no sim policy).
PREFIX ?= /usr
DKMS_VERSION := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"$$/\1/p' dkms.conf)
DKMS_SRC := /usr/src/katls-$(DKMS_VERSION)
EXAMPLE_POLICIES := $(wildcard etc/katls/policy.d/*.policy.example)

install: install-dkms install-userspace install-examples

# The module source as dkms wants it: dkms.conf, Kbuild, kernel/ and the
# UAPI headers (include/katls/ is test-only: the sim evidence format).
install-dkms:
	install -d $(DESTDIR)$(DKMS_SRC)/kernel \
		$(DESTDIR)$(DKMS_SRC)/include/uapi/linux
	install -m 0644 dkms.conf Kbuild $(DESTDIR)$(DKMS_SRC)/
	install -m 0644 kernel/*.c kernel/*.h $(DESTDIR)$(DKMS_SRC)/kernel/
	install -m 0644 include/uapi/linux/*.h \
		$(DESTDIR)$(DKMS_SRC)/include/uapi/linux/
	install -D -m 0644 etc/modules-load.d/katls.conf \
		$(DESTDIR)/usr/lib/modules-load.d/katls.conf

# katlsd (daemon, unit, katlsd.conf, an empty policy.d), libkatls,
# katls-cat, katlsctl, katls-verify and whatever else userspace/*
# installs (katls-run when userspace/run exists).
install-userspace:
	$(MAKE) -C userspace all
	$(MAKE) -C userspace install PREFIX=$(PREFIX)

install-examples:
	install -d $(DESTDIR)/etc/katls/policy.d
	$(if $(EXAMPLE_POLICIES),install -m 0644 $(EXAMPLE_POLICIES) \
		$(DESTDIR)/etc/katls/policy.d/)

# ---------------------------------------------------------------------
# Debian packages: tools/deb-build runs dpkg-buildpackage -b -us -uc on a
# copy of the tree (dpkg-buildpackage writes to ..), so the work tree
# stays clean; the .debs, .buildinfo and .changes land in $(DEB_OUT).
DEB_OUT ?= $(CURDIR)/build/deb
deb:
	tools/deb-build --out $(DEB_OUT)

# Stages of `make check` (each prints "STAGE: N passed, N failed"):
# dkms-check: `dkms build` of the installed module source against
# Debian's 6.1 and 6.12 headers, in a private DKMS tree;
# deb-check: the packages, lintian, and each package's file list.
dkms-check:
	tools/dkms-check

deb-check:
	tools/deb-check

# systemd-e2e: the packages installed with apt on a Debian 12 guest
# booted with systemd (image cached by tools/systemd-rootfs under
# $(KATLS_CACHE)/systemd-rootfs, keyed by its package list).  About 7
# minutes once the image is cached (the guest's DKMS build under TCG is
# most of it); making the image takes 10-40 minutes, once.
systemd-e2e:
	tools/systemd-e2e

clean:
	rm -rf build/deb
	$(MAKE) -C userspace clean
	$(MAKE) -C tests/vm clean
	$(MAKE) -C tests/e2e clean
	$(MAKE) -C tests/ktls-selftest clean
	rm -rf $(KATLS_CACHE)/build
