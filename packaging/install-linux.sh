#!/bin/sh
# Install TOHtrack for the current user, without root, from an unpacked TOHtrack-*-linux-*.tar.gz:
#   ./install-linux.sh               install, or update an earlier install
#   ./install-linux.sh --uninstall   remove it again (also works from the installed copy)
#   --prefix DIR                     install under DIR instead of ~/.local
# It puts the app in PREFIX/lib/TOHtrack, a `tohtrack` command in PREFIX/bin, and the menu entry, the AppStream
# metainfo and the icons under PREFIX/share. The clinic database (in ~/.local/share/tohtrack/ unless
# TOHTRACK_DB says otherwise) and the app's settings are never touched, by install or uninstall.
set -eu

APP_ID=org.tohtrack.TOHtrack
PREFIX="${HOME}/.local"
ACTION=install
while [ $# -gt 0 ]; do
    case "$1" in
        --uninstall) ACTION=uninstall ;;
        --prefix) [ $# -ge 2 ] || { echo "install-linux.sh: --prefix needs a folder" >&2; exit 2; }
                  PREFIX="$2"; shift ;;
        --prefix=*) PREFIX="${1#--prefix=}" ;;
        -h|--help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "install-linux.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
    esac
    shift
done
case "$PREFIX" in
    /*) ;;
    *) PREFIX="$(pwd)/$PREFIX" ;;
esac

SOURCE="$(cd "$(dirname "$0")" && pwd -P)"
APP_DIR="$PREFIX/lib/TOHtrack"
BIN_DIR="$PREFIX/bin"
SHARE="$PREFIX/share"
ICON_SIZES="16 24 32 48 64 128 256 512"

is_bundle() {  # a TOHtrack bundle folder: the executable and PyInstaller's _internal beside it
    [ -f "$1/tohtrack" ] && [ -x "$1/tohtrack" ] && [ -d "$1/_internal" ]
}

refresh_caches() {
    if command -v update-desktop-database >/dev/null 2>&1; then
        update-desktop-database -q "$SHARE/applications" 2>/dev/null || true
    fi
    if command -v gtk-update-icon-cache >/dev/null 2>&1; then
        gtk-update-icon-cache -q -t "$SHARE/icons/hicolor" 2>/dev/null || true
    fi
}

uninstall() {
    if [ -e "$APP_DIR" ] && ! is_bundle "$APP_DIR"; then
        echo "install-linux.sh: $APP_DIR is not a TOHtrack installation; left as it is" >&2
        exit 1
    fi
    if [ -L "$BIN_DIR/tohtrack" ] && [ "$(readlink "$BIN_DIR/tohtrack")" = "$APP_DIR/tohtrack" ]; then
        rm -f "$BIN_DIR/tohtrack"
    fi
    rm -f "$SHARE/applications/$APP_ID.desktop" "$SHARE/metainfo/$APP_ID.metainfo.xml" \
          "$SHARE/icons/hicolor/scalable/apps/$APP_ID.svg"
    for size in $ICON_SIZES; do
        rm -f "$SHARE/icons/hicolor/${size}x${size}/apps/$APP_ID.png"
    done
    rm -rf "$APP_DIR"
    refresh_caches
    echo "TOHtrack removed from $PREFIX; the database and settings were kept."
}

install() {
    if ! is_bundle "$SOURCE" || [ ! -d "$SOURCE/share/applications" ]; then
        echo "install-linux.sh: run the copy inside an unpacked TOHtrack folder (no TOHtrack bundle in $SOURCE)" >&2
        exit 1
    fi
    case "$APP_DIR" in
        *\"*|*\`*|*\$*|*\\*) echo "install-linux.sh: the folder $APP_DIR has a character a menu entry cannot hold" >&2
                            exit 1 ;;
    esac
    if [ -e "$APP_DIR" ] && ! is_bundle "$APP_DIR"; then
        echo "install-linux.sh: $APP_DIR exists and is not a TOHtrack installation; move it away first" >&2
        exit 1
    fi
    mkdir -p "$PREFIX/lib" "$BIN_DIR" "$SHARE/applications" "$SHARE/metainfo"
    if [ "$SOURCE" != "$(cd "$PREFIX/lib" && pwd -P)/TOHtrack" ]; then
        # Copy beside the old version, then swap, so a failed copy leaves the old one working.
        rm -rf "$APP_DIR.new"
        cp -R "$SOURCE" "$APP_DIR.new"
        rm -rf "$APP_DIR"
        mv "$APP_DIR.new" "$APP_DIR"
    fi
    if [ -e "$BIN_DIR/tohtrack" ] && [ ! -L "$BIN_DIR/tohtrack" ]; then
        echo "note: $BIN_DIR/tohtrack is another program (a pip install?); left as it is." \
             "Run $APP_DIR/tohtrack, or remove that one and install again."
    else
        ln -sfn "$APP_DIR/tohtrack" "$BIN_DIR/tohtrack"
    fi
    sed -e "s|^Exec=.*|Exec=\"$APP_DIR/tohtrack\"|" -e "s|^TryExec=.*|TryExec=$APP_DIR/tohtrack|" \
        "$APP_DIR/share/applications/$APP_ID.desktop" > "$SHARE/applications/$APP_ID.desktop"
    cp "$APP_DIR/share/metainfo/$APP_ID.metainfo.xml" "$SHARE/metainfo/"
    for size in $ICON_SIZES scalable; do
        [ "$size" = scalable ] && dir=scalable || dir="${size}x${size}"
        mkdir -p "$SHARE/icons/hicolor/$dir/apps"
        cp "$APP_DIR/share/icons/hicolor/$dir/apps/"* "$SHARE/icons/hicolor/$dir/apps/"
    done
    refresh_caches
    echo "TOHtrack $("$APP_DIR/tohtrack" --version | sed 's/^TOHtrack //') installed in $APP_DIR;" \
         "it is in the applications menu, and 'tohtrack' runs it from a terminal."
    case ":${PATH:-}:" in
        *":$BIN_DIR:"*) ;;
        *) echo "note: $BIN_DIR is not on your PATH: add it, or run $APP_DIR/tohtrack" ;;
    esac
}

"$ACTION"
