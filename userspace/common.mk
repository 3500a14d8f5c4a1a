# SPDX-License-Identifier: GPL-2.0
# Shared flags for katls userspace.  Each component directory has its own
# Makefile (targets: all, check, clean) that includes this file.
TOP := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))/..)
CC ?= cc
CFLAGS ?= -O2 -g
CFLAGS += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow \
	  -Wformat=2 -Wno-unused-parameter -fstack-protector-strong \
	  -D_FORTIFY_SOURCE=2 -I$(TOP)/include/uapi -I$(TOP)/userspace/include \
	  -I$(TOP)/tests/lib
# Unit tests build separately with sanitizers.
SANFLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
	    -fno-sanitize-recover=all
GNUTLS_CFLAGS := $(shell pkg-config --cflags gnutls)
GNUTLS_LIBS := $(shell pkg-config --libs gnutls)
NL_CFLAGS := $(shell pkg-config --cflags libnl-genl-3.0)
NL_LIBS := $(shell pkg-config --libs libnl-genl-3.0)
TAP_SUMMARY := $(TOP)/tools/tap-summary

# Every component builds into build/ of its own directory (objects,
# libraries, programs; build/san for the sanitizer builds of the tests).
# Products other directories use:
B := build
KATLSD := $(TOP)/userspace/katlsd/build/katlsd
VERIFY_LIB := $(TOP)/userspace/verify/build/libkatlsverify.a
ATTEST_LIB := $(TOP)/userspace/attest/build/libkatlsattest.a
AGENT_LIB := $(TOP)/userspace/agent/build/libkatlsagent.a
LIBKATLS_A := $(TOP)/userspace/lib/build/libkatls.a
KATLS_RUN := $(TOP)/userspace/run/build/katls-run
KATLS_RUN_SO := $(TOP)/userspace/run/build/libkatls-run.so
