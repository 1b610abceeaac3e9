#!/bin/bash
# The fixture checked against independent clients (swaks, smtplib), so
# that every other test can trust what it records.
set -eu
exec bash "$(dirname "$0")/../fixtures/selftest.sh"
