#!/usr/bin/env bash
# Lays out stand-in build contexts shaped like sidecar/ and operator/ after `make build`
# (Dockerfile + target/<jar> + target/lib/*.jar, the sidecar's target/native/), using the REAL
# Dockerfiles, so the image path can be proven without the real jars:
#   e2e/images/standin/build.sh /tmp/standin
#   CAPGATE_SIDECAR_CONTEXT=/tmp/standin/sidecar CAPGATE_OPERATOR_CONTEXT=/tmp/standin/operator \
#     hack/images.sh sidecar operator
set -euo pipefail
OUT=${1:?output directory}
HERE=$(cd "$(dirname "$0")" && pwd); ROOT=$(cd "$HERE/../../.." && pwd)
JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
"$JAVA_HOME/bin/javac" -d "$work/classes" "$HERE/StandIn.java" "$HERE/Lib.java"
for m in sidecar operator; do
  rm -rf "${OUT:?}/$m"; mkdir -p "$OUT/$m/target/lib"
  # The sidecar's Dockerfile copies target/native/ (its JNI libraries); the stand-in has none.
  [ "$m" = sidecar ] && mkdir -p "$OUT/$m/target/native"
  cp "$ROOT/$m/Dockerfile" "$OUT/$m/"
  "$JAVA_HOME/bin/jar" --create --file "$OUT/$m/target/lib/standin-lib.jar" -C "$work/classes" dev/capgate/standin/Lib.class
  printf 'Main-Class: dev.capgate.standin.StandIn\nClass-Path: lib/standin-lib.jar\n' > "$work/manifest"
  "$JAVA_HOME/bin/jar" --create --file "$OUT/$m/target/capgate-$m.jar" --manifest "$work/manifest" \
    -C "$work/classes" dev/capgate/standin/StandIn.class
done
echo "$OUT/sidecar $OUT/operator"
