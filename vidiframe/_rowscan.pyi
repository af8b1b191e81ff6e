"""Type stub of the C accelerator built from ``_rowscan.c``."""

def scan(
    data: bytes | bytearray | memoryview, keys: tuple[bytes, ...], kinds: bytes, threads: int, /
) -> tuple[bytes, int, bytes] | str: ...
