"""Loading a PKCS#11 module once per process (shared by the key sources and ``docsvc-signer``)."""

from __future__ import annotations

import os
from typing import Any


def load_module(module_path: str) -> Any:
    """python-pkcs11 loads a module once per path *string*; the same library reached through a
    symlink would be initialised twice (CKR_CRYPTOKI_ALREADY_INITIALIZED). Reuse it instead."""
    import pkcs11
    real = os.path.realpath(module_path)
    for loaded_path, lib in list(getattr(pkcs11, "_loaded", {}).items()):
        if os.path.realpath(loaded_path) == real:
            if not lib.initialized:
                lib.initialize()
            return lib
    return pkcs11.lib(module_path)
