#!/usr/bin/env bash
# Resolves the Apache Kafka broker (Maven artifact org.apache.kafka:kafka_2.13 plus its runtime dependencies and a
# logging backend) into a cache folder of jars, for tests that run a real single-node KRaft broker without docker
# (test/kafka/broker.ts). Idempotent: a marker file makes a second run return at once.
#
#   scripts/kafka/fetch-kafka.sh            # prints the folder of jars on stdout (last line)
#   DRIFTWATCH_KAFKA_HOME=/some/dir scripts/kafka/fetch-kafka.sh
#
# Needs Java and Maven (mvn) and access to Maven Central (or a mirror configured in ~/.m2/settings.xml).
set -euo pipefail

KAFKA_VERSION=3.9.1
SLF4J_VERSION=1.7.36
here="$(cd "$(dirname "$0")" && pwd)"
home="${DRIFTWATCH_KAFKA_HOME:-$HOME/.cache/driftwatch/kafka-$KAFKA_VERSION}"
libs="$home/libs"
marker="$libs/.complete-kafka_2.13-$KAFKA_VERSION"

if [[ -f "$marker" ]]; then
  echo "kafka $KAFKA_VERSION jars (cached): $libs" >&2
  echo "$libs"
  exit 0
fi

command -v mvn >/dev/null || { echo "fetch-kafka: mvn (Maven) is not installed" >&2; exit 1; }
command -v java >/dev/null || { echo "fetch-kafka: java is not installed" >&2; exit 1; }

mkdir -p "$home"
# One fetch at a time (two test runs starting together); the second finds the marker once the first is done.
if command -v flock >/dev/null; then
  exec 9>"$home/.lock"
  flock -w 900 9 || { echo "fetch-kafka: timed out waiting for another fetch ($home/.lock)" >&2; exit 1; }
  if [[ -f "$marker" ]]; then
    echo "$libs"
    exit 0
  fi
fi
work="$(mktemp -d "$home/.fetch.XXXXXX")"
trap 'rm -rf "$work"' EXIT

sed -e "s/@KAFKA_VERSION@/$KAFKA_VERSION/" -e "s/@SLF4J_VERSION@/$SLF4J_VERSION/" "$here/pom.xml" > "$work/pom.xml"
echo "fetch-kafka: resolving org.apache.kafka:kafka_2.13:$KAFKA_VERSION with Maven into $libs" >&2
# (Debian's Maven prints colour codes even in batch mode: strip them.)
mvn -q -B -f "$work/pom.xml" dependency:copy-dependencies \
  -DincludeScope=runtime -DoutputDirectory="$work/libs" 2>&1 | sed 's/\x1b\[[0-9;]*m//g' >&2

ls "$work/libs"/kafka_2.13-"$KAFKA_VERSION".jar >/dev/null
# Swap the folder in whole, so that a run interrupted half-way never leaves a partial folder behind the marker.
rm -rf "$libs"
mv "$work/libs" "$libs"
touch "$marker"
echo "kafka $KAFKA_VERSION jars: $libs ($(ls "$libs"/*.jar | wc -l) jars)" >&2
echo "$libs"
