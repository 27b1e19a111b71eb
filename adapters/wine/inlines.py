"""Routines the headers define inline, built so the helper can call them by address.

InitializeListHead, InsertTailList, KeInitializeSpinLock: wdm.h gives their
bodies (`FORCEINLINE`), so a driver compiles them into itself and no module
exports them. To judge one, the kit calls the headers' own definition: a
small DLL per routine, compiled with the helper's cross-compiler against the
same mingw-w64 headers, whose one export `specproof_inline` takes the
routine's parameters and calls it. Its declaration comes from libclang's
reading of the headers (`sdk.typeinfo.Inline`), never from a page; a type
that is not a plain name, pointer or qualifier (a function pointer) is not
built. The DLLs are cached beside the helper, where the loader finds them
by name, keyed by their source and the compiler.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import subprocess

from specproof.sdk.locate import resolve_include_dirs
from specproof.sdk.typeinfo import Inline

from .toolchain import COMPILER, cache_root, find_compiler, helper_key, locked

#: The export every inline DLL has.
ENTRY = "specproof_inline"
_TYPE = re.compile(r"^[A-Za-z_][A-Za-z0-9_ ]*[A-Za-z0-9_ *]*$")


def inline_source(inline: Inline) -> str | None:
    """The C source of `inline`'s DLL, or None when its declaration is not one the kit writes out."""
    if not inline.name.isidentifier() or not all(_TYPE.match(t) for t in (inline.result, *inline.params)):
        return None
    kernel = any((folder / "ddk" / inline.header).is_file() for folder in resolve_include_dirs(None))
    params = ", ".join(f"{ctype} a{i}" for i, ctype in enumerate(inline.params)) or "void"
    args = ", ".join(f"a{i}" for i in range(len(inline.params)))
    call = f"{inline.name}({args});"
    body = call if inline.result.strip() in ("void", "VOID") else f"return {call}"
    return (f"/* {inline.name} as {inline.header} defines it, callable by address (built by specproof) */\n"
            f"#include <{'ntifs.h' if kernel else 'windows.h'}>\n"
            f"__declspec(dllexport) {inline.result} {ENTRY}({params}) {{ {body} }}\n")


@functools.cache
def build_inline(inline: Inline) -> str | None:
    """The file name of `inline`'s DLL beside the helper, built now if need be; None when it cannot be.
    Asked at each call of the routine, so answered once a process (the compiler's version is a process to
    run)."""
    source = inline_source(inline)
    if source is None:
        return None
    compiler = find_compiler()
    digest = hashlib.sha256(f"{helper_key(compiler)}\0{source}".encode()).hexdigest()[:12]
    name = f"inline-{inline.name}-{digest}.dll"
    target = cache_root() / name
    if target.exists():
        return name
    dirs = resolve_include_dirs(None)
    includes = [f"-I{folder / 'ddk'}" for folder in dirs if (folder / "ddk").is_dir()]
    with locked("build"):
        if target.exists():
            return name
        written = target.with_suffix(f".{os.getpid()}.c")
        partial = target.with_suffix(f".{os.getpid()}.tmp")
        written.write_text(source)
        try:
            done = subprocess.run([str(compiler), "-shared", "-O1", *includes, "-o", str(partial), str(written),
                                   "-lntoskrnl"], capture_output=True, text=True, timeout=300)
        finally:
            written.unlink(missing_ok=True)
        if done.returncode != 0:
            partial.unlink(missing_ok=True)
            raise RuntimeError(f"{COMPILER} could not build {inline.name} from {inline.header}:\n{done.stderr.strip()}")
        os.replace(partial, target)
    return name
