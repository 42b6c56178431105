#!/usr/bin/env bash
# Builds the pcb release bundle from cli's packaged jars: a Java runtime cut with jlink to the modules pcb needs,
# the jars, bin/pcb, the systemd units, bash completion and the docs, as pcb-VERSION-linux-x86_64.tar.gz, and the
# same tree as a .deb when dpkg-deb is present. Run by cli's package phase (exec-maven-plugin), see docs/install.md.
#
# usage: build-bundle.sh JAVA_HOME VERSION CLI_TARGET SOURCE_ROOT
#   JAVA_HOME    the JDK whose jlink cuts the runtime (the JDK running Maven); the bundle's Java is that version.
#   CLI_TARGET   cli/target, holding pcb.jar, lib/ and classes/dev/pcb/cli/jvm-flags.txt; output goes to its dist/.
set -euo pipefail
JDK="$1"
VERSION="$2"
TARGET="$(cd "$3" && pwd)"
ROOT="$(cd "$4" && pwd)"

# What `jdeps --print-module-deps` finds for pcb.jar and lib/*.jar, less java.desktop (only JNA's AWT helper
# com.sun.jna.Native$AWT and a Chronicle CPU cooler use it, neither on pcb's paths), plus jdk.compiler, which the
# --add-exports/--add-opens flags of jvm-flags.txt name. BundleTest checks this list against jdeps.
MODULES=java.base,java.compiler,java.logging,java.management,java.naming,jdk.httpserver,jdk.unsupported,jdk.compiler

NAME="pcb-$VERSION"
OUT="$TARGET/dist"
WORK="$OUT/work"
TREE="$WORK/$NAME"
TARBALL="$OUT/$NAME-linux-x86_64.tar.gz"
mkdir -p "$WORK"

JLINK="$JDK/bin/jlink"
[[ -x "$JLINK" ]] || { echo "pcb dist: no jlink in $JDK (a JRE, not a JDK?)" >&2; exit 1; }
FEATURE="$("$JLINK" --version)"
FEATURE="${FEATURE%%.*}"
# --compress=2 is JDK 17's zip level; JDK 21 deprecated the numbers for zip-N.
if (( FEATURE >= 21 )); then COMPRESS=zip-6; else COMPRESS=2; fi

# The runtime depends only on the JDK and the module list: keep it between builds that do not clean.
KEY="$(readlink -f "$JDK") $("$JLINK" --version) $MODULES $COMPRESS cds-coops-only"
RUNTIME="$WORK/runtime"
if [[ ! -f "$RUNTIME.key" || "$(cat "$RUNTIME.key")" != "$KEY" || ! -x "$RUNTIME/bin/java" ]]; then
    rm -rf "$RUNTIME" "$RUNTIME.key"
    start=$SECONDS
    # --generate-cds-archive: the JDK's classes come from a class-data sharing archive, not parsed out of the
    # compressed module image at every start (docs/install.md, "Start-up"); the archive for heaps past 32 GB is
    # left out (11 MB; pcb's JVMs are far smaller, and such a JVM only starts without sharing).
    "$JLINK" --add-modules "$MODULES" --compress="$COMPRESS" --strip-debug --no-header-files --no-man-pages \
        --generate-cds-archive --output "$RUNTIME"
    rm -f "$RUNTIME/lib/server/classes_nocoops.jsa"
    echo "$KEY" > "$RUNTIME.key"
    echo "pcb dist: jlink (JDK $FEATURE, $MODULES) took $((SECONDS - start)) s"
fi

rm -rf "$TREE"
mkdir -p "$TREE/bin" "$TREE/lib" "$TREE/systemd" "$TREE/completion" "$TREE/docs"
cp -a "$RUNTIME" "$TREE/runtime"
cp "$TARGET/pcb.jar" "$TARGET"/lib/*.jar "$TREE/lib/"
FLAGS="$(cat "$TARGET/classes/dev/pcb/cli/jvm-flags.txt")"
if (( FEATURE >= 24 )); then
    FLAGS="$FLAGS --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow"
fi
echo "$FLAGS" > "$TREE/lib/jvm-flags.txt"
install -m 0755 "$ROOT/dist/pcb.sh" "$TREE/bin/pcb"
cp "$ROOT/dist/pcb-broker.service" "$ROOT/dist/pcb-broker.conf" "$ROOT/dist/pcb-mount@.service" "$TREE/systemd/"
cp "$ROOT/README.md" "$TREE/"
cp "$ROOT"/docs/*.md "$TREE/docs/"
echo "$VERSION" > "$TREE/VERSION"

# Completion from the command's own model, so it lists every subcommand and option of this build.
# shellcheck disable=SC2086 # the flags are one line of words
"$TREE/runtime/bin/java" $FLAGS -cp "$TREE/lib/*" picocli.AutoComplete --force -n pcb \
    -o "$TREE/completion/pcb.bash" dev.pcb.cli.Pcb

rm -f "$OUT"/*.tar.gz "$OUT"/*.deb
tar --owner=0 --group=0 --numeric-owner --sort=name -C "$WORK" -czf "$TARBALL" "$NAME"

# The .deb: the same tree under /opt/pcb, /usr/bin/pcb, the units where systemd looks, the broker's settings as a
# conffile (kept on upgrade), completion where bash-completion looks.
if command -v dpkg-deb >/dev/null; then
    DEB_VERSION="${VERSION//-/\~}"
    DEBROOT="$WORK/deb"
    rm -rf "$DEBROOT"
    mkdir -p "$DEBROOT/DEBIAN" "$DEBROOT/opt" "$DEBROOT/usr/bin" "$DEBROOT/lib/systemd/system" "$DEBROOT/etc/pcb" \
        "$DEBROOT/usr/share/bash-completion/completions"
    cp -al "$TREE" "$DEBROOT/opt/pcb"
    ln -s /opt/pcb/bin/pcb "$DEBROOT/usr/bin/pcb"
    cp "$TREE/systemd/pcb-broker.service" "$TREE/systemd/pcb-mount@.service" "$DEBROOT/lib/systemd/system/"
    cp "$TREE/systemd/pcb-broker.conf" "$DEBROOT/etc/pcb/"
    cp "$TREE/completion/pcb.bash" "$DEBROOT/usr/share/bash-completion/completions/pcb"
    cat > "$DEBROOT/DEBIAN/control" <<EOF
Package: pcb
Version: $DEB_VERSION
Architecture: amd64
Maintainer: pcb developers <pcb@localhost>
Depends: libc6, libstdc++6, libgcc-s1, zlib1g
Recommends: fuse3
Section: admin
Priority: optional
Installed-Size: $(du -sk --exclude=DEBIAN "$DEBROOT" | cut -f1)
Description: shared page-cache broker for virtual machines
 pcb lets many VMs on one host read the same host files through one copy in host memory, zero-copy, through
 ivshmem regions. This package holds the pcb command with its own Java runtime (no JDK needed), the systemd
 units pcb-broker.service (hosts) and pcb-mount@.service (guests), and bash completion.
EOF
    echo /etc/pcb/pcb-broker.conf > "$DEBROOT/DEBIAN/conffiles"
    dpkg-deb --root-owner-group -Zgzip -z1 -b "$DEBROOT" "$OUT/pcb_${DEB_VERSION}_amd64.deb" >/dev/null
fi

echo "pcb dist: $(du -sh "$TREE" | cut -f1) unpacked, $(du -h "$TARBALL" | cut -f1) as $(basename "$TARBALL")"
echo "$TARBALL"
