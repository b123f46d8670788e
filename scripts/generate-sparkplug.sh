#!/bin/sh
# Regenerates shared/wire/sparkplug/sparkplug_b_pb.ts from sparkplug_b.proto. Run from anywhere; needs
# protoc (Debian protobuf-compiler 3.21.12 was used) and the @bufbuild/protoc-gen-es pinned in package.json.
# protoc-gen-es 2.17 declares engines node>=22 but runs on Node 20: npm only warns, and the plugin does not
# use anything newer. The output is committed, so neither tool is needed to build or test the console.
set -eu
cd "$(dirname "$0")/.."
protoc \
  --plugin=protoc-gen-es=node_modules/.bin/protoc-gen-es \
  --es_out=shared/wire/sparkplug \
  --es_opt=target=ts,import_extension=none \
  -I shared/wire/sparkplug \
  sparkplug_b.proto
