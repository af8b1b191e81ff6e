"""Type stub of the C accelerator built from ``_rowscan.c``."""

def scan(
    data: bytes | bytearray | memoryview, keys: tuple[bytes, ...], kinds: bytes, limit: int, /
) -> tuple[bytes, int, bytes, int] | str: ...
