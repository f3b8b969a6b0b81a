# The two commands of the README, and a few helpers.
.PHONY: up down test deps build sql install

deps:
	@scripts/install-deps

## Bring the system up: a local PostgreSQL (or $$DATABASE_URL) with the auth schema installed.
up: deps
	swift run pgperm up

down:
	swift run pgperm down

## Run every test against a disposable PostgreSQL the tests start themselves, then fuzz the
## HTTP APIs against their OpenAPI documents and drive the admin page in Chromium.
test: deps
	swift build
	swift test --skip SecurityTimeoutTests
	@# The slow-connection attacks alone as well: their bounds are timings, and a parallel run on
	@# 2 cores once starved them for over 90 s (tests waiting for child processes; see offThePool).
	swift test --skip-build --filter SecurityTimeoutTests
	scripts/fuzz-api
	scripts/browser-test

build: deps
	swift build

## Print the full install script for psql.
sql:
	@swift run --quiet pgperm sql

## Build the command in release mode and put it on PATH as /usr/local/bin/pgperm.
install: deps
	swift build -c release --product pgperm
	install -m 755 .build/release/pgperm $${PREFIX:-/usr/local}/bin/pgperm
