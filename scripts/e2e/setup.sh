#!/usr/bin/env bash
# Installs what the real-VS-Code end-to-end tests and `npm start` need, idempotently:
#   - Debian packages: chromium (the browser Playwright drives), libkrb5-dev + pkg-config (code-server's kerberos
#     native module), ripgrep (code-server's search binary, fed to @vscode/ripgrep from its download cache because
#     its postinstall cannot download); make, g++, python3 for node-gyp (normally already on the machine);
#   - code-server 4.100.3 (embeds VS Code 1.100.3; newer ones need Node 22) into .e2e/code-server (gitignored).
# Safe to run again: each step is skipped when its result is already present and working.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT="$PWD"
CODE_SERVER_VERSION=4.100.3
PREFIX="$ROOT/.e2e/code-server"
BIN="$PREFIX/node_modules/.bin/code-server"

log() { echo "[e2e setup] $*"; }

# --- Debian packages --------------------------------------------------------------------------------------------
missing=()
for pkg in chromium libkrb5-dev pkg-config ripgrep make g++ python3; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$pkg")
  fi
done
if [ "${#missing[@]}" -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
  log "installing Debian packages: ${missing[*]}"
  $SUDO apt-get -o DPkg::Lock::Timeout=900 update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  log "Debian packages present"
fi

# --- code-server --------------------------------------------------------------------------------------------------
works() {
  [ -x "$BIN" ] && "$BIN" --version 2>/dev/null | grep -q "^$CODE_SERVER_VERSION"
}
if works; then
  log "code-server $CODE_SERVER_VERSION present in .e2e/code-server"
  exit 0
fi

log "installing code-server@$CODE_SERVER_VERSION into .e2e/code-server (about 2 minutes)"
rm -rf "$PREFIX"
mkdir -p "$PREFIX"
WORK_TMP="$(mktemp -d)"
trap 'rm -rf "$WORK_TMP"' EXIT

# @vscode/ripgrep's postinstall looks in $TMPDIR/vscode-ripgrep-cache-<its version>/ before downloading:
# give it Debian's rg packed the way the release archive is (rg at the root).
RG="$(command -v rg)"
tar -C "$(dirname "$RG")" -czf "$WORK_TMP/rg.tar.gz" rg
for v in 1.15.9 1.15.10 1.15.11 1.15.12 1.15.13 1.15.14; do
  for target in x86_64-unknown-linux-musl x86_64-unknown-linux-gnu; do
    for rgv in v13.0.0-10 v13.0.0-13 v13.0.0-4; do
      mkdir -p "$WORK_TMP/vscode-ripgrep-cache-$v"
      cp "$WORK_TMP/rg.tar.gz" "$WORK_TMP/vscode-ripgrep-cache-$v/ripgrep-$rgv-$target.tar.gz"
    done
  done
done

echo '{"name":"keras-lens-e2e-code-server","private":true}' > "$PREFIX/package.json"
(
  cd "$PREFIX"
  export TMPDIR="$WORK_TMP"
  export npm_config_unsafe_perm=true   # root: let install scripts run as root
  export npm_config_yes=true           # node-pty's install runs `npx node-gyp`
  npm install --no-audit --no-fund --no-save --loglevel=error "code-server@$CODE_SERVER_VERSION"
)

if works; then
  log "code-server $("$BIN" --version | head -1) installed"
else
  log "code-server did not install correctly"
  "$BIN" --version || true
  exit 1
fi
